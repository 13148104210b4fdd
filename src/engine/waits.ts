// Waits on a cloud state change (a server booting, a snapshot becoming available): one polling
// schedule for all, fed with the prediction learnt from past waits of the same key, and each wait
// recorded (`wait.started`, `wait.finished`) so that later ones learn from it. A wait polls the
// resource its action recorded: a retry or a resume polls again, it never re-creates.
import type { PhaseInput } from '../../machines/build.machine.js';
import { pollUntil, predictWait, sizeClassOf, type PollOptions, type WaitKey, type WaitPrediction, type WaitRecord } from '../scaleway/index.js';
import type { BuildEvent, EventData, EventType } from '../store/events.js';
import { nonEmpty, type PhaseRuntime } from './runtime.js';

/** A wait that begins this soon after the action that started its change saw all of it: a sample. */
const WHOLE_WAIT_MS = 2_000;

/** A wait on a state change, as `waitFor` runs it. */
export interface WaitOptions<T> {
  /** The kind of wait, the first part of its key: "server.boot", "snapshot", … */
  wait: string;
  /**
   * The result event of the action that started the change: its time is when the wait's clock
   * starts; its `apiStartedAt`, if any, is the API's stamp of the action (see apiDurationMs).
   */
  startedBy: EventType;
  /** What is waited for, for messages: "server s-1 to be running". */
  what: string;
  /** One look: the value when done, undefined when not yet (throws on a state that will not come right). */
  check: () => Promise<T | undefined>;
  /** The API's stamp of the change in the value a look found done (its `modification_date`), if it has one. */
  changedAt?: (value: T) => string | null | undefined;
  /** Parts of the key that differ from the build's server and root volume (e.g. an SBS volume's type and size). */
  key?: Partial<Omit<WaitKey, 'wait'>>;
  /** A sign of the change seen without the API, after a look missed (see PollOptions.sign). */
  sign?: PollOptions['sign'];
}

/**
 * What a wait reads from the result event of the action that started it, taken from the action's
 * answer: the state it answered (answeredWait needs no look when it is already done), and the
 * API's stamps of the action and of the change (the wait's duration on the API's clock).
 */
export function answerStamps(answer: { state?: string; creation_date?: string | null; modification_date?: string | null }): EventData {
  return {
    ...(nonEmpty(answer.state) ? { state: answer.state } : {}),
    ...(nonEmpty(answer.creation_date) ? { apiStartedAt: answer.creation_date } : {}),
    ...(nonEmpty(answer.modification_date) ? { apiChangedAt: answer.modification_date } : {}),
  };
}

/** A wait as `beginWait` recorded it, for `finishWait`. */
interface WaitBegun {
  key: WaitKey;
  prediction: WaitPrediction | undefined;
  /** Epoch ms of the action's result event (kiln's clock). */
  startedAt: number;
  elapsedMs: number;
  whole: boolean;
  /** The API's stamp of the action, from the action's result event. */
  apiStartedAt: string | undefined;
}

/** The key and prediction of a wait, recorded as `wait.started`. */
async function beginWait(
  rt: PhaseRuntime,
  input: PhaseInput,
  o: Pick<WaitOptions<unknown>, 'wait' | 'what' | 'key'>,
  action: BuildEvent | undefined,
): Promise<WaitBegun> {
  const { spec } = rt.deps;
  const key: WaitKey = {
    wait: o.wait,
    zone: spec.zone,
    commercialType: spec.commercialType.toUpperCase(),
    volumeType: nonEmpty(input.facts.rootVolumeType) ?? '',
    sizeClass: sizeClassOf(typeof input.facts.rootVolumeSize === 'number' ? input.facts.rootVolumeSize : undefined),
    ...o.key,
  };
  const prediction = predictWait(await rt.waitHistory(), key);
  // A result found by reconcile was recorded when it was found, not when its call was made: no start of the change.
  const known = action?.data.reconciled ? undefined : action;
  const startedAt = known ? Date.parse(known.at) : Date.now();
  const elapsedMs = Math.max(0, Date.now() - startedAt);
  const whole = known !== undefined && elapsedMs <= WHOLE_WAIT_MS;
  await rt.record(input, 'wait.started', { key, what: o.what, elapsedMs, ...(prediction ?? {}) });
  return { key, prediction, startedAt, elapsedMs, whole, apiStartedAt: nonEmpty(known?.data.apiStartedAt) };
}

