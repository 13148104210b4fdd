import type { CommandModule } from 'yargs';
import { UsageError } from '../usage-error.js';
import { buildSelectionOptions, TEMPLATE_ARGUMENT, templateInputOptions } from '../../template/options.js';
import { checkOutputFlags, ON_ERROR_CHOICES, outputOptions, dbOption } from './shared-options.js';
import type { BuildArgs } from '../run/build.js';
import { CACHE_MODES } from '../run/cache-flags.js';

// `kiln build <template>`: builds every builder of the template into a Scaleway image, each step
// recorded in the event store so that an interrupted build can be resumed.
export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build <template>',
  describe: 'Build images from a template; every step is recorded and resumable',
  builder: (yargs) =>
    yargs
      .positional('template', { type: 'string', demandOption: true, describe: TEMPLATE_ARGUMENT })
      .options(templateInputOptions)
      .options(buildSelectionOptions)
      .option('on-error', {
        choices: ON_ERROR_CHOICES,
        default: 'cleanup' as const,
        describe:
          'On failure: remove what the build created (cleanup), keep it for inspection and `kiln resume` (abort), or ask (terminal only); run-cleanup-provisioner runs the error-cleanup-provisioner, then keeps everything as abort',
      })
      .option('parallel-builds', { type: 'number', default: 0, describe: 'Run at most N builds at once (0 = no limit)' })
      .option('force', { type: 'boolean', default: false, describe: 'Build even if an image or snapshot of the same name exists' })
      .option('cache', {
        choices: CACHE_MODES,
        default: 'on' as const,
        describe: 'The build cache: start from a checkpoint that matches and make checkpoints (on), only start from one (read), neither (off)',
      })
      .option('cache-max-age', { type: 'string', requiresArg: true, describe: 'A checkpoint older than this is a miss (default 7d; days or a duration: 7d, 36h)' })
      .option('checkpoint-after', {
        type: 'array',
        string: true,
        // One value per flag, so that `--checkpoint-after 1 template.json` keeps the template path.
        nargs: 1,
        requiresArg: true,
        describe: 'Make a checkpoint after this provisioner: its position from 0, its type or its script name (repeatable)',
      })
      .option('explain-cache', { type: 'boolean', default: false, describe: 'Say, for each provisioner, whether the cache had it and, on a miss, which input changed' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per event on stdout, then one per artifact' })
      .options(outputOptions)
      .option('debug', { type: 'boolean', default: false, describe: 'Print every API request on stderr' })
      .option('sim', { type: 'boolean', default: false, describe: 'Run against an embedded Scaleway simulator (no cloud account needed)' })
      .option('db', dbOption)
      .epilog(
        "Packer's spellings work too: one dash, the value after = or a space (-var k=v, -only=web-*, -on-error=abort, -machine-readable).\n" +
          '$KILN_KEY_PASSPHRASE (12+ characters, the same on every machine) seals the temporary SSH key into the store, so that another machine can resume the build.',
      )
      .check((argv) => {
        if (!Number.isInteger(argv['parallel-builds']) || argv['parallel-builds'] < 0) throw new UsageError('--parallel-builds takes a whole number ≥ 0');
        return checkOutputFlags(argv);
      }),
  handler: async (argv) => {
    const { runBuildCommand } = await import('../run/build.js');
    process.exitCode = await runBuildCommand(argv);
    (await import('../run/exit.js')).exitOnceDone();
  },
};
