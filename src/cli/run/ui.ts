// `kiln ui`: serves the live view of the store (src/ui) until Ctrl-C. On a loopback address it
// needs nothing; on any other it refuses to start without KILN_UI_TOKEN, and then checks it on
// every request. The token is read from the environment only, and never printed.
import { once } from 'node:events';
import { bindProblem, gcAskOf, gcView, startUiServer, type UiServer } from '../../ui/index.js';
import { openStoreFor } from './open-store.js';
import { EXIT } from './exit.js';

export interface UiArgs {
  port: number;
  host: string;
  db?: string;
}

export async function runUiCommand(argv: UiArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const token = process.env.KILN_UI_TOKEN || undefined;
  if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65_535) {
    err.write(`kiln ui: --port ${argv.port} is not a TCP port: give a whole number from 1 to 65535 (0: any free port).\n`);
    return EXIT.invalid;
  }
  const problem = bindProblem(argv.host, token);
  if (problem) {
    err.write(`kiln ui: ${problem}\n`);
    return EXIT.invalid;
  }
  const store = await openStoreFor('ui', argv.db, err);
  if (!store) return EXIT.failed;
  let server: UiServer;
  try {
    server = await startUiServer({ store, host: argv.host, port: argv.port, ...(token ? { token } : {}), gcPlan: (params) => gcView(store, gcAskOf(params)) });
  } catch (error) {
    await store.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') err.write(`kiln ui: port ${argv.port} on ${argv.host} is already in use: choose another with --port.\n`);
    else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') err.write(`kiln ui: --host ${argv.host} is not an address of this machine.\n`);
    else err.write(`kiln ui: cannot listen on ${argv.host}:${argv.port}: ${(error as Error).message}\n`);
    return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? EXIT.invalid : EXIT.failed;
  }
  out.write(
    `kiln ui: ${server.url} — read-only view of ${store.location}` +
      (token ? `; every request needs KILN_UI_TOKEN: open ${server.url}?token=<the token>` : '') +
      '. Ctrl-C to stop.\n',
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await server.close();
  await store.close();
  return EXIT.ok;
}
