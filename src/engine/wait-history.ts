// The past waits the builds of one process predict from (predict.ts): read from the store once, at
// the first wait of any of them, then every wait they finish is added as it is recorded. Builds run
// side by side (a template with several builders) thus make one read between them, not one each,
// and a wait learns from the same waits its siblings just finished, as the next process would.
import type { WaitKey, WaitRecord } from '../scaleway/index.js';
import type { MaybePromise } from '../store/index.js';

export class WaitHistory {
  #records: Promise<WaitRecord[]> | undefined;

  /**
   * The past waits, oldest first; `read` (the `wait.finished` events' data, oldest first) is called
   * at the first call only, or again after it failed.
   */
  records(read: () => MaybePromise<Record<string, unknown>[]>): Promise<readonly WaitRecord[]> {
    this.#records ??= Promise.resolve()
      .then(read)
      .then((data) => data.flatMap((d) => (isWaitRecord(d) ? [d] : [])))
      .catch((error: unknown) => {
        this.#records = undefined;
        throw error;
      });
    return this.#records;
  }

  /**
   * A wait a build of this process just finished, once its `wait.finished` is committed. Every wait
   * reads `records` before it starts, so a wait this process finishes is never in the store's read.
   */
  add(record: WaitRecord): void {
    void this.#records?.then((records) => void records.push(record), () => undefined);
  }
}

function isWaitRecord(d: Record<string, unknown>): d is Record<string, unknown> & WaitRecord {
  const k = d.key as Partial<WaitKey> | undefined;
  return typeof d.durationMs === 'number' && typeof d.whole === 'boolean' && !!k && typeof k.wait === 'string' && typeof k.zone === 'string';
}
