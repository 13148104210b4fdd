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

let containerFlags: string[] | null | undefined;

/** unshare's flags for a container-like process (its own host name and pid namespace, with its own /proc), or null. */
function containerUnshareFlags(): string[] | null {
  if (containerFlags !== undefined) return containerFlags;
  const own = ['--uts', '--pid', '--fork', '--mount-proc', '--kill-child'];
  for (const candidate of [own, ['--user', '--map-root-user', ...own]]) {
    if (spawnSync('unshare', [...candidate, 'true'], { stdio: 'ignore' }).status === 0) return (containerFlags = candidate);
  }
  return (containerFlags = null);
}

/** Why processes cannot be run as in a container of their own here, or undefined when they can. */
export function containerUnavailableReason(): string | undefined {
  return containerUnshareFlags() ? undefined : 'cannot give a process its own pid namespace here (`unshare --pid --fork --mount-proc` refused)';
}

/**
 * The command and arguments that run `command args…` as a CI container would: host name `host`,
 * a pid namespace of its own (the command is its pid 1) and its own /proc; killed with unshare.
 */
export function asContainer(host: string, command: string, args: readonly string[]): { command: string; args: string[] } {
  const unshare = containerUnshareFlags();
  if (!unshare) throw new Error(containerUnavailableReason());
  return { command: 'unshare', args: [...unshare, 'sh', '-c', 'hostname "$0" && exec "$@"', host, command, ...args] };
}
