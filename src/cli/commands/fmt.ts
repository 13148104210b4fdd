import type { CommandModule } from 'yargs';
import type { FmtArgs } from '../run/fmt.js';
import { machineReadableOption } from './shared-options.js';

// `kiln fmt [path…]`: Packer's canonical HCL2 layout, for `packer fmt -check` lint stages.
export const fmtCommand: CommandModule<object, FmtArgs & { 'machine-readable': boolean }> = {
  command: 'fmt [paths..]',
  describe: 'Rewrite HCL2 files (.pkr.hcl, .pkrvars.hcl) in canonical layout, as packer fmt does',
  builder: (yargs) =>
    yargs
      .positional('paths', { type: 'string', array: true, describe: 'Files or directories (default: the current directory); - reads stdin and writes stdout' })
      .option('check', { type: 'boolean', default: false, describe: 'Write nothing; exit 3 (and name the files) when a file is not formatted' })
      .option('diff', { type: 'boolean', default: false, describe: 'Print a unified diff of each change' })
      .option('write', { type: 'boolean', default: true, describe: 'Rewrite the files (-write=false: only name those that would change)' })
      .option('recursive', { type: 'boolean', default: false, describe: 'Also format the files of subdirectories' })
      .options(machineReadableOption)
      .example('kiln fmt -check .', 'In CI: fail (exit 3) when a file is not formatted')
      .example('kiln fmt -diff -write=false .', 'Show what would change'),
  handler: async (argv) => {
    const { runFmt } = await import('../run/fmt.js');
    const { machineReadableOutput, processOutput } = await import('../run/output.js');
    // Packer writes the file names and diffs as they are even with -machine-readable; only its errors become `ui,error` lines.
    const out = argv['machine-readable'] ? { stdout: processOutput.stdout, stderr: machineReadableOutput().stderr } : processOutput;
    process.exitCode = await runFmt(argv, out);
  },
};
