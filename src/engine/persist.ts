// The persist-every-transition loop: the engine watches the running machine through XState's
// inspection API and appends each transition to the event log as `phase.*` / `cleanup.*` events.
// `transitionEvents` is pure (what to append for one step); `persistObserver` wraps it so that a
// store failure can never throw into XState (inspection observers run without try/catch).
import type { InspectionEvent } from 'xstate';
import type { BuildContext } from '../../machines/build.machine.js';
import type { PhaseName } from '../../machines/phases.js';
import type { NewEvent } from '../store/index.js';

/** What the log needs to know of one machine snapshot. */
export interface StepView {
  /** Top-level state: a phase's state key, `rollback`, `awaitingDecision`, `done`, `failed`, `interrupted`, `start`. */
  top: string;
  /** `attempt` or `backoff` inside a phase state. */
  sub: string | null;
  context: BuildContext;
}

export function viewOf(value: unknown, context: BuildContext): StepView {
  if (typeof value === 'string') return { top: value, sub: null, context };
  const [top, sub] = Object.entries(value as Record<string, unknown>)[0] ?? ['start', null];
  return { top, sub: typeof sub === 'string' ? sub : null, context };
}

const inPhase = (v: StepView) => v.sub !== null;

/** Phases that run once per provisioner (a checkpoint comes after one): their events name it. */
const byProvisioner = (phase: PhaseName) => phase === 'provision' || phase === 'checkpoint';

/** Events that record the step from `prev` to `next`, in the order they happened. */
export function transitionEvents(prev: StepView | null, next: StepView, retryDelayMs?: number): NewEvent[] {
  const out: NewEvent[] = [];
  const c = next.context;
  const p = prev?.context;

  // A phase run finished (each completion is counted, so none is missed or doubled).
  if (c.lastCompleted && c.completions > (p?.completions ?? 0)) {
    const done = c.lastCompleted;
    out.push({
      type: 'phase.succeeded',
      phase: done.phase,
      attempt: p?.attempt ?? 0,
      data: {
        ...(byProvisioner(done.phase) ? { provisionerIndex: done.provisionerIndex } : {}),
        ...(p?.phaseStartedAt != null ? { durationMs: Math.max(0, Date.now() - p.phaseStartedAt) } : {}),
        facts: done.output,
        ...(prev?.top === 'rollback' ? { reason: 'failure' } : {}),
      },
    });
  }
  // The build failed in a phase (each failure once).
  if (c.failure && c.failure !== p?.failure) {
    out.push({ type: 'phase.failed', phase: c.failure.phase, attempt: p?.attempt ?? c.attempt, data: { error: c.failure.error } });
  }
  // The error-cleanup-provisioner ended (its events carry `errorCleanup`: resume passes over them).
  if (c.errorCleanup.state === 'done' && p?.errorCleanup.state === 'running') {
    const errorCleanup = { errorCleanup: true, provisionerIndex: c.provisionerIndex };
    out.push(
      c.errorCleanup.error
        ? { type: 'phase.failed', phase: 'provision', attempt: p.attempt, data: { error: c.errorCleanup.error, ...errorCleanup } }
        : { type: 'phase.succeeded', phase: 'provision', attempt: p.attempt, data: { ...errorCleanup, ...(p.phaseStartedAt != null ? { durationMs: Math.max(0, Date.now() - p.phaseStartedAt) } : {}) } },
    );
  }
  if (next.top === 'rollback' && prev?.top !== 'rollback') {
    out.push({ type: 'cleanup.started', phase: 'cleanup', attempt: 0, data: { reason: 'failure' } });
  }
  if (c.cleanupError && c.cleanupError !== p?.cleanupError) {
    out.push({ type: 'phase.failed', phase: 'cleanup', attempt: c.attempt, data: { error: c.cleanupError, reason: 'failure' } });
  }
  // continue_on_error: the provisioner failed, the build goes on.
  if (c.continuedFailure && c.continuedFailure !== p?.continuedFailure) {
    out.push({ type: 'phase.failed', phase: 'provision', attempt: p?.attempt ?? c.attempt, data: { error: c.continuedFailure.error, provisionerIndex: c.continuedFailure.provisionerIndex, continued: true } });
  }
  if (inPhase(next) && c.phase) {
    const phase: PhaseName = c.phase;
    const samePhaseRun =
      prev !== null && inPhase(prev) && prev.top === next.top && p?.phase === phase && p?.provisionerIndex === c.provisionerIndex && c.attempt >= (p?.attempt ?? 0);
    if (next.sub === 'attempt' && (!samePhaseRun || c.attempt !== p?.attempt)) {
      out.push({
        type: 'phase.started',
        phase,
        attempt: c.attempt,
        data: {
          deadlineAt: c.phaseDeadlineAt === null ? null : new Date(c.phaseDeadlineAt).toISOString(),
          ...(byProvisioner(phase) ? { provisionerIndex: c.provisionerIndex } : {}),
          ...(next.top === 'rollback' ? { reason: 'failure' } : {}),
          ...(next.top === 'error_cleanup' ? { errorCleanup: true } : {}),
        },
      });
    } else if (next.sub === 'backoff' && prev?.sub === 'attempt') {
      out.push({
        type: 'phase.retrying',
        phase,
        attempt: c.attempt,
        data: {
          error: c.lastError,
          ...(retryDelayMs !== undefined ? { delayMs: retryDelayMs } : {}),
          // How long the phase may keep retrying: the progress shows the time left.
          deadlineAt: c.phaseDeadlineAt === null ? null : new Date(c.phaseDeadlineAt).toISOString(),
        },
      });
    }
  }
  return out;
}

/**
 * An inspection observer for `createActor(machine, { inspect })` that hands each root
 * transition's events to `append`. It never throws: a failing append (a throw, or a rejected
 * promise: an asynchronous store's append is only queued here, in order) is passed to `onError`.
 */
export function persistObserver(
  append: (events: NewEvent[]) => void | Promise<unknown>,
  onError: (error: unknown) => void,
  lastRetryDelay: () => number | undefined,
): (event: InspectionEvent) => void {
  let prev: StepView | null = null;
  return (inspection) => {
    try {
      if (inspection.type !== '@xstate.snapshot') return;
      // Only the build machine itself: its phase actors have no parent-less snapshots of interest.
      if (inspection.actorRef.sessionId !== inspection.rootId) return;
      const snapshot = inspection.snapshot as { value?: unknown; context?: BuildContext };
      if (!snapshot.context || snapshot.value === undefined) return;
      const next = viewOf(snapshot.value, snapshot.context);
      const events = transitionEvents(prev, next, lastRetryDelay());
      prev = next;
      if (events.length > 0) append(events)?.catch(report);
    } catch (error) {
      report(error);
    }
  };
  function report(error: unknown): void {
    try {
      onError(error);
    } catch {
      // nothing more can be done without throwing into XState
    }
  }
}
