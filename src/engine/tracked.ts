// Crash safety, in one place: every call that changes the cloud — each create, each delete, each
// action or update of every resource — goes through this file (DESIGN.md, "Crash safety").
//
// kill -9 can land between any two instructions, and the API can fail without saying whether the
// call was made. So a call is made in these steps, and nowhere else:
//   1. LOOK at the log. The item's result is there, with no intent after it: done — a retry or a
//      resume calls nothing. Its intent is there with no result after it: PENDING — the call may
//      or may not have happened. "The item" is one resource of its phase (`item`: a volume's
//      name, a private network's id), so that a list of volumes is decided volume by volume.
//   2. RECONCILE a pending create: look the resource up by the tags it was given (`kiln-build`,
//      `kiln-phase`, and the item's own filter) until a create sent then can no longer land
//      (CREATE_SETTLE_MS). Found: its result is recorded (`reconciled: true`), nothing is created.
//      A pending delete, action or update is simply made again: they are safe to repeat.
//   3. INTENT: the event — a create's name and tags among its data — is appended and committed
//      before the call (the store takes intents to the disk: mustReachDisk).
//   4. CALL. A create is never retried blindly: an ambiguous failure (timeout, reset, 5xx)
//      reconciles as in 2, and finding nothing means "not created" (a TransientBuildError the
//      phase policy may retry). A delete that finds the resource gone is done (`alreadyGone`).
//   5. CRASH POINT: the cloud changed and the log does not know it yet. KILN_CRASH_AFTER_CALL=<result>
//      kills the process here (crash.ts); the crash matrix does so for every result type.
//   6. RESULT, appended at once, before anything waits on the resource.
// Whatever the kill point, resume then ends with each resource made once and removed once.
import type { PhaseInput } from '../../machines/build.machine.js';
import type { PhaseName } from '../../machines/phases.js';
import { AmbiguousError, answerOf, NotFoundError, pollDelay, sleep } from '../scaleway/index.js';
import type { MaybePromise } from '../store/api.js';
import { CLOUD_CHANGE_RESULTS, INTENT_RESULT, type BuildEvent, type EventData, type EventType } from '../store/events.js';
import { crashAfterCall } from './crash.js';
import { BuildError, TransientBuildError, type PhaseRuntime } from './runtime.js';
import { createdBy, resourceTags } from './tags.js';

/**
 * How long after its intent a create may still land. A request can be in flight when the
 * process dies or the client gives up (slow networks, queued requests): a lookup right after
 * would miss the resource and create it twice. So "not found" counts only once the intent is
 * this old; until then the lookup is repeated.
 */
export const CREATE_SETTLE_MS = 5_000;

/** A resource as a create answers it and a list shows it. */
export interface Resource {
  id: string;
  tags?: readonly string[] | null;
}

export interface TrackedCreate<T extends Resource> {
  /** The phase that creates it: its `kiln-phase` tag, by which reconcile tells it from the build's others. */
  phase: PhaseName;
  /** The intent and its result (a pair of the store's INTENT_RESULT). */
  intent: EventType;
  result: EventType;
  /**
   * What tells this item from the others its phase makes (`{ name }` of a block volume,
   * `{ serverId, privateNetworkId }` of a NIC): written into its intent and its result, it is how a
   * pending intent is known to be this item's. None: the phase makes one resource of this kind.
   */
  item?: EventData;
  /** The result field that holds the new resource's id (`serverId`, `imageId`, …). */
  idKey: string;
  /** The name the create gives it. */
  name?: string;
  /** Tags beyond kiln's own and the template's `tags` (the server's `server_tags`, a cache key's). */
  extraTags?: readonly string[];
  /** The rest of the intent: what the create asks for. */
  request?: EventData;
  /** The create; `tags` are the ones its intent recorded. */
  create: (tags: string[]) => Promise<T>;
  /** Candidates for reconcile (e.g. listed by the build's tag); it keeps the one this phase tagged, of this item. */
  list: () => Promise<readonly T[]>;
  /** Whether a resource this phase made is this item (default: the phase makes one). */
  matches?: (found: T) => boolean;
  /** More of the result: `how` says whether `value` is the create's answer or what reconcile found. */
  resultData?: (value: T, how: 'answered' | 'reconciled') => EventData;
  /** A recorded resource known to be gone since (a `resource.missing`, a NIC no longer on its server): it is created anew. */
  lost?: (result: BuildEvent) => MaybePromise<boolean>;
  /** A create the API refused (not ambiguous): what to forget before the error goes to the phase policy. */
  onRefused?: (error: unknown) => MaybePromise<void>;
  /** What it is, for the "not created" message (default: from the result type, "block volume"). */
  kind?: string;
}

