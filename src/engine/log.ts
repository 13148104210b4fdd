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
// - An append or read the store cannot take because it is unreachable (isStoreUnavailable), or
//   does not answer, is tried again with backoff for up to STORE_RETRY_MS in all. Every append
//   says where it expects the log to end (`afterSeq`: this run is the build's one writer, under
//   the lease), so a retried append whose first try committed after all is not recorded twice.
//   Past the bound the log fails for good: every later append and read is refused with
//   StoreUnavailableError, and `onFailure` stops the build at its next safe point.
import { isDeepStrictEqual } from 'node:util';
import { backoffDelay, sleep, type RetryPolicy } from '../scaleway/retry.js';
import { isStoreUnavailable, LogMovedError, StoreUnavailableError, type BuildStore, type MaybePromise } from '../store/api.js';
import type { BuildEvent, NewEvent } from '../store/index.js';

/** How long the engine keeps trying an unreachable store before it stops the build (KILN_STORE_RETRY_MS overrides). */
export const STORE_RETRY_MS = 30_000;

export function storeRetryMs(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.KILN_STORE_RETRY_MS);
  return Number.isFinite(given) && given >= 0 && env.KILN_STORE_RETRY_MS !== '' ? given : STORE_RETRY_MS;
}

/** Between tries at an unreachable store: about 0.2 s, 0.4 s, … up to 5 s. */
const STORE_RETRY: Omit<RetryPolicy, 'maxTotalMs'> = { attempts: Number.POSITIVE_INFINITY, initialMs: 200, factor: 2, maxMs: 5_000, jitter: 0.3 };

/** The store did not answer in time (a connection-class error: see isStoreUnavailable). */
class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
  readonly code = 'ETIMEDOUT';
}

/**
 * `answer`, or a connection-class error once `ms` passed without it: a store behind a network
 * that drops packets never answers, and the bound must hold all the same. (An append given up on
 * may still commit later; the build has stopped by then, and resume reads the log as it is.)
 */
function answerWithin<T>(answer: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(`no answer from the store in ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([answer, silence]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `work` to settle, for at most `ms`; never rejects. For what may be left undone when the
 * store stopped answering (releasing a lease, closing the connections): it must not hold kiln up.
 */
export async function settledWithin(work: () => MaybePromise<unknown>, ms: number): Promise<void> {
  // Left undone on an error or past `ms`: a lease expires on its own, a connection closes with the process.
  await answerWithin(Promise.resolve().then(work), ms).catch(() => undefined);
}

/** How long kiln waits for a lease release or a store's close once a build ended. */
export const STORE_GOODBYE_MS = 5_000;

const isPromise = <T>(value: MaybePromise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

export interface BuildLogOptions {
  store: BuildStore;
  buildId: string;
  /** The build's last seq when this run took it over (its lease held): what the next append follows. */
  lastSeq: number;
  /** Called once when the log fails for good (the build must stop at its next safe point). */
  onFailure?: (error: unknown) => void;
  retryMs?: number;
  /**
   * Until when (this machine's epoch ms) the run's lease is sure to hold: retries of an unreachable
   * store stop there, whatever is left of `retryMs`, so that an append never commits after the
   * lease could have lapsed and been taken over (see LEASE_TTL_MS, run.ts).
   */
  leaseHeldUntil?: () => number;
}

/**
 * Whether `written` (read back from the store) is `sent`: the same type, phase, attempt and data.
 * The data is compared as the store keeps it (JSON: no undefined fields; key order aside), so
 * that another writer's events of the same types are never taken for this writer's.
 */
function sameEvent(written: BuildEvent, sent: NewEvent): boolean {
  return (
    written.type === sent.type &&
    written.phase === (sent.phase ?? null) &&
    written.attempt === (sent.attempt ?? 0) &&
    isDeepStrictEqual(written.data, JSON.parse(JSON.stringify(sent.data ?? {})))
  );
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

  /** When tries of the store begun at `startedAt` must end: the retry bound, or the lease's if sooner. */
  private giveUpAt(startedAt: number): number {
    return Math.min(startedAt + this.retryMs, this.options.leaseHeldUntil?.() ?? Number.POSITIVE_INFINITY);
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
    const sentAt = Date.now();
    const done = (appended: BuildEvent[]): BuildEvent[] => {
      this.lastSeq = appended.at(-1)?.seq ?? this.lastSeq;
      return appended;
    };
    let answer: MaybePromise<BuildEvent[]>;
    try {
      answer = this.store.appendMany(this.buildId, events, { afterSeq: expected });
    } catch (error) {
      return this.appendAgain(events, expected, error, sentAt).then(done);
    }
    if (!isPromise(answer)) return done(answer);
    return answerWithin(answer, Math.max(0, this.giveUpAt(sentAt) - Date.now())).then(done, (error: unknown) => this.appendAgain(events, expected, error, sentAt).then(done));
  }

  /**
   * After a failed append: waits for the store, then sends the events again, on the condition that
   * the log still ends where it did. Ending exactly those events further on, the first try
   * committed and only its answer was lost (or it committed late): they are in, not added twice.
   */
  private appendAgain(events: NewEvent[], expected: number, first: unknown, sentAt: number): Promise<BuildEvent[]> {
    return this.retrying(first, sentAt, async () => {
      try {
        return await this.store.appendMany(this.buildId, events, { afterSeq: expected });
      } catch (error) {
        if (!(error instanceof LogMovedError)) throw error;
        const written = (await this.store.events(this.buildId, { afterSeq: expected })).slice(0, events.length);
        const ours = written.length === events.length && error.lastSeq === expected + events.length && written.every((e, i) => sameEvent(e, events[i]!));
        if (!ours) throw error;
        return written;
      }
    });
  }

  private readNow<T>(read: (store: BuildStore) => MaybePromise<T>): MaybePromise<T> {
    const sentAt = Date.now();
    const again = (error: unknown): Promise<T> =>
      this.retrying(error, sentAt, () => read(this.store)).catch((final: unknown) => {
        // Unreachable past the bound: the build stops, as when an append cannot be made.
        if (final instanceof StoreUnavailableError) this.fail(final);
        throw final;
      });
    let answer: MaybePromise<T>;
    try {
      answer = read(this.store);
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      return again(error);
    }
    if (!isPromise(answer)) return answer;
    return answerWithin(answer, Math.max(0, this.giveUpAt(sentAt) - Date.now())).catch(again);
  }

  /** Tries `again` with backoff while the store is unreachable, until the bound since the first try (`startedAt`). */
  private async retrying<T>(first: unknown, startedAt: number, again: () => MaybePromise<T>): Promise<T> {
    let error = first;
    for (let attempt = 1; ; attempt++) {
      if (!isStoreUnavailable(error)) throw error;
      const left = this.giveUpAt(startedAt) - Date.now();
      if (left <= 0) throw new StoreUnavailableError(this.store.location, Date.now() - startedAt, error);
      await sleep(Math.min(left, backoffDelay({ ...STORE_RETRY, maxTotalMs: this.retryMs }, attempt)));
      try {
        return await answerWithin(Promise.resolve().then(again), Math.max(0, this.giveUpAt(startedAt) - Date.now()));
      } catch (next) {
        error = next;
      }
      // Silence to the end of the bound: nothing is sent again.
      if (error instanceof NoAnswerError) throw new StoreUnavailableError(this.store.location, Date.now() - startedAt, error);
    }
  }
}
