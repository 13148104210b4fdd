// `kiln show <build-id> --html`: the build's report as one self-contained HTML page on stdout.
import { BuildIdError, type BuildRecord } from '../../store/index.js';
import { buildReport, reportPage } from '../../report/index.js';
import { readBuild } from '../../view/index.js';
import { openStoreFor } from './open-store.js';
import { EXIT } from './exit.js';

export async function runShowHtml(argv: { id: string; db?: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const opened = await openStoreFor('show', argv.db, err);
  if ('exitCode' in opened) return opened.exitCode;
  const { store } = opened;
  try {
    let record: BuildRecord;
    try {
      record = await store.findBuild(argv.id);
    } catch (error) {
      if (!(error instanceof BuildIdError)) throw error;
      err.write(`kiln show: ${error.message}\n`);
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