/** A create's outcome: the resource the log had already (its id), or the one answered or found now. */
export type Created<T> = { how: 'recorded'; id: string } | { how: 'answered' | 'reconciled'; id: string; value: T };

/** Creates one resource (or one item of a list) exactly once, through steps 1–6. */
export async function trackedCreate<T extends Resource>(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, o: TrackedCreate<T>): Promise<Created<T>> {
  const { buildId, spec } = rt.deps;
  const tags = resourceTags(buildId, o.phase, [...spec.tags, ...(o.extraTags ?? [])]);
  const find = async () => (await o.list()).find((r) => createdBy(r.tags ?? [], buildId, o.phase) && (o.matches?.(r) ?? true));
  const resultData = (value: T, how: 'answered' | 'reconciled'): EventData => ({
    ...o.item,
    [o.idKey]: value.id,
    ...o.resultData?.(value, how),
    ...(how === 'reconciled' ? { reconciled: true } : {}),
  });

  // 1. Look: made already?
  const logged = await lastOfItem(rt, o);
  if (logged.result && !logged.pending && !(await o.lost?.(logged.result))) return { how: 'recorded', id: String(logged.result.data[o.idKey]) };
  // 2. Reconcile a pending intent.
  if (logged.pending) {
    const found = await reconcile(logged.intent!, find, signal);
    if (found) {
      await rt.record(input, o.result, resultData(found, 'reconciled'));
      return { how: 'reconciled', id: found.id, value: found };
    }
  }
  // 3–6. Intent, create, crash point, result.
  const { value, how } = await send(rt, input, {
    intent: o.intent,
    result: o.result,
    intentData: { ...o.item, ...(o.name !== undefined ? { name: o.name } : {}), tags, ...o.request },
    call: () => o.create(tags),
    recover: async (error, intent) => {
      if (!(error instanceof AmbiguousError)) {
        await o.onRefused?.(error);
        throw error;
      }
      // The create may have happened: look for it before anything else.
      const found = await reconcile(intent!, find, signal);
      if (!found) throw notCreated(o.kind ?? o.result.split('.')[0]!.replace('_', ' '), error);
      return { value: found, how: 'reconciled' as const };
    },
    resultData: ({ value, how }) => resultData(value, how),
  });
  return { how, id: value.id, value };
}

export interface TrackedDelete {
  intent: EventType;
  result: EventType;
  /** The resource: its id (`{ imageId }`) and where it lives (`api: 'block'`), in the intent and the result. */
  item: EventData;
  /** The delete; it may poll (a server's terminate, a block volume's detachment). Resolves with more of the result, if any. */
  call: () => Promise<EventData | void>;
}

/** Deletes a resource through steps 3–6; a resource already gone (NotFound) is done, recorded `alreadyGone`. */
export async function trackedDelete(rt: PhaseRuntime, input: PhaseInput, o: TrackedDelete): Promise<void> {
  await send(rt, input, {
    intent: o.intent,
    result: o.result,
    intentData: o.item,
    call: async () => (await o.call()) ?? {},
    recover: async (error) => {
      if (!(error instanceof NotFoundError)) throw error;
      return { value: {}, how: 'gone' as const };
    },
    resultData: ({ value, how }) => ({ ...o.item, ...value, ...(how === 'gone' ? { alreadyGone: true } : {}) }),
  });
}

export interface TrackedUpdate {
  /** None for an update the phase reads back from the cloud before making it (a volume's tags): it is made again. */
  intent?: EventType;
  result: EventType;
  /** The resource it changes (`{ serverId }`), in the intent and the result. */
  item: EventData;
  /** The rest of the intent: what it asks for. */
  request?: EventData;
  /** The action or PATCH (safe to repeat). Resolves with more of the result, if any. */
  call: () => Promise<EventData | void>;
  /** Made once: skipped when the item's result is in the log with no intent after it (a retry, a resume). */
  once?: boolean;
}

/** An action or update that is safe to repeat (power on/off, a PATCH), through steps 1 (with `once`) and 3–6. */
export async function trackedUpdate(rt: PhaseRuntime, input: PhaseInput, o: TrackedUpdate): Promise<void> {
  if (o.once) {
    const logged = await lastOfItem(rt, o);
    if (logged.result && !logged.pending) return;
  }
  await send(rt, input, {
    intent: o.intent,
    result: o.result,
    intentData: { ...o.item, ...o.request },
    call: async () => (await o.call()) ?? {},
    recover: (error) => Promise.reject(error),
    resultData: ({ value }) => ({ ...o.item, ...value }),
  });
}

