import type { CommandModule } from 'yargs';
import { templateInputOptions } from '../../template/options.js';
import type { ResumeArgs } from '../run/resume.js';

// `kiln resume <build-id>`: continue a build where it stopped (Ctrl-C, kill -9, --on-error abort).
// Finished phases never run again; the unfinished one starts over (provisioners should be
// idempotent: a provisioner that had not finished runs again).
export const resumeCommand: CommandModule<object, ResumeArgs> = {
  command: 'resume <id>',
  describe: 'Continue an interrupted, crashed or aborted build from its last unfinished phase',
  builder: (yargs) =>
    yargs
      .positional('id', { type: 'string', demandOption: true, describe: 'Build id (or an unambiguous prefix); `kiln ls` lists them' })
      .options(templateInputOptions)
      .option('on-error', { choices: ['cleanup', 'abort', 'ask'] as const, describe: "On failure (default: the build's own setting)" })
      .option('from-provisioner', { type: 'number', describe: 'Start provisioning over at provisioner N (0-based)' })
      .option('force', { type: 'boolean', default: false, describe: 'Resume even though the template changed since the build started' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per event on stdout, then the artifact' })
      .option('debug', { type: 'boolean', default: false, describe: 'Print every API request on stderr' })
      .option('db', { type: 'string', describe: 'Event store file (default $KILN_DB, else $XDG_STATE_HOME/kiln/kiln.db)' }),
  handler: async (argv) => {
    const { runResumeCommand } = await import('../run/resume.js');
    process.exitCode = await runResumeCommand(argv);
  },
};
