import type { CommandModule } from 'yargs';
import type { UpgradeArgs } from '../run/upgrade.js';
import { machineReadableOption } from './shared-options.js';

// `kiln hcl2_upgrade <template.json>`: a JSON template's HCL2 equivalent, which builds the same.
export const upgradeCommand: CommandModule<object, UpgradeArgs> = {
  command: 'hcl2_upgrade <template>',
  describe: 'Write the HCL2 equivalent of a JSON template, as packer hcl2_upgrade does (kiln builds both the same)',
  builder: (yargs) =>
    yargs
      .positional('template', { type: 'string', demandOption: true, describe: 'Packer JSON template' })
      .option('output-file', { type: 'string', requiresArg: true, describe: 'Where to write it [default: TEMPLATE.pkr.hcl]' })
      .options(machineReadableOption),
  handler: async (argv) => {
    const { runUpgrade } = await import('../run/upgrade.js');
    const { commandOutput } = await import('../run/output.js');
    process.exitCode = await runUpgrade(argv, commandOutput(argv));
  },
};
