// The build machine: one compound state per phase of PHASES, each running its phase actor with
// the phase's retry/timeout policy, then a success cleanup, or on failure a rollback path
// (or a stop, per --on-error). Pure: no I/O. The engine provides the phase actors
// (`machine.provide({actors})`) and appends every transition to the event log.
//
// XState facts this follows (DESIGN.md, "The machine"): every invoke has an explicit id and
// names an actor declared in setup; errors are stored as {name, message, retryable}; deadlines
// are data (`phaseDeadlineAt` in context, and each actor gets it as input) because `after`
// timers do not survive a restart; a retry re-enters states so invokes and timers restart.
import { and, assign, fromPromise, setup, type AnyEventObject, type PromiseActorLogic } from 'xstate';
import { OPTIONAL_PHASES, PHASES, type PhaseName } from './phases.js';
import { retries, type PhasePolicies, type PhasePolicy } from './policy.js';

/** Packer's -on-error: run-cleanup-provisioner runs the error-cleanup-provisioner, then keeps everything as abort does. */
export type OnErrorMode = 'cleanup' | 'abort' | 'ask' | 'run-cleanup-provisioner';

/** The phases a failure in which runs the error-cleanup-provisioner: provisioning has begun, the server is up. */
const ERROR_CLEANUP_AFTER: readonly PhaseName[] = ['provision', 'user_data.wait', 'machine.cleanup'];

export interface MachineError {
  name: string;
  message: string;
  /** Transient: the same step may simply be tried again (later). */
  retryable: boolean;
  /** What the API answered, when the error came from it: an HTTP status ('502') or why no answer came ('connection reset'). */
  answer?: string;
}

/** The transient failures of the current phase run, in a row: what a phase that gives up reports. */
export interface TransientStreak {
  /** When the first failed attempt of the streak started (epoch ms). */
  since: number;
  /** Failed attempts in the streak. */
  failures: number;
  /** The number of the last failed attempt. */
  lastAttempt: number;
  /** What the API answered, distinct, in order of first appearance. */
  answers: string[];
}

/** What phases learn and later phases need (ids of created resources, addresses, …). JSON only. */
export type BuildFacts = Record<string, string | number | boolean | string[] | null | undefined>;

/**
 * The provisioner a build starts provisioning at: 0, or past the provisioners a checkpoint it
 * starts from covers (`provisionFrom`, a fact of the prepare phase's hit).
 */
export function provisionFrom(facts: BuildFacts): number {
  return typeof facts.provisionFrom === 'number' && facts.provisionFrom > 0 ? facts.provisionFrom : 0;
}

/** Whether a checkpoint is to be made after provisioner `index`: the build's facts hold its key there (never after the last one). */
export function checkpointAfter(facts: BuildFacts, index: number, provisioners: number): boolean {
  const keys = facts.checkpointKeys;
  return Array.isArray(keys) && typeof keys[index] === 'string' && keys[index] !== '' && index + 1 < provisioners;
}

/** What every phase actor is given. */
export interface PhaseInput {
  phase: PhaseName;
  attempt: number;
  /** Epoch ms after which the phase has failed, or null: waits inside the actor honour it. */
  phaseDeadlineAt: number | null;
  provisionerIndex: number;
  facts: BuildFacts;
  /** For the cleanup actor: cleaning up after success (keep snapshot and image) or after a failure. */
  reason: 'success' | 'failure';
}

export type PhaseActorLogic = PromiseActorLogic<BuildFacts, PhaseInput>;

export interface BuildMachineInput {
  buildId: string;
  onError: OnErrorMode;
  policies: PhasePolicies;
  communicator: 'ssh' | 'none';
  /** The provisioners' own policies (max_retries, timeout, continue_on_error), in run order. */
  provisionerPolicies: PhasePolicy[];
  /** The error-cleanup-provisioner's policy; absent: the template has none. */
  errorCleanupPolicy?: PhasePolicy;
  /** Which of OPTIONAL_PHASES this build runs (default: none). */
  optionalPhases?: PhaseName[];
  /** Resume: start at this phase (default `prepare`) with what earlier phases recorded. */
  startAt?: PhaseName;
  provisionerIndex?: number;
  facts?: BuildFacts;
}

