// The build machine: one compound state per phase of PHASES, each running its phase actor with
// the phase's retry/timeout policy, then a success cleanup, or on failure a rollback path
// (or a stop, per --on-error). Pure: no I/O. The engine provides the phase actors
// (`machine.provide({actors})`) and appends every transition to the event log.
//
// XState facts this follows (DESIGN.md, "The machine"): every invoke has an explicit id and
// names an actor declared in setup; errors are stored as {name, message, retryable}; deadlines
// are data (`phaseDeadlineAt` in context, and each actor gets it as input) because `after`
// timers do not survive a restart; a retry re-enters states so invokes and timers restart.
import { assign, fromPromise, setup, type AnyEventObject, type PromiseActorLogic } from 'xstate';
import { PHASES, type PhaseName } from './phases.js';
import { retries, type PhasePolicies, type PhasePolicy } from './policy.js';

export type OnErrorMode = 'cleanup' | 'abort' | 'ask';

export interface MachineError {
  name: string;
  message: string;
  retryable: boolean;
}

/** What phases learn and later phases need (ids of created resources, addresses, …). JSON only. */
export type BuildFacts = Record<string, string | number | boolean | string[] | null | undefined>;

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
  /** The provisioners' own policies (max_retries, timeout), in run order. */
  provisionerPolicies: PhasePolicy[];
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
  startAt: PhaseName;
  phase: PhaseName | null;
  attempt: number;
  phaseStartedAt: number | null;
  phaseDeadlineAt: number | null;
  provisionerIndex: number;
  facts: BuildFacts;
  /** The error of the last failed attempt (the retry reason). */
  lastError: MachineError | null;
  /** Why the build failed; set when it enters the failure path. */
  failure: { phase: PhaseName; error: MachineError } | null;
  /** Set by INTERRUPT: the build stops at the next safe point. */
  interruptRequested: boolean;
  /** The error the cleanup after a failure ran into, if any (resources may be left for gc). */
  cleanupError: MachineError | null;
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
    const e = error as { name?: unknown; message?: unknown; retryable?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : String(error),
      retryable: e.retryable === true,
    };
  }
  return { name: 'Error', message: String(error), retryable: false };
}

const notProvided = (phase: string): PhaseActorLogic =>
  fromPromise<BuildFacts, PhaseInput>(async () => {
    throw new Error(`the engine did not provide the '${phase}' phase actor`);
  });

const stubActors = Object.fromEntries(PHASES.map((phase) => [stateKey(phase), notProvided(phase)])) as Record<string, PhaseActorLogic>;

/** Whether `phase` runs; `facts` include what the phase that just finished learnt (its output). */
function phaseEnabled(context: BuildContext, phase: PhaseName, facts: BuildFacts): boolean {
  switch (phase) {
    // The volume phases run only for builds that have the volumes (facts from prepare and server.create).
    case 'volumes.create':
      return facts.blockVolumesWanted === true;
    case 'volumes.iops':
      return facts.rootIopsWanted === true;
    case 'volume_snapshots.create':
    case 'volume_snapshots.wait':
      return Array.isArray(facts.extraVolumeIds) && facts.extraVolumeIds.length > 0;
    case 'key':
    case 'ssh.connect':
      return context.communicator === 'ssh';
    case 'provision':
      // Without SSH only shell-local provisioners can be in the list (the template loader checks).
      return context.provisionerPolicies.length > 0;
    default:
      return true;
  }
}

function policyOf(context: BuildContext): PhasePolicy {
  const phase = context.phase ?? 'prepare';
  if (phase === 'provision') return context.provisionerPolicies[context.provisionerIndex] ?? context.policies.provision;
  return context.policies[phase];
}

