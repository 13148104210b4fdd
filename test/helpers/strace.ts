// Some tests watch a process's system calls with strace. Installed is not enough: a container may
// forbid ptrace, and then strace fails. The reason to skip, or undefined when strace can trace here.
import { spawnSync } from 'node:child_process';

export function straceUnavailable(whatFor: string): string | undefined {
  if (spawnSync('strace', ['-V']).status !== 0) return `strace is not installed: cannot see ${whatFor}`;
  const probe = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `strace cannot trace here (${(probe.stderr || `exit ${probe.status}`).trim().split('\n')[0]}): cannot see ${whatFor}`;
  return undefined;
}
