import type { CommandModule } from 'yargs';
import { dbOption } from './shared-options.js';
import type { ShowArgs } from '../run/show.js';

// `kiln show <build-id>`: the timeline of one build (--html: the report, src/report).
export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <id>',
  describe: "Show a build's timeline: phases, attempts, errors, resources and their fate, the artifact",
  builder: (yargs) =>
    yargs
      .positional('id', { type: 'string', demandOption: true, describe: 'Build id (or an unambiguous prefix); `kiln ls` lists them' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
      .option('events', { type: 'boolean', default: false, describe: 'Print the raw event log' })
      .option('html', {
        type: 'boolean',
        default: false,
        describe: 'Print a self-contained HTML report (timeline, waits, runs and hosts, resources, output): kiln show <id> --html > build.html',
      })
      .option('db', dbOption),
  handler: async (argv) => {
    if (argv.html && (argv.json || argv.events)) {
      process.stderr.write('kiln show: --html is a report of its own: give it without --json and --events\n');
      process.exitCode = 2;
      return;
    }
    if (argv.html) {
      const { runShowHtml } = await import('../run/report.js');
      process.exitCode = await runShowHtml(argv);
      return;
    }
    const { runShowCommand } = await import('../run/show.js');
    process.exitCode = await runShowCommand(argv);
  },
};
