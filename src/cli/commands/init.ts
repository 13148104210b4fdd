import type { CommandModule } from 'yargs';
import type { InitArgs } from '../run/init.js';
import { machineReadableOption } from './shared-options.js';

// `kiln init [template]`: checks the template's required_plugins; the scaleway plugin is built in.
export const initCommand: CommandModule<object, InitArgs> = {
  command: 'init [template]',
  describe: "Check a template's required_plugins, as packer init installs them: kiln's Scaleway builder is built in",
  builder: (yargs) =>
    yargs
      .positional('template', { type: 'string', describe: 'HCL2 template or directory [default: .]' })
      .option('upgrade', { type: 'boolean', default: false, describe: 'Accepted for scripts written for packer init (nothing to upgrade)' })
      .option('force', { type: 'boolean', default: false, describe: 'Accepted for scripts written for packer init (nothing to reinstall)' })
      .options(machineReadableOption),
  handler: async (argv) => {
    const { runInit } = await import('../run/init.js');
    const { commandOutput } = await import('../run/output.js');
    process.exitCode = await runInit(argv, commandOutput(argv));
  },
};
