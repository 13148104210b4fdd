// Where a command that prints text writes it (validate, fmt, inspect, console, version, init,
// hcl2_upgrade): the process's streams by default; tests pass their own, and the CLI's
// -machine-readable passes one that writes Packer's lines.

export interface TextOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processOutput: TextOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
