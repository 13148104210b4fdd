// What a simulated server must not be able to change on the machine that runs it: read before and
// after a guest tries, and compared.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** The host's hostname, kernel settings, network links, mounts and swap, as a comparable record. */
export function hostState(link: string): Record<string, string> {
  const read = (file: string) => readFileSync(file, 'utf8');
  return {
    hostname: hostname(),
    swappiness: read('/proc/sys/vm/swappiness'),
    ipForward: read('/proc/sys/net/ipv4/ip_forward'),
    link: existsSync(`/sys/class/net/${link}`) ? 'present' : 'absent',
    planted: read('/proc/self/mountinfo').includes('kiln-planted') ? 'mounted' : 'none',
    swaps: read('/proc/swaps'),
  };
}
