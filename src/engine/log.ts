// The build's log as the engine writes it: one ordered writer per build over the store interface
// (api.ts), whichever store answers, synchronously (SQLite) or with promises (PostgreSQL).
//
// - Every append of the run (a phase's intent and result, the machine's transitions, build.*)
//   goes through one chain, so the log keeps the order things happened in. `append` resolves
//   once the events are committed: a phase awaits its intent before the API call it announces
//   (DESIGN.md, crash safety).
// - Reads wait for the chain to drain first, so they see every earlier append.
// - When the chain is idle and the store answers synchronously (SQLite), the append is made at
//   once, in the caller's turn: no tick is added to the embedded path.
// - An append or read the store cannot take because it is unreachable (isStoreUnavailable) is
//   tried again with backoff for up to STORE_RETRY_MS. A retried append whose first try may have
//   committed is not sent twice: the build's last_seq tells (this run is its one writer, under
//   the lease). Past the bound the log fails for good: every later append and read is refused
//   with StoreUnavailableError, and `onFailure` stops the build at its next safe point.
import { backoffDelay, sleep, type RetryPolicy } from '../scaleway/retry.js';
import { isStoreUnavailable, StoreUnavailableError, type BuildStore, type MaybePromise } from '../store/api.js';
import type { BuildEvent, NewEvent } from '../store/index.js';

/** How long the engine keeps trying an unreachable store before it stops the build (KILN_STORE_RETRY_MS overrides). */
export const STORE_RETRY_MS = 30_000;

export function storeRetryMs(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.KILN_STORE_RETRY_MS);
  return Number.isFinite(given) && given >= 0 && env.KILN_STORE_RETRY_MS !== '' ? given : STORE_RETRY_MS;
}

/** Between tries at an unreachable store: about 0.2 s, 0.4 s, … up to 5 s. */
const STORE_RETRY: Omit<RetryPolicy, 'maxTotalMs'> = { attempts: Number.POSITIVE_INFINITY, initialMs: 200, factor: 2, maxMs: 5_000, jitter: 0.3 };

const isPromise = <T>(value: MaybePromise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

export interface BuildLogOptions {
  store: BuildStore;
  buildId: string;
  /** The build's last seq when this run took it over (its lease held): what the next append follows. */
  lastSeq: number;
  /** Called once when the log fails for good (the build must stop at its next safe point). */
  onFailure?: (error: unknown) => void;
  retryMs?: number;
}

export class BuildLog {
  readonly store: BuildStore;
  readonly buildId: string;
  /** The end of the chain of appends not yet committed; undefined when every append is. */
  private tail: Promise<void> | undefined;
  private failure: unknown;
  private lastSeq: number;
  private readonly retryMs: number;

  constructor(private readonly options: BuildLogOptions) {
    this.store = options.store;
    this.buildId = options.buildId;
    this.lastSeq = options.lastSeq;
    this.retryMs = options.retryMs ?? storeRetryMs();
  }

  /** Why the log failed for good (the store stayed unreachable), if it did. */
  get failed(): unknown {
    return this.failure;
  }

  /** Appends `events` after every earlier append; resolves once they are committed. */
  append(events: NewEvent[]): Promise<BuildEvent[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.tail === undefined) {
      const answer = this.attempt(events);
      if (!isPromise(answer)) return Promise.resolve(answer);
      return this.enqueue(answer);
    }
    return this.enqueue(
      this.tail.then(() => {
        if (this.failure !== undefined) throw this.failure;
        return this.attempt(events);
      }),
    );
  }

  /**
   * `read`'s answer once every earlier append is committed; an unreachable store is asked again
   * within the bound. Synchronous when the chain is idle and the store answers synchronously.
   */
  read<T>(read: (store: BuildStore) => MaybePromise<T>): MaybePromise<T> {
    if (this.failure !== undefined) throw this.failure;
    if (this.tail === undefined) return this.readNow(read);
    return this.tail.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return this.readNow(read);
    });
  }

  /** Resolves when every append made so far is committed (or the log failed). */
  async drained(): Promise<void> {
    while (this.tail !== undefined) await this.tail;
  }

  private enqueue<T>(work: Promise<T>): Promise<T> {
    const tail: Promise<void> = work.then(
      () => undefined,
      (error: unknown) => this.fail(error),
    );
    this.tail = tail;
    void tail.then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    return work;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    try {
      this.options.onFailure?.(error);
    } catch {
      // The failure is kept: every later append and read reports it.
    }
  }

  private attempt(events: NewEvent[]): MaybePromise<BuildEvent[]> {
    const expected = this.lastSeq;
    const done = (appended: BuildEvent[]): BuildEvent[] => {
      this.lastSeq = appended.at(-1)?.seq ?? this.lastSeq;
      return appended;
    };
    let answer: MaybePromise<BuildEvent[]>;
    try {
      answer = this.store.appendMany(this.buildId, events);
    } catch (error) {
      return this.appendAgain(events, expected, error).then(done);
    }
    if (!isPromise(answer)) return done(answer);
    return answer.then(done, (error: unknown) => this.appendAgain(events, expected, error).then(done));
  }

  /** After a failed append: waits for the store, then sends the events again unless they are already in. */
  private appendAgain(events: NewEvent[], expected: number, first: unknown): Promise<BuildEvent[]> {
    return this.retrying(first, async () => {
      const lastSeq = (await this.store.getBuild(this.buildId))?.lastSeq;
      // The first try committed and only its answer was lost: the events are in, do not add them twice.
      if (lastSeq === expected + events.length) {
        return (await this.store.events(this.buildId, { afterSeq: expected })).filter((e) => e.seq <= lastSeq);
      }
      if (lastSeq !== expected) {
        throw new Error(`build ${this.buildId}'s log has ${String(lastSeq)} events where this process expected ${expected}: another process wrote to it (its lease was lost)`);
      }
      return this.store.appendMany(this.buildId, events);
    });
  }

  private readNow<T>(read: (store: BuildStore) => MaybePromise<T>): MaybePromise<T> {
    let answer: MaybePromise<T>;
    try {
      answer = read(this.store);
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      return this.retrying(error, () => read(this.store));
    }
    if (!isPromise(answer)) return answer;
    return answer.catch((error: unknown) => this.retrying(error, () => read(this.store)));
  }

  /** Tries `again` with backoff while the store is unreachable, for up to the bound from now. */
  private async retrying<T>(first: unknown, again: () => MaybePromise<T>): Promise<T> {
    const startedAt = Date.now();
    let error = first;
    for (let attempt = 1; ; attempt++) {
      if (!isStoreUnavailable(error)) throw error;
      const left = startedAt + this.retryMs - Date.now();
      if (left <= 0) throw new StoreUnavailableError(this.store.location, Date.now() - startedAt, error);
      await sleep(Math.min(left, backoffDelay({ ...STORE_RETRY, maxTotalMs: this.retryMs }, attempt)));
      try {
        return await again();
      } catch (next) {
        error = next;
      }
    }
  }
}
