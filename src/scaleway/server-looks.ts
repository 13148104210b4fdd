// Looks at many servers in one call. When several builds run in one process (a template with
// several builders), each build's waits look at its server on a schedule of their own: at 20
// builds, 20 GETs every quarter second through the same account. Looks that come close together
// are answered by one `GET /servers?servers=a,b,…` instead: every look still happens, after it was
// asked for, and sees its server's state as a GET of its own would; the account sees one call.
// A look with nothing else pending keeps its own `GET /servers/{id}`.
import type { ScalewayClient } from './client.js';
import type { CallOptions } from './wire.js';
import type { Server } from './types.js';

/** Calls for looks start at least this far apart: looks asked for in between share the next one. */
export const LOOK_GATHER_MS = 100;
/** At most this many ids in one call (the query string stays short; Scaleway's page holds 100). */
const MAX_IDS_PER_CALL = 50;

interface PendingLook {
  id: string;
  client: ScalewayClient;
  signal: AbortSignal | undefined;
  resolve: (server: Server) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the server looks of the builds of one process, through one account (the builds' clients
 * must share their API URL, zone and credentials: the call goes through the first look's client).
 * At most one call is in flight; the next starts once it is answered and `gatherMs` after the one
 * before, with every look asked for meanwhile.
 */
export class ServerLooks {
  #pending: PendingLook[] = [];
  #lastCallAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = false;

  constructor(readonly gatherMs = LOOK_GATHER_MS) {}

  /** The server's current state, as `client.getServer(id)` answers it (NotFoundError included). */
  look(client: ScalewayClient, id: string, o: Pick<CallOptions, 'signal'> = {}): Promise<Server> {
    const { signal } = o;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Server>((resolve, reject) => {
      const onAbort = () => {
        this.#pending = this.#pending.filter((p) => p !== look);
        reject(signal!.reason);
      };
      const look: PendingLook = {
        id,
        client,
        signal,
        resolve: (server) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(server);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.push(look);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#timer || this.#inFlight || this.#pending.length === 0) return;
    const wait = Math.max(0, this.#lastCallAt + this.gatherMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#call();
    }, wait);
  }

  async #call(): Promise<void> {
    const batch = this.#pending.splice(0, MAX_IDS_PER_CALL);
    if (batch.length === 0) return;
    this.#inFlight = true;
    this.#lastCallAt = Date.now();
    try {
      const ids = [...new Set(batch.map((p) => p.id))];
      if (ids.length === 1) {
        // One server: its own GET, with the caller's signal when it is the only one asking.
        const server = batch[0]!.client.getServer(ids[0]!, batch.length === 1 ? { signal: batch[0]!.signal } : {});
        await Promise.allSettled(batch.map((p) => server.then(p.resolve, p.reject)));
        return;
      }
      let found: Map<string, Server>;
      try {
        // No caller's signal: one look given up must not cancel the others'.
        found = new Map((await batch[0]!.client.listServers({ ids })).map((s) => [s.id, s]));
      } catch {
        found = new Map();
      }
      for (const p of batch) {
        const server = found.get(p.id);
        if (server) p.resolve(server);
        // Not in the list (deleted, or the list failed): the look's own GET says what it would have said.
        else p.client.getServer(p.id, { signal: p.signal }).then(p.resolve, p.reject);
      }
    } finally {
      this.#inFlight = false;
      this.#schedule();
    }
  }
}