/**
 * Records `wait.finished`: how long the change took on kiln's clock (to the look that saw it done,
 * and to the last look that did not), and on the API's clock when both of its stamps are known.
 */
async function finishWait(
  rt: PhaseRuntime,
  input: PhaseInput,
  w: WaitBegun,
  seen: { looks: number; lastMissAt?: number | undefined; changedAt?: string | null | undefined },
): Promise<void> {
  const apiDurationMs = Date.parse(seen.changedAt ?? '') - Date.parse(w.apiStartedAt ?? '');
  const finished: WaitRecord = {
    key: w.key,
    durationMs: Date.now() - w.startedAt,
    ...(seen.lastMissAt !== undefined ? { lastMissMs: seen.lastMissAt - w.startedAt } : {}),
    // A stamp of the change before the action's (a resource changed by something else): not this change.
    ...(apiDurationMs >= 0 ? { apiDurationMs } : {}),
    whole: w.whole,
  };
  await rt.record(input, 'wait.finished', {
    ...finished,
    looks: seen.looks,
    ...(w.prediction ? { expectedMs: w.prediction.expectedMs, spreadMs: w.prediction.spreadMs } : {}),
  });
  // The later waits of this process (the sibling builds' too) learn from it as the next process would.
  rt.learn(finished);
}

/**
 * Waits for a state change with the one polling schedule, fed with the prediction learnt from past
 * waits of the same key (none yet: the plain schedule). Records `wait.started` (key, prediction)
 * and `wait.finished` (how long it took), which later waits learn from. Every wait on a cloud
 * state change goes through here (or through `answeredWait` when the action's answer showed it done).
 */
export async function waitFor<T>(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, o: WaitOptions<T>): Promise<T> {
  const w = await beginWait(rt, input, o, await rt.last(o.startedBy));
  let lastMissAt: number | undefined;
  let looks = 0;
  let onSign = false;
  const value = await pollUntil(
    async (cause) => {
      looks++;
      const v = await o.check();
      if (v === undefined) lastMissAt = Date.now();
      else onSign = cause === 'sign';
      return v;
    },
    { signal, deadlineAt: input.phaseDeadlineAt, what: o.what, prediction: w.prediction, elapsedMs: w.elapsedMs, ...(o.sign ? { sign: o.sign } : {}) },
  );
  await finishWait(rt, input, w, {
    looks,
    // A look made on a sign saw the change as it came: the last miss (perhaps made only to learn
    // the server's address) says nothing of when it happened, and would pull the prediction early.
    lastMissAt: onSign ? undefined : lastMissAt,
    changedAt: o.changedAt?.(value),
  });
  return value;
}

/**
 * A wait whose change the action's own answer already showed done (an instance snapshot or an
 * image that Scaleway creates `available`): when the action's result event recorded `doneState`,
 * the wait is recorded as one of no look (it still counts in the history and shows in `kiln show`;
 * the state was read from the API's answer, so it is not asked again) and true is returned.
 */
export async function answeredWait(
  rt: PhaseRuntime,
  input: PhaseInput,
  o: Pick<WaitOptions<unknown>, 'wait' | 'startedBy' | 'what' | 'key'> & { doneState: string },
): Promise<boolean> {
  const answer = await rt.last(o.startedBy);
  if (answer?.data.state !== o.doneState) return false;
  const w = await beginWait(rt, input, o, answer);
  await finishWait(rt, input, w, { looks: 0, changedAt: nonEmpty(answer.data.apiChangedAt) });
  return true;
}