export function createBuildMachine(options: BuildMachineOptions) {
  const now = options.now ?? (() => Date.now());

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
      shouldRetry: ({ context, event }) => {
        const policy = policyOf(context);
        const error = toMachineError((event as AnyEventObject).error);
        return !context.interruptRequested && context.attempt < policy.attempts && retries(policy.retryOn, error);
      },
      shouldRetryAfterTimeout: ({ context }) =>
        !context.interruptRequested && context.attempt < policyOf(context).attempts && retries(policyOf(context).retryOn, ATTEMPT_TIMEOUT),
      onErrorIs: ({ context }, params: { mode: OnErrorMode }) => context.onError === params.mode,
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
        };
      }),
      // Set after enterPhase so that the provisioner policy (which depends on the index) applies.
      setDeadline: assign(({ context }) => {
        const ms = policyOf(context).phaseTimeoutMs;
        return { phaseDeadlineAt: ms > 0 ? (context.phaseStartedAt ?? now()) + ms : null };
      }),
      nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1 })),
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
      recordRetryReason: assign(({ event }) => ({ lastError: toMachineError((event as AnyEventObject).error) })),
      recordAttemptTimeout: assign(({ context }) => ({
        lastError: { ...ATTEMPT_TIMEOUT, message: `attempt ${context.attempt} of ${context.phase} took longer than ${policyOf(context).attemptTimeoutMs} ms` },
      })),
      recordFailure: assign(({ context, event }) => {
        const error = toMachineError((event as AnyEventObject).error);
        return { lastError: error, failure: { phase: context.phase ?? 'prepare', error } };
      }),
      recordAttemptTimeoutFailure: assign(({ context }) => {
        const error: MachineError = {
          ...ATTEMPT_TIMEOUT,
          message: `${context.phase} took longer than ${policyOf(context).attemptTimeoutMs} ms (attempt ${context.attempt} of ${policyOf(context).attempts})`,
        };
        return { lastError: error, failure: { phase: context.phase ?? 'prepare', error } };
      }),
      recordPhaseTimeout: assign(({ context }) => {
        const error: MachineError = {
          name: 'PhaseTimeout',
          message: `${context.phase} did not finish within ${policyOf(context).phaseTimeoutMs} ms (${context.attempt} attempt(s))`,
          retryable: false,
        };
        return { lastError: error, failure: { phase: context.phase ?? 'prepare', error } };
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
        actions: 'mergeFacts',
      })),
    ];
  };

  /**
   * One phase: attempt ↔ backoff, bounded by the attempt timeout and the phase deadline.
   * `rollback` is the cleanup phase run after a failure: it ends in `failed` whatever happens
   * (what it could not delete is left to `kiln gc`), so its errors are recorded apart.
   */
  const phaseState = (phase: PhaseName, key: string, onDone: object[], variant: 'normal' | 'lastStep' | 'rollback' = 'normal') => {
    const failTarget = variant === 'normal' ? '#build.failing' : '#build.failed';
    const failAction = variant === 'rollback' ? 'recordCleanupError' : 'recordFailure';
    const interrupt = { INTERRUPT: { target: '#build.interrupted', actions: 'requestInterrupt' } };
    return {
      id: key,
      entry: [{ type: 'enterPhase', params: { phase } }, 'setDeadline'],
      initial: 'attempt',
      on: INTERRUPTIBLE.has(phase) ? interrupt : {},
      after: { phaseDeadline: { target: failTarget, actions: variant === 'rollback' ? 'recordCleanupError' : 'recordPhaseTimeout' } },
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
              reason: variant === 'rollback' ? 'failure' : 'success',
            }),
            onDone,
            onError: [
              { guard: 'shouldRetry', target: 'backoff', actions: 'recordRetryReason' },
              ...(variant === 'normal' ? [{ guard: 'interruptRequested', target: '#build.interrupted', actions: 'recordRetryReason' }] : []),
              { target: failTarget, actions: failAction },
            ],
          },
          after: {
            attemptTimeout: [
              { guard: 'shouldRetryAfterTimeout', target: 'backoff', actions: 'recordAttemptTimeout' },
              { target: failTarget, actions: variant === 'rollback' ? 'recordCleanupError' : 'recordAttemptTimeoutFailure' },
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
    if (phase === 'cleanup') {
      states[key] = phaseState(phase, key, [{ target: '#build.done', actions: 'mergeFacts' }], 'lastStep');
    } else if (phase === 'provision') {
      const [interrupt, ...rest] = advanceFrom(phase);
      states[key] = phaseState(
        phase,
        key,
        [
          interrupt!,
          { guard: 'moreProvisioners', target: '#build.provision', reenter: true, actions: ['mergeFacts', 'nextProvisioner'] },
          ...rest,
        ],
      );
    } else {
      states[key] = phaseState(phase, key, advanceFrom(phase));
    }
  }
  states.failing = {
    always: [
      { guard: { type: 'onErrorIs', params: { mode: 'abort' } }, target: 'failed' },
      { guard: { type: 'onErrorIs', params: { mode: 'ask' } }, target: 'awaitingDecision' },
      { target: 'rollback' },
    ],
  };
  // --on-error ask: the engine asks the user and sends one of the DECIDE events.
  states.awaitingDecision = {
    on: {
      'DECIDE.RETRY': PHASES.map((phase) => ({ guard: { type: 'failedIn', params: { phase } }, target: stateKey(phase) })),
      'DECIDE.CLEANUP': 'rollback',
      'DECIDE.ABORT': 'failed',
      INTERRUPT: 'interrupted',
    },
  };
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
      startAt: input.startAt ?? 'prepare',
      phase: null,
      attempt: 0,
      phaseStartedAt: null,
      phaseDeadlineAt: null,
      provisionerIndex: input.provisionerIndex ?? 0,
      facts: input.facts ?? {},
      lastError: null,
      failure: null,
      interruptRequested: false,
      cleanupError: null,
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
