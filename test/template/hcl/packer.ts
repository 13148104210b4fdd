// Packer 1.6.6 as an oracle: tests that need it skip, saying why, when it is not installed.
import { spawnSync } from 'node:child_process';

function findPacker(): string | undefined {
  const result = spawnSync('packer', ['version'], { encoding: 'utf8' });
  return result.status === 0 && /Packer v1\.6\./.test(result.stdout) ? result.stdout.trim() : undefined;
}

const version = findPacker();
/** `false` when Packer 1.6.x is installed, else the reason the oracle tests are skipped. */
export const packerSkip: string | false = version ? false : 'packer 1.6.x is not installed (.ci/run installs it): the Packer oracle comparison is skipped';

export interface PackerResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runPacker(args: string[], options: { cwd?: string; input?: string; env?: Record<string, string> } = {}): PackerResult {
  const result = spawnSync('packer', args, {
    cwd: options.cwd,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', CHECKPOINT_DISABLE: '1', ...options.env },
    timeout: 120_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

