import type { CommandModule } from 'yargs';
import type { CacheCommandArgs } from '../run/cache.js';
import { dbOption } from './shared-options.js';

// `kiln cache ls|rm`: the build cache's checkpoints (incremental builds). Options only; the
// implementation (src/cli/run/cache.ts) is loaded when it runs.
const where = {
  zone: { type: 'string', describe: 'Zone to look in [default: SCW_DEFAULT_ZONE, the Scaleway config file, or fr-par-1]' },
  'all-zones': { type: 'boolean', describe: 'Look in every Scaleway zone' },
  'api-url': { type: 'string', describe: 'Scaleway API URL [default: SCW_API_URL, the config file, or https://api.scaleway.com]' },
  json: { type: 'boolean', default: false, describe: 'Print one JSON value' },
  db: dbOption,
} as const;

const lsCommand: CommandModule<object, CacheCommandArgs> = {
  command: 'ls',
  describe: "List the checkpoints: this store's and, by tag in the cloud, a teammate's (key, template, provisioner, age, size, hits, time saved)",
  builder: (yargs) => yargs.options(where) as never,
  handler: async (argv) => {
    const { cacheLsMain } = await import('../run/cache.js');
    process.exitCode = await cacheLsMain(argv);
  },
};

const rmCommand: CommandModule<object, CacheCommandArgs> = {
  command: 'rm [names..]',
  describe: 'Remove checkpoints, by key (or its first 8 characters) or image id, with their snapshots (a dry run unless --force)',
  builder: (yargs) =>
    yargs
      .positional('names', { type: 'string', array: true, describe: 'Checkpoint keys, key prefixes or image ids, as `kiln cache ls` shows them' })
      .options(where)
      .option('force', { type: 'boolean', default: false, describe: 'Remove them (without it: a dry run that changes nothing)' })
      .example('kiln cache rm 3f2a9c01d4e5 --force', 'Remove one checkpoint, its image and its snapshots') as never,
  handler: async (argv) => {
    const { cacheRmMain } = await import('../run/cache.js');
    process.exitCode = await cacheRmMain(argv);
  },
};

export const cacheCommand: CommandModule<object, object> = {
  command: 'cache',
  describe: "List and remove the build cache's checkpoints (incremental builds)",
  // The subcommands' options are declared here too: kiln's unknown-flag check reads the top command's.
  builder: (yargs) =>
    yargs
      .options(where)
      .option('force', { type: 'boolean', default: false, describe: 'kiln cache rm: remove them (without it: a dry run)' })
      .command(lsCommand)
      .command(rmCommand)
      .demandCommand(1, 'Give a command: kiln cache ls, or kiln cache rm <key|image-id…>') as never,
  handler: () => undefined,
};
