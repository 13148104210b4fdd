// Where the commands that print text (fmt, inspect, console, version, init, hcl2_upgrade) write
// it: the process's streams (src/shared/text-output.ts), or Packer's machine-readable lines for
// -machine-readable.
import { processOutput, type TextOutput } from '../../shared/text-output.js';
import { PackerUi } from '../render/machine.js';

export { processOutput, type TextOutput };

/**
 * Packer's -machine-readable: each message one `timestamp,,ui,say,…` line on stdout (errors as
 * `ui,error`), its final newline dropped and the others escaped, as Packer's MachineReadableUi
 * prints `Ui.Say` and `Ui.Error`.
 */
export function machineReadableOutput(stream: NodeJS.WritableStream = process.stdout): TextOutput & { ui: PackerUi } {
  const ui = new PackerUi('machine', stream);
  return {
    ui,
    stdout: (text) => ui.ui('say', text.replace(/\n$/, '')),
    stderr: (text) => ui.ui('error', text.replace(/\n$/, '')),
  };
}

/** The output for a command's `-machine-readable` flag. */
export function commandOutput(args: { 'machine-readable'?: boolean }): TextOutput {
  return args['machine-readable'] ? machineReadableOutput() : processOutput;
}
