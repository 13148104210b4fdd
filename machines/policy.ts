// The retry and timeout policy of every phase: ONE table of defaults, then the template's
// overrides (its `*_timeout` keys and `kiln_phase_policy`). The machine enforces what this
// resolves to; nothing else in kiln declares phase retries or timeouts.
import type { PhaseName } from './phases.js';
import type { BuildSpec, PhasePolicyOverride, ProvisionerSpec } from '../src/template/spec.js';

export interface Backoff {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** 0..1: the share of each delay that is randomised. */
  jitter: number;
}

/** Which failed attempts are tried again: errors marked retryable, any error, or errors with these names. */
export type RetryOn = 'retryable' | 'any' | readonly string[];

export interface PhasePolicy {
  /**
   * Attempts in all, the first included (1 = never retry), or UNTIL_DEADLINE: as many as start
   * before `phaseTimeoutMs` runs out. Only errors that `retryOn` accepts are retried at all.
   */
  attempts: number;
  backoff: Backoff;
  /** One attempt is abandoned (and may be retried) after this long; 0 = no limit. */
  attemptTimeoutMs: number;
  /** The whole phase, retries included, fails after this long; 0 = no limit. */
  phaseTimeoutMs: number;
  retryOn: RetryOn;
  /** A provisioner's continue_on_error: once its attempts are spent, its failure does not fail the build. */
  continueOnError?: boolean;
}

export type PhasePolicies = Record<PhaseName, PhasePolicy>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** How long kiln waits for cloud-init when user data is set and user_data_timeout is not (or 0). */
export const USER_DATA_WAIT_DEFAULT_MS = 10 * MINUTE;

const apiBackoff: Backoff = { initialMs: 1 * SECOND, factor: 2, maxMs: 30 * SECOND, jitter: 0.2 };

/** Attempts without a count: transient errors are retried until the phase's deadline (`phaseTimeoutMs`). */
export const UNTIL_DEADLINE = Number.POSITIVE_INFINITY;

const p = (attempts: number, attemptTimeoutMs: number, phaseTimeoutMs: number, retryOn: RetryOn = 'retryable'): PhasePolicy => ({
  attempts,
  backoff: apiBackoff,
  attemptTimeoutMs,
  phaseTimeoutMs,
  retryOn,
});

/**
 * The defaults. Phases that talk to the Scaleway API retry transient errors (5xx, 429, resets,
 * timeouts, ambiguous creates that reconcile found nothing for: `retryable`) until their deadline,
 * and fail at once on any other error; a minute of 5xx answers must not cost a half-hour build.
 * `key` is local; `ssh.connect` retries inside its own loop until its deadline; a provisioner's
 * policy comes from its `max_retries` and `timeout` (see provisionerPolicy).
 */
export const DEFAULT_PHASE_POLICIES: PhasePolicies = {
  prepare: p(UNTIL_DEADLINE, 1 * MINUTE, 5 * MINUTE),
  key: p(1, 30 * SECOND, 30 * SECOND),
  'volumes.create': p(UNTIL_DEADLINE, 2 * MINUTE, 10 * MINUTE),
  'server.create': p(UNTIL_DEADLINE, 2 * MINUTE, 10 * MINUTE),
  'volumes.iops': p(UNTIL_DEADLINE, 1 * MINUTE, 5 * MINUTE),
  'server.start': p(UNTIL_DEADLINE, 1 * MINUTE, 5 * MINUTE),
  'server.wait_running': p(UNTIL_DEADLINE, 0, 10 * MINUTE),
  'network.attach': p(UNTIL_DEADLINE, 0, 10 * MINUTE),
  'ssh.connect': p(1, 0, 5 * MINUTE),
  provision: p(1, 0, 0, 'any'),
  // A stop, snapshots, an image and a boot: as long as those phases together. The actor gives a
  // checkpoint up (the build goes on without it) rather than let the machine fail the build.
  checkpoint: p(UNTIL_DEADLINE, 0, 90 * MINUTE),
  // Bounded by user_data_timeout (see resolvePhasePolicies); the actor's own wait ends first.
  'user_data.wait': p(3, 0, USER_DATA_WAIT_DEFAULT_MS + 2 * MINUTE),
  'machine.cleanup': p(3, 1 * MINUTE, 5 * MINUTE),
  'server.stop': p(UNTIL_DEADLINE, 1 * MINUTE, 5 * MINUTE),
  'server.wait_stopped': p(UNTIL_DEADLINE, 0, 10 * MINUTE),
  'snapshot.create': p(UNTIL_DEADLINE, 2 * MINUTE, 10 * MINUTE),
  'snapshot.wait': p(UNTIL_DEADLINE, 0, 60 * MINUTE),
  'volume_snapshots.create': p(UNTIL_DEADLINE, 2 * MINUTE, 10 * MINUTE),
  'volume_snapshots.wait': p(UNTIL_DEADLINE, 0, 60 * MINUTE),
  'image.create': p(UNTIL_DEADLINE, 2 * MINUTE, 10 * MINUTE),
  'image.wait': p(UNTIL_DEADLINE, 0, 60 * MINUTE),
  cleanup: p(UNTIL_DEADLINE, 2 * MINUTE, 15 * MINUTE),
  postprocess: p(1, 0, 0, 'any'),
};

