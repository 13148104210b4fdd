import type { CommandModule } from 'yargs';
import { dbOption } from './shared-options.js';
import type { UiArgs } from '../run/ui.js';

// `kiln ui`: a live, read-only view of every build in the store, in a browser.
export const uiCommand: CommandModule<object, UiArgs> = {
  command: 'ui',
  describe: 'Serve a live, read-only view of the store: builds, each build as it runs, phase durations, what gc would remove',
  builder: (yargs) =>
    yargs
      .option('port', { type: 'number', default: 4280, describe: 'TCP port (0: any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; any but loopback needs $KILN_UI_TOKEN, checked on every request' })
      .option('db', dbOption)
      .epilog('With $KILN_UI_TOKEN set, open the printed address with ?token=<the token> once (a cookie keeps it), or send Authorization: Bearer <the token>.'),
  handler: async (argv) => {
    const { runUiCommand } = await import('../run/ui.js');
    process.exitCode = await runUiCommand(argv);
  },
};
