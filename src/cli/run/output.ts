// Where the commands that print text (fmt, inspect, console, version, init, hcl2_upgrade) write
// it: the process's streams, or Packer's machine-readable lines for -machine-readable. Tests
// pass their own.
import { PackerUi } from '../render/machine.js';

export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processOutput: CommandOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Packer's -machine-readable: each message one `timestamp,,ui,say,…` line on stdout (errors as
 * `ui,error`), its final newline dropped and the others escaped, as Packer's MachineReadableUi
 * prints `Ui.Say` and `Ui.Error`.
 */
export function machineReadableOutput(stream: NodeJS.WritableStream = process.stdout): CommandOutput & { ui: PackerUi } {
  const ui = new PackerUi('machine', stream);
  return {
    ui,
    stdout: (text) => ui.ui('say', text.replace(/\n$/, '')),
    stderr: (text) => ui.ui('error', text.replace(/\n$/, '')),
  };
}

/** The output for a command's `-machine-readable` flag. */
export function commandOutput(args: { 'machine-readable'?: boolean }): CommandOutput {
  return args['machine-readable'] ? machineReadableOutput() : processOutput;
}
