import type { CommandModule } from 'yargs';
import { templateInputOptions } from '../../template/options.js';
import type { ConsoleArgs } from '../run/console.js';
import { machineReadableOption } from './shared-options.js';

// `kiln console [template]`: try expressions against a template's variables and locals.
export const consoleCommand: CommandModule<object, ConsoleArgs> = {
  command: 'console [template]',
  describe: "Evaluate expressions against a template's variables and locals, as packer console does",
  builder: (yargs) =>
    yargs
      .positional('template', { type: 'string', describe: 'HCL2 template or directory (HCL2 expressions), or JSON template ({{user `x`}} strings); none: functions only' })
      .options(templateInputOptions)
      .options(machineReadableOption)
      .example("echo 'upper(var.zone)' | kiln console .", 'Print one value (piped: every line is evaluated, the last one printed)'),
  handler: async (argv) => {
    const { runConsole } = await import('../run/console.js');
    process.exitCode = await runConsole(argv);
  },
};
