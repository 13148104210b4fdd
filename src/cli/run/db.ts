// `kiln db copy`: this machine's SQLite history into a shared PostgreSQL store.
import { existsSync } from 'node:fs';
import { isPostgresUrl, openStore, resolveDbPath, StoreLocationError, type BuildStore } from '../../store/index.js';
import { copyBuilds } from '../../store/copy.js';
import type { PgEventStore } from '../../store/postgres.js';

export interface DbArgs {
  action: 'copy';
  to?: string;
  db?: string;
}

export async function runDbCommand(argv: DbArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const to = argv.to;
  if (!to || !isPostgresUrl(to)) {
    err.write(`kiln: db copy needs --to postgres://user@host:port/database, the PostgreSQL store to copy into${to ? ` (${JSON.stringify(to)} is not one)` : ''}\n`);
    return 2;
  }
  let source: BuildStore | undefined;
  let target: PgEventStore | undefined;
  try {
    const from = resolveDbPath(argv.db);
    if (!existsSync(from)) {
      err.write(`kiln: db copy: there is no kiln database at ${from} to copy from; name it with --db\n`);
      return 1;
    }
    source = await openStore({ kind: 'sqlite', path: from });
    const { PgEventStore } = await import('../../store/postgres.js');
    target = await PgEventStore.open(to);
    const report = await copyBuilds(source, target);
    out.write(`Copied ${report.copied.length} build(s) from ${source.location} to ${target.location}.\n`);
    if (report.alreadyThere.length > 0) out.write(`${report.alreadyThere.length} build(s) were already there and were left as they are.\n`);
    if (report.running.length > 0) {
      out.write(`Not copied, still running here (copy again once they end): ${report.running.join(', ')}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    err.write(`kiln: db copy failed: ${(error as Error).message}\n`);
    return error instanceof StoreLocationError ? 2 : 1;
  } finally {
    await source?.close();
    await target?.close();
  }
}
