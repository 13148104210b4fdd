// Running a process under another host name, as if on another machine: a UTS namespace of its
// own (util-linux `unshare`; as root, or through an unprivileged user namespace). The tests of a
// build killed on one runner and resumed on another, and the screenshots' CI runners, use it.
import { spawnSync } from 'node:child_process';

let flags: string[] | null | undefined;

/** unshare's flags that work here, or null when no namespace can be made. */
function unshareFlags(): string[] | null {
  if (flags !== undefined) return flags;
  for (const candidate of [['--uts'], ['--user', '--map-root-user', '--uts']]) {
    if (spawnSync('unshare', [...candidate, 'true'], { stdio: 'ignore' }).status === 0) return (flags = candidate);
  }
  return (flags = null);
}

/** Why processes cannot be given another host name here, or undefined when they can. */
export function hostnameUnavailableReason(): string | undefined {
  return unshareFlags() ? undefined : 'cannot give a process another host name here (`unshare --uts` refused: not root, and no unprivileged user namespaces)';
}

/** The command and arguments that run `command args…` with `host` as its host name. */
export function asHost(host: string, command: string, args: readonly string[]): { command: string; args: string[] } {
  const unshare = unshareFlags();
  if (!unshare) throw new Error(hostnameUnavailableReason());
  return { command: 'unshare', args: [...unshare, 'sh', '-c', 'hostname "$0" && exec "$@"', host, command, ...args] };
}
