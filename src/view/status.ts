// A build's status and duration as people are told them: `kiln ls`, `kiln show`, the HTML report
// and `kiln ui` say the same.
import { leaseIsLive, type BuildSummary } from '../store/index.js';

/** A build's duration as `kiln ls` gives it: its first event to its last. */
export function durationMs(b: BuildSummary): number {
  return Date.parse(b.updatedAt) - Date.parse(b.createdAt);
}

/**
 * A build recorded as running whose process is gone (killed, crashed): `kiln resume` continues it.
 * `now` is the store's clock (`BuildStore.clock`): a lease written by another host expires by it.
 */
export function displayStatus(b: BuildSummary, now: number): string {
  return b.status === 'running' && !leaseIsLive(b.lease, now) ? 'running (process gone: kiln resume)' : b.status;
}
