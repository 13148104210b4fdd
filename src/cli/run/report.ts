// `kiln show <build-id> --html`: the build's report as one self-contained HTML page on stdout.
import type { BuildRecord } from '../../store/index.js';
import { buildReport, reportPage } from '../../report/index.js';
import { readBuild } from '../../view/index.js';
import { openStoreFor } from './open-store.js';
import { EXIT } from './exit.js';

export async function runShowHtml(argv: { id: string; db?: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const store = await openStoreFor('show', argv.db, err);
  if (!store) return EXIT.failed;
  try {
    let record: BuildRecord;
    try {
      record = await store.findBuild(argv.id);
    } catch (error) {
      err.write(`kiln show: ${(error as Error).message}\n`);
      return EXIT.invalid;
    }
    const { events, past, now } = await readBuild(store, record);
    const page = reportPage(buildReport(record, events, past, now));
    await new Promise<void>((resolve, reject) => out.write(page, (error) => (error ? reject(error) : resolve())));
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