export interface BuildContext {
  buildId: string;
  onError: OnErrorMode;
  policies: PhasePolicies;
  communicator: 'ssh' | 'none';
  provisionerPolicies: PhasePolicy[];
  errorCleanupPolicy: PhasePolicy | null;
  optionalPhases: PhaseName[];
  startAt: PhaseName;
  phase: PhaseName | null;
  attempt: number;
  phaseStartedAt: number | null;
  phaseDeadlineAt: number | null;
  attemptStartedAt: number | null;
  provisionerIndex: number;
  facts: BuildFacts;
  /** The error of the last failed attempt (the retry reason). */
  lastError: MachineError | null;
  /** The transient failures of this phase run so far (null once an attempt failed otherwise). */
  transientStreak: TransientStreak | null;
  /** Why the build failed; set when it enters the failure path. */
  failure: { phase: PhaseName; error: MachineError } | null;
  /** Set by INTERRUPT: the build stops at the next safe point. */
  interruptRequested: boolean;
  /** The error the cleanup after a failure ran into, if any (resources may be left for gc). */
  cleanupError: MachineError | null;
  /** The last provisioner that failed with continue_on_error set: recorded, and the build went on. */
  continuedFailure: { provisionerIndex: number; error: MachineError } | null;
  /** The error-cleanup-provisioner: not run, running (the `provision` phase after a failure), done (with its own error, if it failed). */
  errorCleanup: { state: 'idle' | 'running' | 'done'; error: MachineError | null };
  /** Counts finished phase runs; with `lastCompleted`, lets observers see each completion. */
  completions: number;
  lastCompleted: { phase: PhaseName; provisionerIndex: number; output: BuildFacts } | null;
}

/** Events the engine sends in. */
export type BuildMachineEvent =
  | { type: 'INTERRUPT' }
  | { type: 'DECIDE.RETRY' }
  | { type: 'DECIDE.CLEANUP' }
  | { type: 'DECIDE.ABORT' };

export interface BuildMachineOptions {
  /** The clock for deadlines (epoch ms); tests pass SimulatedClock's. */
  now?: () => number;
  /** The delay before retry after failed attempt `attempt` (1-based): kiln's one backoff formula. */
  retryDelay: (policy: PhasePolicy, attempt: number) => number;
}

/** A phase name as a state key ('server.create' → 'server_create': XState paths use dots). */
export function stateKey(phase: PhaseName): string {
  return phase.replace(/\./g, '_');
}

/** Terminal states, as they appear in the snapshot's value. */
export const FINAL_STATES = ['done', 'failed', 'interrupted'] as const;
export type FinalState = (typeof FINAL_STATES)[number];

/** Phases where the first INTERRUPT stops the build at once: waiting is always safe to abandon,
 * since what was created is already recorded. Other phases finish their step first. */
const INTERRUPTIBLE: ReadonlySet<PhaseName> = new Set<PhaseName>([
  'prepare',
  'key',
  'server.wait_running',
  'ssh.connect',
  'provision',
  'checkpoint',
  'user_data.wait',
  'server.wait_stopped',
  'snapshot.wait',
  'volume_snapshots.wait',
  'image.wait',
]);

const ATTEMPT_TIMEOUT: MachineError = { name: 'AttemptTimeout', message: 'attempt timed out', retryable: true };

/** setTimeout's ceiling: a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function toMachineError(error: unknown): MachineError {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; message?: unknown; retryable?: unknown; answer?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : String(error),
      retryable: e.retryable === true,
      ...(typeof e.answer === 'string' ? { answer: e.answer } : {}),
    };
  }
  return { name: 'Error', message: String(error), retryable: false };
}

/** "10 minutes", "45 seconds": a span as a person says it. */
export function spokenDuration(ms: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (ms < 59_500) return unit(Math.max(0, Math.round(ms / 1000)), 'second');
  if (ms < 119.5 * 60_000) return unit(Math.round(ms / 60_000), 'minute');
  return unit(Math.round(ms / 3_600_000), 'hour');
}

/** The streak after a failed attempt: extended by a transient error, ended by any other. */
function extendStreak(context: BuildContext, error: MachineError, now: number): TransientStreak | null {
  if (!error.retryable) return null;
  const previous = context.transientStreak;
  const answers = previous?.answers ?? [];
  return {
    since: previous?.since ?? context.attemptStartedAt ?? now,
    failures: (previous?.failures ?? 0) + 1,
    lastAttempt: context.attempt,
    answers: error.answer && !answers.includes(error.answer) ? [...answers, error.answer] : answers,
  };
}

