import type { CommandModule } from 'yargs';
import { templateInputOptions } from '../../template/options.js';
import type { InspectArgs } from '../run/inspect.js';
import { machineReadableOption } from './shared-options.js';

// `kiln inspect <template>`: the variables, builders/sources, provisioners and post-processors of
// a template, laid out as `packer inspect` lays them out.
export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <template>',
  describe: "Show a template's variables, locals, sources, provisioners and post-processors, as packer inspect does",
  builder: (yargs) =>
    yargs
      .positional('template', { type: 'string', demandOption: true, describe: 'Packer JSON template, HCL2 template (.pkr.hcl, .pkr.json) or a directory of HCL2 files' })
      .options(templateInputOptions)
      .options(machineReadableOption),
  handler: async (argv) => {
    const { runInspect } = await import('../run/inspect.js');
    const { processOutput } = await import('../run/output.js');
    process.exitCode = await runInspect(argv, processOutput);
  },
};
