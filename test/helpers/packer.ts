// Runs Packer 1.6.6 (Debian's package) the way the interop tests need it: a private home and
// cache, no telemetry and no colours, with a time limit below Packer's own 5-minute SSH timeout.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const PACKER = '/usr/bin/packer';

/** false, or why Packer tests are skipped here. */
export const packerMissing: false | string = existsSync(PACKER) ? false : `Packer is not installed at ${PACKER} (Debian: apt-get install packer)`;

export interface PackerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

/**
 * `input`: what Packer reads on stdin (`packer console` evaluates it), none by default. Packer
 * takes its stdin for a pipe only when it is a FIFO (Node's pipes are socket pairs), so the input
 * goes through `cat |`. `env`: more variables (PKR_VAR_x).
 */
export function runPacker(args: string[], home: string, { input, env = {} }: { input?: string; env?: Record<string, string> } = {}): Promise<PackerResult> {
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = input === undefined ? [PACKER, args] : ['/bin/sh', ['-c', 'cat | "$0" "$@"', PACKER, ...args]];
    const child = spawn(command, commandArgs, {
      cwd: home,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        PACKER_CACHE_DIR: path.join(home, 'packer_cache'),
        PACKER_CONFIG_DIR: home,
        CHECKPOINT_DISABLE: '1',
        PACKER_NO_COLOR: '1',
        TMPDIR: home,
        ...env,
      },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Packer's own SSH timeout is 5 minutes: never let a broken simulator hang the suite that long.
      timeout: 150_000,
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout!.on('data', (d: Buffer) => ((stdout += d.toString()), (output += d.toString())));
    child.stderr!.on('data', (d: Buffer) => ((stderr += d.toString()), (output += d.toString())));
    child.on('error', reject);
    if (input !== undefined) child.stdin?.end(input);
    child.on('close', (code) => resolve({ code, stdout, stderr, output }));
  });
}
