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
  /** Attempts in all, the first included (1 = never retry). */
  attempts: number;
  backoff: Backoff;
  /** One attempt is abandoned (and may be retried) after this long; 0 = no limit. */
  attemptTimeoutMs: number;
  /** The whole phase, retries included, fails after this long; 0 = no limit. */
  phaseTimeoutMs: number;
  retryOn: RetryOn;
}

export type PhasePolicies = Record<PhaseName, PhasePolicy>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const apiBackoff: Backoff = { initialMs: 1 * SECOND, factor: 2, maxMs: 30 * SECOND, jitter: 0.2 };

const p = (attempts: number, attemptTimeoutMs: number, phaseTimeoutMs: number, retryOn: RetryOn = 'retryable'): PhasePolicy => ({
  attempts,
  backoff: apiBackoff,
  attemptTimeoutMs,
  phaseTimeoutMs,
  retryOn,
});

/**
 * The defaults. API calls retry transient errors; waits are bounded by the phase deadline (their
 * own polling absorbs transient errors); a provisioner's policy comes from its `max_retries` and
 * `timeout` (see provisionerPolicy).
 */
export const DEFAULT_PHASE_POLICIES: PhasePolicies = {
  prepare: p(3, 1 * MINUTE, 5 * MINUTE),
  key: p(1, 30 * SECOND, 30 * SECOND),
  'volumes.create': p(4, 2 * MINUTE, 10 * MINUTE),
  'server.create': p(4, 2 * MINUTE, 10 * MINUTE),
  'volumes.iops': p(4, 1 * MINUTE, 5 * MINUTE),
  'server.start': p(4, 1 * MINUTE, 5 * MINUTE),
  'server.wait_running': p(3, 0, 10 * MINUTE),
  'ssh.connect': p(1, 0, 5 * MINUTE),
  provision: p(1, 0, 0, 'any'),
  'server.stop': p(4, 1 * MINUTE, 5 * MINUTE),
  'server.wait_stopped': p(3, 0, 10 * MINUTE),
  'snapshot.create': p(4, 2 * MINUTE, 10 * MINUTE),
  'snapshot.wait': p(3, 0, 60 * MINUTE),
  'volume_snapshots.create': p(4, 2 * MINUTE, 10 * MINUTE),
  'volume_snapshots.wait': p(3, 0, 60 * MINUTE),
  'image.create': p(4, 2 * MINUTE, 10 * MINUTE),
  'image.wait': p(3, 0, 60 * MINUTE),
  cleanup: p(5, 2 * MINUTE, 15 * MINUTE),
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

/** The policy table for one build: defaults, then the template's timeouts, then `kiln_phase_policy`. */
export function resolvePhasePolicies(spec: Pick<BuildSpec, 'timeouts' | 'phasePolicy' | 'communicator'>): PhasePolicies {
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
  };
  for (const phase of Object.keys(spec.phasePolicy) as PhaseName[]) {
    table[phase] = applyOverride(table[phase], spec.phasePolicy[phase]);
  }
  return table;
}

/** A provisioner's own policy: `max_retries` extra attempts, `timeout` per attempt. */
export function provisionerPolicy(base: PhasePolicy, provisioner: Pick<ProvisionerSpec, 'maxRetries' | 'timeoutMs'>): PhasePolicy {
  return {
    ...base,
    attempts: Math.max(base.attempts, provisioner.maxRetries + 1),
    attemptTimeoutMs: provisioner.timeoutMs > 0 ? provisioner.timeoutMs : base.attemptTimeoutMs,
  };
}

/** Whether a failed attempt with this error may be tried again under `retryOn`. */
export function retries(retryOn: RetryOn, error: { name: string; retryable: boolean }): boolean {
  if (retryOn === 'any') return true;
  if (retryOn === 'retryable') return error.retryable;
  return retryOn.includes(error.name);
}
