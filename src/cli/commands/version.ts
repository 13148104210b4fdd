import type { CommandModule } from 'yargs';
import { machineReadableOption } from './shared-options.js';

// `kiln version` (and `kiln --version`, which main.ts sends here).
export const versionCommand: CommandModule<object, { json: boolean; 'machine-readable': boolean }> = {
  command: 'version',
  describe: "Print kiln's version, Node's and the store schema version",
  builder: (yargs) => yargs.option('json', { type: 'boolean', default: false, describe: 'Print them as one JSON object' }).options(machineReadableOption),
  handler: async (argv) => {
    const { runVersion } = await import('../run/version.js');
    const { machineReadableOutput, processOutput } = await import('../run/output.js');
    process.exitCode = runVersion(argv, argv['machine-readable'] ? machineReadableOutput() : processOutput);
  },
};
