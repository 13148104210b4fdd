// The loopback addresses of the simulated cloud: every server and flexible IP has its own
// 127.A.x.y, so each server's SSH endpoint is a real address a client connects to.
import { ApiError } from './http.js';
import type { WorldData } from './world.js';

export class AddressPool {
  /** Addresses held by servers and flexible IPs; built on demand, dropped when one is freed. */
  private inUse: Set<string> | undefined;
  /** Where the next search for a free address starts (a hint: the search checks every address). */
  private cursor = 0;

  constructor(private readonly world: WorldData) {}

  /**
   * A free address in this simulator's 127.A.0.0/16, starting at 127.A.B.2: 64,768 addresses,
   * enough for the 10,000-server gc benchmark. Sequential from a cursor, so creating n servers
   * costs O(n), not O(n²).
   */
  allocate(): string {
    const used = (this.inUse ??= new Set<string>([
      ...Object.values(this.world.servers).map((s) => s.address),
      ...Object.values(this.world.ips).map((ip) => ip.address),
    ]));
    const [a, b] = this.world.subnet;
    const capacity = 256 * 253;
    for (let step = 0; step < capacity; step++) {
      const index = (this.cursor + step) % capacity;
      const address = `127.${a}.${(b + Math.floor(index / 253)) % 256}.${2 + (index % 253)}`;
      if (!used.has(address)) {
        used.add(address);
        this.cursor = index + 1;
        return address;
      }
    }
    throw new ApiError(403, { type: 'quotas_exceeded', message: 'quota exceeded', details: [{ resource: 'instance_ip', quota: capacity, current: capacity }] });
  }

  /** A server or flexible IP went away: its address is free again. */
  freed(): void {
    this.inUse = undefined;
  }
}
