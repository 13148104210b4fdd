import type { CommandModule } from 'yargs';
import { dbOption } from './shared-options.js';
import type { LsArgs } from '../run/ls.js';

// `kiln ls`: builds, newest first.
export const lsCommand: CommandModule<object, LsArgs> = {
  command: 'ls',
  describe: 'List builds, newest first: id, template, status, phase, host, start, duration, image',
  builder: (yargs) =>
    yargs
      .option('status', { choices: ['running', 'succeeded', 'failed', 'interrupted', 'cleaned'] as const, describe: 'Only builds with this status' })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON array' })
      .option('db', dbOption),
  handler: async (argv) => {
    const { runLsCommand } = await import('../run/ls.js');
    process.exitCode = await runLsCommand(argv);
  },
};
