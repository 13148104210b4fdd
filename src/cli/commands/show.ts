import type { CommandModule } from 'yargs';
import { dbOption } from './shared-options.js';
import type { ShowArgs } from '../run/show.js';

// `kiln show <build-id>`: the timeline of one build.
export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <id>',
  describe: "Show a build's timeline: phases, attempts, errors, resources and their fate, the artifact",
  builder: (yargs) =>
    yargs
      .positional('id', { type: 'string', demandOption: true, describe: 'Build id (or an unambiguous prefix); `kiln ls` lists them' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
      .option('events', { type: 'boolean', default: false, describe: 'Print the raw event log' })
      .option('db', dbOption),
  handler: async (argv) => {
    const { runShowCommand } = await import('../run/show.js');
    process.exitCode = await runShowCommand(argv);
  },
};