/**
 * Step 2 for an action the phase found already done (the server is past the state the action
 * leaves): an intent of it that an earlier process left without a result (it died after the call)
 * gets that result now, `reconciled: true`, rather than staying open in the log for ever. No call
 * is made. (An intent of this process without a result is a call the API refused: not done by it.)
 */
export async function settleDoneUpdate(rt: PhaseRuntime, input: PhaseInput, o: { intent: EventType; result: EventType; item: EventData }): Promise<void> {
  const logged = await lastOfItem(rt, o);
  if (!logged.pending) return;
  const resumedSince = (await rt.events()).some((e) => e.type === 'build.resumed' && e.seq > logged.intent!.seq);
  if (resumedSince) await rt.record(input, o.result, { ...o.item, reconciled: true });
}

// ---- the steps ----------------------------------------------------------------------------

/** What the log holds of one item: its last intent and last result, and whether the intent is newer (pending). */
async function lastOfItem(
  rt: PhaseRuntime,
  o: { intent?: EventType | undefined; result: EventType; item?: EventData | undefined },
): Promise<{ intent: BuildEvent | undefined; result: BuildEvent | undefined; pending: boolean }> {
  let intent: BuildEvent | undefined;
  let result: BuildEvent | undefined;
  if (o.item === undefined) {
    // The phase's one resource of its kind: the latest events of the two types.
    intent = o.intent ? await rt.last(o.intent) : undefined;
    result = await rt.last(o.result);
  } else {
    const item = Object.entries(o.item);
    const ofItem = (await rt.events()).filter((e) => item.every(([k, v]) => e.data[k] === v));
    intent = ofItem.filter((e) => e.type === o.intent).at(-1);
    result = ofItem.filter((e) => e.type === o.result).at(-1);
  }
  return { intent, result, pending: intent !== undefined && intent.seq > (result?.seq ?? 0) };
}

/** Step 2: looks a possibly-created resource up until a create sent with `intent` can no longer land. */
async function reconcile<T>(intent: BuildEvent, find: () => Promise<T | undefined>, signal: AbortSignal): Promise<T | undefined> {
  const settledAt = (Date.parse(intent.at) || 0) + CREATE_SETTLE_MS;
  const startedAt = Date.now();
  for (;;) {
    const found = await find();
    if (found !== undefined || Date.now() >= settledAt) return found;
    await sleep(Math.min(pollDelay(Date.now() - startedAt), Math.max(0, settledAt - Date.now())), signal);
  }
}

/** An ambiguous create that reconcile found nothing for: it did not happen, and may simply be tried again. */
function notCreated(kind: string, error: AmbiguousError): TransientBuildError {
  const call = error.request ? `${error.request.method} ${error.request.path}` : `creating the ${kind}`;
  return new TransientBuildError(`${call} failed (${answerOf(error) ?? error.type}) and no ${kind} with the build's tags exists: it was not created`, {
    cause: error,
  });
}

/** How a call came out: its answer, the resource reconcile found after an ambiguous failure, or "already gone". */
interface Outcome<T, How extends string> {
  value: T;
  how: How;
}

/** Steps 3–6, the same for every call. */
async function send<T, Recovered extends string>(
  rt: PhaseRuntime,
  input: PhaseInput,
  o: {
    intent: EventType | undefined;
    result: EventType;
    intentData: EventData;
    call: () => Promise<T>;
    /** A failed call: what it came to after all, or the error rethrown. */
    recover: (error: unknown, intent: BuildEvent | undefined) => Promise<Outcome<T, Recovered>>;
    resultData: (outcome: Outcome<T, 'answered' | Recovered>) => EventData;
  },
): Promise<Outcome<T, 'answered' | Recovered>> {
  // A pair the store does not know would not reach the disk before its call, nor be a crash point.
  if (o.intent ? INTENT_RESULT[o.intent] !== o.result : !CLOUD_CHANGE_RESULTS.includes(o.result)) {
    throw new BuildError(`internal: ${o.intent ?? 'a call'} → ${o.result} is not an intent/result pair of the store's catalogue (src/store/events.ts)`);
  }
  // 3. Intent, committed before the call.
  const intent = o.intent ? await rt.record(input, o.intent, o.intentData) : undefined;
  // 4. Call (a failure the kind of call can settle is recovered: found after all, gone already).
  let outcome: Outcome<T, 'answered' | Recovered>;
  try {
    outcome = { value: await o.call(), how: 'answered' };
  } catch (error) {
    outcome = await o.recover(error, intent);
  }
  // 5. The cloud changed; the log does not know it yet.
  crashAfterCall(o.result);
  // 6. Result, at once.
  await rt.record(input, o.result, o.resultData(outcome));
  return outcome;
}