/**
 * The transient streak a phase's deadline ends, if that is what it ends: the phase was waiting to
 * retry, or the attempt still running has lasted no longer than the failures before it. (A wait
 * that failed once early, then polled until its deadline, timed out: its server was too slow.)
 */
function failingAtDeadline(context: BuildContext, now: number): TransientStreak | null {
  const streak = context.transientStreak;
  if (!streak) return null;
  const waitingToRetry = context.attempt === streak.lastAttempt;
  const running = context.attemptStartedAt ?? now;
  return waitingToRetry || running - streak.since >= now - running ? streak : null;
}

/**
 * The error of a phase that gave up on transient errors, from what its attempts met: who kept
 * failing how, for how long, and why kiln stopped trying ("Scaleway kept answering 502 for 10
 * minutes (…)"). `retryable` stays true: running the build again, later, may well succeed.
 */
export function giveUpError(
  phase: PhaseName,
  streak: TransientStreak,
  last: MachineError,
  o: { now: number; attempt: number; policy: PhasePolicy; ending: 'deadline' | 'attempts' },
): MachineError {
  const kept = streak.failures > 1;
  const answers = [...streak.answers].sort();
  const list = answers.length > 1 ? `${answers.slice(0, -1).join(', ')} and ${answers.at(-1)}` : answers[0] ?? '';
  const lead =
    answers.length === 0
      ? `${phase} ${kept ? 'kept failing with transient errors' : 'failed with a transient error'}`
      : answers.every((a) => /^\d{3}$/.test(a))
        ? `Scaleway ${kept ? 'kept answering' : 'answered'} ${list}`
        : `Scaleway ${kept ? 'kept failing' : 'failed'} (${answers.join(', ')})`;
  const deadline = `its deadline of ${spokenDuration(o.policy.phaseTimeoutMs)}`;
  const why =
    o.ending === 'attempts'
      ? `, the most its policy allows`
      : o.attempt > streak.lastAttempt
        ? `; attempt ${o.attempt} was still running at ${deadline}`
        : `, retried until ${deadline}`;
  return {
    name: 'TransientFailure',
    message:
      `${lead}${kept ? ` for ${spokenDuration(o.now - streak.since)}` : ''} ` +
      `(${streak.failures} failed attempt${streak.failures === 1 ? '' : 's'} of ${phase}${why}). Last error: ${last.message}`,
    retryable: true,
    ...(last.answer ? { answer: last.answer } : {}),
  };
}

const notProvided = (phase: string): PhaseActorLogic =>
  fromPromise<BuildFacts, PhaseInput>(async () => {
    throw new Error(`the engine did not provide the '${phase}' phase actor`);
  });

const stubActors = Object.fromEntries(PHASES.map((phase) => [stateKey(phase), notProvided(phase)])) as Record<string, PhaseActorLogic>;

/** Whether `phase` runs; `facts` include what the phase that just finished learnt (its output). */
function phaseEnabled(context: BuildContext, phase: PhaseName, facts: BuildFacts): boolean {
  switch (phase) {
    // One snapshot per extra volume: the server's actual volumes decide (server.create's facts),
    // since an image made from several volumes brings its extra volumes along.
    case 'volume_snapshots.create':
    case 'volume_snapshots.wait':
      return Array.isArray(facts.extraVolumeIds) && facts.extraVolumeIds.length > 0;
    case 'key':
    case 'ssh.connect':
      return context.communicator === 'ssh';
    case 'provision':
      // Without SSH only shell-local provisioners can be in the list (the template loader checks);
      // a checkpoint may have covered some.
      return context.provisionerPolicies.length > provisionFrom(facts);
    case 'checkpoint':
      // Entered only from provision (checkpointHere), never as the next phase of the list.
      return false;
    default:
      return !OPTIONAL_PHASES.includes(phase) || context.optionalPhases.includes(phase);
  }
}

function policyOf(context: BuildContext): PhasePolicy {
  const phase = context.phase ?? 'prepare';
  if (phase === 'provision' && context.errorCleanup.state === 'running') return context.errorCleanupPolicy ?? context.policies.provision;
  if (phase === 'provision') return context.provisionerPolicies[context.provisionerIndex] ?? context.policies.provision;
  return context.policies[phase];
}