function applyOverride(base: PhasePolicy, o: PhasePolicyOverride | undefined): PhasePolicy {
  if (!o) return base;
  return {
    ...base,
    attempts: o.attempts ?? base.attempts,
    attemptTimeoutMs: o.attemptTimeoutMs ?? base.attemptTimeoutMs,
    phaseTimeoutMs: o.phaseTimeoutMs ?? base.phaseTimeoutMs,
    backoff: { ...base.backoff, ...stripUndefined(o.backoff ?? {}) },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Cleanup stops the server and deletes what the build made: it waits on the same things as
 * server_shutdown_timeout and state_timeout (the template's defaults: 10 minutes each, when unset
 * here). An attempt lasts no longer than the longer of them and the phase no longer than both, so
 * that short timeouts make a short cleanup; the defaults give the table's 2 and 15 minutes.
 */
function cleanupPolicy(t: BuildSpec['timeouts']): PhasePolicy {
  const base = DEFAULT_PHASE_POLICIES.cleanup;
  const shutdownMs = t.serverShutdownMs > 0 ? t.serverShutdownMs : 10 * MINUTE;
  const stateMs = t.stateMs > 0 ? t.stateMs : 10 * MINUTE;
  return {
    ...base,
    attemptTimeoutMs: Math.min(base.attemptTimeoutMs, Math.max(shutdownMs, stateMs)),
    phaseTimeoutMs: Math.min(base.phaseTimeoutMs, shutdownMs + stateMs),
  };
}

/** The policy table for one build: defaults, then the template's timeouts, then `kiln_phase_policy`. */
export function resolvePhasePolicies(spec: Pick<BuildSpec, 'timeouts' | 'phasePolicy' | 'communicator'> & Partial<Pick<BuildSpec, 'userDataTimeoutMs'>>): PhasePolicies {
  const t = spec.timeouts;
  const withPhaseTimeout = (phase: PhaseName, ms: number | undefined): PhasePolicy =>
    ms && ms > 0 ? { ...DEFAULT_PHASE_POLICIES[phase], phaseTimeoutMs: ms } : DEFAULT_PHASE_POLICIES[phase];
  const table: PhasePolicies = {
    ...DEFAULT_PHASE_POLICIES,
    'server.create': withPhaseTimeout('server.create', t.stateMs),
    'server.start': withPhaseTimeout('server.start', t.stateMs),
    'server.wait_running': withPhaseTimeout('server.wait_running', t.serverCreationMs),
    'ssh.connect': withPhaseTimeout('ssh.connect', spec.communicator.type === 'ssh' ? spec.communicator.timeoutMs : undefined),
    'server.stop': withPhaseTimeout('server.stop', t.stateMs),
    'server.wait_stopped': withPhaseTimeout('server.wait_stopped', t.serverShutdownMs),
    'snapshot.wait': withPhaseTimeout('snapshot.wait', t.snapshotCreationMs),
    'volume_snapshots.wait': withPhaseTimeout('volume_snapshots.wait', t.snapshotCreationMs),
    'image.wait': withPhaseTimeout('image.wait', t.imageCreationMs),
    'user_data.wait': withPhaseTimeout('user_data.wait', (spec.userDataTimeoutMs || USER_DATA_WAIT_DEFAULT_MS) + 2 * MINUTE),
    cleanup: cleanupPolicy(t),
  };
  for (const phase of Object.keys(spec.phasePolicy) as PhaseName[]) {
    table[phase] = applyOverride(table[phase], spec.phasePolicy[phase]);
  }
  return table;
}

/** A provisioner's own policy: `max_retries` extra attempts, `timeout` per attempt, continue_on_error. */
export function provisionerPolicy(base: PhasePolicy, provisioner: Pick<ProvisionerSpec, 'maxRetries' | 'timeoutMs' | 'continueOnError'>): PhasePolicy {
  return {
    ...base,
    attempts: Math.max(base.attempts, provisioner.maxRetries + 1),
    attemptTimeoutMs: provisioner.timeoutMs > 0 ? provisioner.timeoutMs : base.attemptTimeoutMs,
    ...(provisioner.continueOnError ? { continueOnError: true } : {}),
  };
}

/** Whether a failed attempt with this error may be tried again under `retryOn`. */
export function retries(retryOn: RetryOn, error: { name: string; retryable: boolean }): boolean {
  if (retryOn === 'any') return true;
  if (retryOn === 'retryable') return error.retryable;
  return retryOn.includes(error.name);
}
