import type { CommandModule } from 'yargs';
import { templateInputOptions } from '../../template/options.js';
import type { ResumeArgs } from '../run/resume.js';
import { checkOutputFlags, ON_ERROR_CHOICES, outputOptions, dbOption } from './shared-options.js';

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
      .option('on-error', { choices: ON_ERROR_CHOICES, describe: "On failure (default: the build's own setting)" })
      .option('from-provisioner', { type: 'number', describe: 'Start provisioning over at provisioner N (0-based)' })
      .option('template', {
        type: 'string',
        requiresArg: true,
        describe: 'Read the template here rather than at the path the build started from (another checkout); its content must be the same',
      })
      .option('force', { type: 'boolean', default: false, describe: 'Resume even though the template changed since the build started' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per event on stdout, then the artifact' })
      .options(outputOptions)
      .check(checkOutputFlags)
      .option('debug', { type: 'boolean', default: false, describe: 'Print every API request on stderr' })
      .option('db', dbOption)
      .epilog(
        [
          'How a build continues:',
          '  - a phase that finished never runs again; the one that was running starts over, after looking up',
          '    by their tags the resources it may already have created (so nothing is created twice);',
          '  - a provisioner that had not finished runs again from its start: write provisioners so that',
          '    running them twice does no harm, or say where provisioning starts over: --from-provisioner N;',
          '  - the cloud is checked first: if the server was deleted before provisioning began, a new one is',
          '    created; if it was deleted later, the build fails (its provisioning is lost) and says so;',
          '  - secrets are read again from the environment, the Scaleway config file and --var/--var-file;',
          '    a template changed since the start is refused unless --force (for a JSON template, a change of',
          '    layout — spaces, line breaks, key order — is no change); --template <path> reads it elsewhere;',
          '  - the zone, API URL and project are the build\'s own: a shell that names others is refused;',
          '  - a build run by another live process is refused (its pid and host are named);',
          '  - on another machine, the temporary SSH key sealed in the store is opened with $KILN_KEY_PASSPHRASE',
          '    (the one the build started with); without it a build that must still log in is refused.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    const { runResumeCommand } = await import('../run/resume.js');
    process.exitCode = await runResumeCommand(argv);
    (await import('../run/exit.js')).exitOnceDone();
  },
};