export function createBuildMachine(options: BuildMachineOptions) {
  const now = options.now ?? (() => Date.now());

  /** The context update of a phase that failed with `error`; `gaveUp`: the policy would have retried it, but the attempts ran out. */
  const failWith = (context: BuildContext, error: MachineError, gaveUp: (policy: PhasePolicy) => boolean) => {
    const phase = context.phase ?? 'prepare';
    const policy = policyOf(context);
    const streak = gaveUp(policy) ? extendStreak(context, error, now()) : null;
    const reported = streak ? giveUpError(phase, streak, error, { now: now(), attempt: context.attempt, policy, ending: 'attempts' }) : error;
    return { lastError: error, transientStreak: streak, failure: { phase, error: reported } };
  };

  const builder = setup({
    types: {
      context: {} as BuildContext,
      input: {} as BuildMachineInput,
      events: {} as BuildMachineEvent,
    },
    actors: stubActors,
    guards: {
      phaseEnabled: ({ context, event }, params: { phase: PhaseName }) =>
        phaseEnabled(context, params.phase, { ...context.facts, ...(((event as AnyEventObject).output as BuildFacts | undefined) ?? {}) }),
      isStartAt: ({ context }, params: { phase: PhaseName }) => context.startAt === params.phase,
      failedIn: ({ context }, params: { phase: PhaseName }) => context.failure?.phase === params.phase,
      interruptRequested: ({ context }) => context.interruptRequested,
      moreProvisioners: ({ context }) => context.provisionerIndex + 1 < context.provisionerPolicies.length,
      checkpointHere: ({ context, event }) =>
        checkpointAfter({ ...context.facts, ...(((event as AnyEventObject).output as BuildFacts | undefined) ?? {}) }, context.provisionerIndex, context.provisionerPolicies.length),
      shouldRetry: ({ context, event }) => {
        const policy = policyOf(context);
        const error = toMachineError((event as AnyEventObject).error);
        return !context.interruptRequested && context.attempt < policy.attempts && retries(policy.retryOn, error);
      },
      shouldRetryAfterTimeout: ({ context }) =>
        !context.interruptRequested && context.attempt < policyOf(context).attempts && retries(policyOf(context).retryOn, ATTEMPT_TIMEOUT),
      onErrorIs: ({ context }, params: { mode: OnErrorMode }) => context.onError === params.mode,
      continuesOnError: ({ context }) => context.errorCleanup.state !== 'running' && policyOf(context).continueOnError === true,
      errorCleanupDue: ({ context }) =>
        context.errorCleanupPolicy !== null && context.errorCleanup.state === 'idle' && context.failure !== null && ERROR_CLEANUP_AFTER.includes(context.failure.phase),
    },
    delays: {
      attemptTimeout: ({ context }) => {
        const ms = policyOf(context).attemptTimeoutMs;
        return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : MAX_TIMER_MS;
      },
      phaseDeadline: ({ context }) =>
        context.phaseDeadlineAt === null ? MAX_TIMER_MS : Math.min(MAX_TIMER_MS, Math.max(0, context.phaseDeadlineAt - now())),
      retryBackoff: ({ context }) => Math.max(0, options.retryDelay(policyOf(context), context.attempt)),
    },
    actions: {
      enterPhase: assign((_, params: { phase: PhaseName }) => {
        const started = now();
        return {
          phase: params.phase,
          attempt: 0,
          phaseStartedAt: started,
          phaseDeadlineAt: null as number | null,
          lastError: null,
          transientStreak: null,
        };
      }),
      // Set after enterPhase so that the provisioner policy (which depends on the index) applies.
      setDeadline: assign(({ context }) => {
        const ms = policyOf(context).phaseTimeoutMs;
        return { phaseDeadlineAt: ms > 0 ? (context.phaseStartedAt ?? now()) + ms : null };
      }),
      nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1, attemptStartedAt: now() })),
      // Every successful phase run ends here: merge what it learnt and mark it complete.
      mergeFacts: assign(({ context, event }) => {
        const output = ((event as AnyEventObject).output as BuildFacts | undefined) ?? {};
        return {
          facts: { ...context.facts, ...output },
          completions: context.completions + 1,
          lastCompleted: { phase: context.phase ?? 'prepare', provisionerIndex: context.provisionerIndex, output },
        };
      }),
      nextProvisioner: assign(({ context }) => ({ provisionerIndex: context.provisionerIndex + 1 })),
      // Provisioning begins past what a checkpoint the build started from covers.
      startProvisioning: assign(({ context }) => ({ provisionerIndex: provisionFrom(context.facts) })),
      recordRetryReason: assign(({ context, event }) => {
        const error = toMachineError((event as AnyEventObject).error);
        return { lastError: error, transientStreak: extendStreak(context, error, now()) };
      }),
      recordAttemptTimeout: assign(({ context }) => {
        const error = { ...ATTEMPT_TIMEOUT, message: `attempt ${context.attempt} of ${context.phase} took longer than ${policyOf(context).attemptTimeoutMs} ms` };
        return { lastError: error, transientStreak: extendStreak(context, error, now()) };
      }),
      // An error the policy retries ends the phase only when the attempts ran out: report the streak.
      recordFailure: assign(({ context, event }) => {
        const error = toMachineError((event as AnyEventObject).error);
        return failWith(context, error, (policy) => error.retryable && retries(policy.retryOn, error));
      }),
      recordAttemptTimeoutFailure: assign(({ context }) => {
        const policy = policyOf(context);
        const error: MachineError = {
          ...ATTEMPT_TIMEOUT,
          message: `${context.phase} took longer than ${policy.attemptTimeoutMs} ms (attempt ${context.attempt}${Number.isFinite(policy.attempts) ? ` of ${policy.attempts}` : ''})`,
        };
        return failWith(context, error, () => retries(policy.retryOn, ATTEMPT_TIMEOUT));
      }),
      // At the deadline, a phase that was failing transiently reports that; otherwise it was too slow.
      recordPhaseTimeout: assign(({ context }) => {
        const phase = context.phase ?? 'prepare';
        const policy = policyOf(context);
        const streak = failingAtDeadline(context, now());
        const error: MachineError =
          streak && context.lastError
            ? giveUpError(phase, streak, context.lastError, { now: now(), attempt: context.attempt, policy, ending: 'deadline' })
            : {
                name: 'PhaseTimeout',
                message: `${phase} did not finish within ${spokenDuration(policy.phaseTimeoutMs)} (${context.attempt} attempt(s))`,
                retryable: false,
              };
        return { lastError: error, failure: { phase, error } };
      }),
      recordCleanupError: assign(({ context, event }) => {
        const error = (event as AnyEventObject).error;
        return {
          cleanupError:
            error !== undefined
              ? toMachineError(error)
              : { name: 'CleanupTimeout', message: `cleanup did not finish within ${policyOf(context).phaseTimeoutMs} ms`, retryable: false },
        };
      }),
      requestInterrupt: assign({ interruptRequested: true }),
      // continue_on_error: the failure (or the attempt's timeout) is recorded, the build goes on.
      recordContinuedFailure: assign(({ context, event }) => {
        const raw = (event as AnyEventObject).error;
        const error = raw !== undefined ? toMachineError(raw) : { ...ATTEMPT_TIMEOUT, message: `provisioner ${context.provisionerIndex} took longer than ${policyOf(context).attemptTimeoutMs} ms` };
        return { continuedFailure: { provisionerIndex: context.provisionerIndex, error }, lastError: error };
      }),
      startErrorCleanup: assign({ errorCleanup: { state: 'running' as const, error: null } }),
      finishErrorCleanup: assign({ errorCleanup: { state: 'done' as const, error: null } }),
      recordErrorCleanupError: assign(({ context, event }) => {
        const raw = (event as AnyEventObject).error;
        const error = raw !== undefined ? toMachineError(raw) : { name: 'ErrorCleanupTimeout', message: `the error-cleanup-provisioner did not finish within ${policyOf(context).attemptTimeoutMs || policyOf(context).phaseTimeoutMs} ms`, retryable: false };
        return { errorCleanup: { state: 'done' as const, error } };
      }),
    },
  });

  /** Transitions to the first enabled phase after `phase` (cleanup is always enabled). */
  const advanceFrom = (phase: PhaseName) => {
    const later = PHASES.slice(PHASES.indexOf(phase) + 1);
    return [
      { guard: 'interruptRequested', target: '#build.interrupted', actions: 'mergeFacts' },
      ...later.map((next) => ({
        guard: { type: 'phaseEnabled', params: { phase: next } },
        target: `#build.${stateKey(next)}`,
        actions: next === 'provision' ? ['mergeFacts', 'startProvisioning'] : 'mergeFacts',
      })),
    ];
  };

  /**
   * One phase: attempt ↔ backoff, bounded by the attempt timeout and the phase deadline.
   * `rollback` is the cleanup phase run after a failure: it ends in `failed` whatever happens
   * (what it could not delete is left to `kiln gc`), so its errors are recorded apart.
   */
  const phaseState = (
    phase: PhaseName,
    key: string,
    onDone: object[],
    variant: 'normal' | 'lastStep' | 'rollback' | 'errorCleanup' = 'normal',
    /** Tried before the failure transitions (continue_on_error's way on). */
    beforeFailing: object[] = [],
  ) => {
    // The error-cleanup-provisioner ends the same way whatever happens: on to the rest of the failure path.
    const failTarget = variant === 'normal' ? '#build.failing' : variant === 'errorCleanup' ? '#build.afterFailure' : '#build.failed';
    const failAction = variant === 'rollback' ? 'recordCleanupError' : variant === 'errorCleanup' ? 'recordErrorCleanupError' : 'recordFailure';
    const interrupt = { INTERRUPT: { target: '#build.interrupted', actions: 'requestInterrupt' } };
    return {
      id: key,
      entry: [...(variant === 'errorCleanup' ? ['startErrorCleanup'] : []), { type: 'enterPhase', params: { phase } }, 'setDeadline'],
      initial: 'attempt',
      on: INTERRUPTIBLE.has(phase) ? interrupt : {},
      after: { phaseDeadline: { target: failTarget, actions: variant === 'rollback' || variant === 'errorCleanup' ? failAction : 'recordPhaseTimeout' } },
      states: {
        attempt: {
          entry: 'nextAttempt',
          invoke: {
            id: key,
            src: stateKey(phase),
            input: ({ context }: { context: BuildContext }): PhaseInput => ({
              phase,
              attempt: context.attempt,
              phaseDeadlineAt: context.phaseDeadlineAt,
              provisionerIndex: context.provisionerIndex,
              facts: context.facts,
              reason: variant === 'rollback' || variant === 'errorCleanup' ? 'failure' : 'success',
            }),
            onDone,
            onError: [
              { guard: 'shouldRetry', target: 'backoff', actions: 'recordRetryReason' },
              ...(variant === 'normal' ? [{ guard: 'interruptRequested', target: '#build.interrupted', actions: 'recordRetryReason' }] : []),
              ...beforeFailing,
              { target: failTarget, actions: failAction },
            ],
          },
          after: {
            attemptTimeout: [
              { guard: 'shouldRetryAfterTimeout', target: 'backoff', actions: 'recordAttemptTimeout' },
              ...beforeFailing,
              { target: failTarget, actions: variant === 'rollback' || variant === 'errorCleanup' ? failAction : 'recordAttemptTimeoutFailure' },
            ],
          },
        },
        backoff: {
          on: variant === 'normal' ? interrupt : {},
          after: { retryBackoff: { target: 'attempt', reenter: true } },
        },
      },
    };
  };

  const states: Record<string, object> = {
    start: {
      always: [
        ...PHASES.map((phase) => ({ guard: { type: 'isStartAt', params: { phase } }, target: stateKey(phase) })),
        { target: stateKey('prepare') },
      ],
    },
  };
  for (const phase of PHASES) {
    const key = stateKey(phase);
    if (phase === 'postprocess') {
      states[key] = phaseState(phase, key, [{ target: '#build.done', actions: 'mergeFacts' }], 'lastStep');
    } else if (phase === 'cleanup') {
      // The artifact exists from here on: a failure no longer rolls back (it would delete the image).
      const [interrupt, ...rest] = advanceFrom(phase);
      states[key] = phaseState(phase, key, [interrupt!, ...rest, { target: '#build.done', actions: 'mergeFacts' }], 'lastStep');
    } else if (phase === 'provision') {
      const [interrupt, ...rest] = advanceFrom(phase);
      // continue_on_error: a failed provisioner hands on to the next one, or to the next phase.
      const continueOn = [
        { guard: and(['continuesOnError', 'moreProvisioners']), target: '#build.provision', reenter: true, actions: ['recordContinuedFailure', 'nextProvisioner'] },
        ...PHASES.slice(PHASES.indexOf(phase) + 1).map((next) => ({
          guard: and(['continuesOnError', { type: 'phaseEnabled', params: { phase: next } }]),
          target: `#build.${stateKey(next)}`,
          actions: 'recordContinuedFailure',
        })),
      ];
      states[key] = phaseState(
        phase,
        key,
        [
          interrupt!,
          // A checkpoint after this provisioner first (it keeps the provisioner's index).
          { guard: 'checkpointHere', target: '#build.checkpoint', actions: 'mergeFacts' },
          { guard: 'moreProvisioners', target: '#build.provision', reenter: true, actions: ['mergeFacts', 'nextProvisioner'] },
          ...rest,
        ],
        'normal',
        continueOn,
      );
    } else if (phase === 'checkpoint') {
      // Then the next provisioner (there is one: no checkpoint is made after the last).
      const [interrupt, ...rest] = advanceFrom('provision');
      states[key] = phaseState(phase, key, [
        interrupt!,
        { guard: 'moreProvisioners', target: '#build.provision', actions: ['mergeFacts', 'nextProvisioner'] },
        ...rest,
      ]);
    } else {
      states[key] = phaseState(phase, key, advanceFrom(phase));
    }
  }
  states.failing = {
    always: [
      { guard: { type: 'onErrorIs', params: { mode: 'abort' } }, target: 'failed' },
      { guard: { type: 'onErrorIs', params: { mode: 'ask' } }, target: 'awaitingDecision' },
      { target: 'afterFailure' },
    ],
  };
  // --on-error ask: the engine asks the user and sends one of the DECIDE events.
  states.awaitingDecision = {
    on: {
      'DECIDE.RETRY': PHASES.map((phase) => ({ guard: { type: 'failedIn', params: { phase } }, target: stateKey(phase) })),
      'DECIDE.CLEANUP': 'afterFailure',
      'DECIDE.ABORT': 'failed',
      INTERRUPT: 'interrupted',
    },
  };
  // As Packer unwinds a failed build: the error-cleanup-provisioner first (once), on the server
  // still up, then the cleanup — or, with run-cleanup-provisioner, nothing more (abort).
  states.afterFailure = {
    always: [
      { guard: 'errorCleanupDue', target: 'error_cleanup' },
      { guard: { type: 'onErrorIs', params: { mode: 'run-cleanup-provisioner' } }, target: 'failed' },
      { target: 'rollback' },
    ],
  };
  states.error_cleanup = phaseState('provision', 'error_cleanup', [{ target: '#build.afterFailure', actions: 'finishErrorCleanup' }], 'errorCleanup');
  // Cleanup after a failure: everything the build created, in reverse order (the actor's job).
  // It ends in `failed` either way; what it could not delete is left to `kiln gc`.
  states.rollback = phaseState('cleanup', 'rollback', [{ target: '#build.failed', actions: 'mergeFacts' }], 'rollback');
  states.done = { type: 'final' };
  states.failed = { type: 'final' };
  states.interrupted = { type: 'final' };

  return builder.createMachine({
    id: 'build',
    initial: 'start',
    context: ({ input }) => ({
      buildId: input.buildId,
      onError: input.onError,
      policies: input.policies,
      communicator: input.communicator,
      provisionerPolicies: input.provisionerPolicies,
      errorCleanupPolicy: input.errorCleanupPolicy ?? null,
      optionalPhases: input.optionalPhases ?? [],
      startAt: input.startAt ?? 'prepare',
      phase: null,
      attempt: 0,
      phaseStartedAt: null,
      phaseDeadlineAt: null,
      attemptStartedAt: null,
      provisionerIndex: input.provisionerIndex ?? 0,
      facts: input.facts ?? {},
      lastError: null,
      transientStreak: null,
      failure: null,
      interruptRequested: false,
      cleanupError: null,
      continuedFailure: null,
      errorCleanup: { state: 'idle', error: null },
      completions: 0,
      lastCompleted: null,
    }),
    on: { INTERRUPT: { actions: 'requestInterrupt' } },
    // The generated per-phase states are checked by the unit tests, not by the config types.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    states: states as any,
  });
}

export type BuildMachine = ReturnType<typeof createBuildMachine>;

/** The engine's phase implementations, keyed by phase, as `machine.provide({ actors })` wants them. */
export function phaseActors(actors: Record<PhaseName, PhaseActorLogic>): Record<string, PhaseActorLogic> {
  return Object.fromEntries(PHASES.map((phase) => [stateKey(phase), actors[phase]]));
}
