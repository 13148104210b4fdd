// Runs Packer 1.6.6 the way the interop tests need it (scripts/lib/packer.ts finds it): in a
// private home, with a time limit below Packer's own 5-minute SSH timeout.
import { spawn } from 'node:child_process';
import { PACKER, packerEnv } from '../../scripts/lib/packer.js';

export { packerMissing } from '../../scripts/lib/packer.js';

export interface PackerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

/**
 * `packer <args>` in `home` (its working directory and home), with more environment variables
 * (`env`: PKR_VAR_x). `input` is what Packer reads on stdin; it goes through `cat |` because Packer
 * takes its stdin for a pipe only when it is a FIFO, and Node's pipes are socket pairs.
 */
export function runPacker(args: string[], home: string, options: { input?: string; env?: Record<string, string> } = {}): Promise<PackerResult> {
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = options.input === undefined ? [PACKER, args] : ['/bin/sh', ['-c', 'cat | "$0" "$@"', PACKER, ...args]];
    const child = spawn(command, commandArgs, {
      cwd: home,
      env: { ...packerEnv(home), ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Packer's own SSH timeout is 5 minutes: never let a broken simulator hang the suite that long.
      timeout: 150_000,
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout!.on('data', (d: Buffer) => ((stdout += d.toString()), (output += d.toString())));
    child.stderr!.on('data', (d: Buffer) => ((stderr += d.toString()), (output += d.toString())));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, output }));
    child.stdin?.end(options.input);
  });
}
