import type { CommandModule } from 'yargs';
import type { DbArgs } from '../run/db.js';

// `kiln db copy --to postgres://…`: moves a local SQLite history into a shared PostgreSQL store.
export const dbCommand: CommandModule<object, DbArgs> = {
  command: 'db <action>',
  describe: 'Manage the event store: `kiln db copy --to postgres://…` copies this SQLite history into a PostgreSQL store',
  builder: (yargs) =>
    yargs
      .positional('action', { choices: ['copy'] as const, describe: 'copy: every build of --db (with its log) into --to', demandOption: true })
      .option('to', { type: 'string', describe: 'The PostgreSQL store to copy into: a postgres:// URL (libpq PG* variables fill in the rest)' })
      .option('db', { type: 'string', describe: 'The SQLite store to copy from (default $KILN_DB, else $XDG_STATE_HOME/kiln/kiln.db)' }),
  handler: async (argv) => {
    const { runDbCommand } = await import('../run/db.js');
    process.exitCode = await runDbCommand(argv);
  },
};
