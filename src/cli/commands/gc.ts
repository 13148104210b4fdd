import type { CommandModule } from 'yargs';
import type { GcCacheArgs } from '../run/cache.js';
import { checkOutputFlags, outputOptions, type OutputArgs, dbOption } from './shared-options.js';

// `kiln gc`: options only; the implementation (src/gc/command.ts) is loaded when it runs.
export const gcCommand: CommandModule<object, GcCacheArgs & OutputArgs> = {
  command: 'gc',
  describe: 'Find (and with --force remove) the servers, volumes, snapshots, images and IPs that failed or killed builds left behind',
  builder: (yargs) =>
    yargs
      .option('older-than', {
        type: 'string',
        describe: 'Only resources at least this old, e.g. 90s, 30m, 2h; 0 = any age [default: 1h, or 0 with --build]',
      })
      .option('zone', { type: 'string', describe: 'Zone to search [default: SCW_DEFAULT_ZONE, the Scaleway config file, or fr-par-1]' })
      .option('all-zones', { type: 'boolean', describe: 'Search every Scaleway zone' })
      .option('build', { type: 'string', describe: "Only this build's resources (an id or a prefix of a known one)" })
      .option('force', { type: 'boolean', default: false, describe: 'Delete the orphans (without it: a dry run that changes nothing)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the plan and results as one JSON object' })
      .options(outputOptions)
      .check(checkOutputFlags)
      .option('db', dbOption)
      .option('api-url', { type: 'string', describe: 'Scaleway API URL [default: SCW_API_URL, the config file, or https://api.scaleway.com]' })
      .option('cache', { type: 'boolean', describe: "The build cache's checkpoints instead (images and their snapshots, which plain gc never touches) [--older-than default: 7d, or 0 with --keep]" })
      .option('keep', { type: 'number', describe: 'With --cache: keep the N newest checkpoints of each template at each provisioner, whatever their age' })
      .option('wait-timeout', { type: 'string', describe: 'How long to wait for one server to stop before giving up on it', default: '5m' })
      .example('kiln gc', 'List what would be removed (nothing is changed)')
      .example('kiln gc --build 01J… --force', 'Remove what one failed build left behind')
      .example('kiln gc --cache --keep 2 --force', 'Remove all but the 2 newest checkpoints of each template and provisioner')
      .example('kiln gc --all-zones --older-than 2h --force', 'Remove every orphan older than two hours') as never,
  handler: async (argv) => {
    if (argv.keep !== undefined && !argv.cache) {
      process.stderr.write('kiln gc: --keep counts checkpoints: it goes with --cache (kiln gc --cache --keep N).\n');
      process.exitCode = 2;
      return;
    }
    if (argv.cache) {
      const { gcCacheMain } = await import('../run/cache.js');
      process.exitCode = await gcCacheMain(argv);
      return;
    }
    const { gcMain } = await import('../../gc/command.js');
    if (!argv['machine-readable'] && !argv['timestamp-ui']) {
      process.exitCode = await gcMain(argv);
      return;
    }
    // Packer's output forms: each line of the table and summary as a `ui,say` line (or with a timestamp).
    const { packerUiStream } = await import('../render/machine.js');
    const out = packerUiStream(argv['machine-readable'] ? 'machine' : 'timestamped', 'say');
    process.exitCode = await gcMain(argv, out);
    await new Promise<void>((resolve) => out.end(resolve));
  },
};
