// Runs one build: the machine with the engine's phase actors, every transition appended to the
// event store, one process per build (lease + heartbeat), interruption at the next safe point.
import { hostname } from 'node:os';
import { createActor } from 'xstate';
import {
  createBuildMachine,
  phaseActors,
  type BuildContext,
  type BuildFacts,
  type BuildMachineInput,
} from '../../machines/build.machine.js';
import type { PhaseName } from '../../machines/phases.js';
import { provisionerPolicy, resolvePhasePolicies } from '../../machines/policy.js';
import { optionalPhasesOf } from './phases/optional.js';
import { backoffDelay, ScalewayClient, type RequestReport } from '../scaleway/index.js';
import type { Artifact, ErrorInfo, EventStore, OnError } from '../store/index.js';
import type { BuildSpec } from '../template/spec.js';
import { persistObserver } from './persist.js';
import { artifactOf } from './resume.js';
import { createPhaseActors, PhaseRuntime } from './phases.js';

export type Decision = 'retry' | 'cleanup' | 'abort';

export interface RunOptions {
  store: EventStore;
  buildId: string;
  /** The full spec (secrets included; kept in memory only). */
  spec: BuildSpec;
  onError: OnError;
  /** The state directory (temporary keys live in `<stateDir>/keys`). */
  stateDir: string;
  /** KILN_KEY_PASSPHRASE: seals the temporary private key into the store (see key-seal.ts). */
  keyPassphrase?: string;
  /** The embedded simulator's SSH port (--sim). */
  sshPortOverride?: number;
  /** --on-error ask: called when a phase failed; without it, ask behaves as cleanup. */
  decide?: (failure: { phase: PhaseName; error: ErrorInfo }) => Promise<Decision>;
  /** Where the machine starts (resume); default: the beginning. */
  resumeAt?: { phase: PhaseName; provisionerIndex: number; facts: BuildFacts };
  /** Lease time-to-live; the heartbeat renews it every third of it. */
  leaseTtlMs?: number;
  /** Every API attempt (--debug). */
  onRequest?: (report: RequestReport) => void;
}

export interface BuildOutcome {
  buildId: string;
  builderName: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  artifact?: Artifact;
  /** Why the build failed (the failed phase and its error). */
  failure?: { phase: PhaseName; error: ErrorInfo };
  /** After a failure: whether the build's resources were removed. */
  cleanedUp?: boolean;
  /** The phase the build stopped in (interrupted or failed). */
  phase?: PhaseName | null;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;

/** Builds the machine input from a spec: the policy table with the template's overrides. */
export function machineInput(buildId: string, spec: BuildSpec, onError: OnError, resumeAt?: RunOptions['resumeAt']): BuildMachineInput {
  const policies = resolvePhasePolicies(spec);
  return {
    buildId,
    onError,
    policies,
    communicator: spec.communicator.type === 'ssh' ? 'ssh' : 'none',
    provisionerPolicies: spec.provisioners.map((p) => provisionerPolicy(policies.provision, p)),
    optionalPhases: optionalPhasesOf(spec),
    ...(resumeAt ? { startAt: resumeAt.phase, provisionerIndex: resumeAt.provisionerIndex, facts: resumeAt.facts } : {}),
  };
}

/** A build being driven by this process. `interrupt()` asks it to stop at the next safe point. */
export class BuildRun {
  readonly buildId: string;
  private interruptRequested = false;
  private sendInterrupt: (() => void) | undefined;

  constructor(private readonly options: RunOptions) {
    this.buildId = options.buildId;
  }

  interrupt(): void {
    this.interruptRequested = true;
    this.sendInterrupt?.();
  }

  /** Drives the machine to its end. The build row must exist (createBuild) and is leased here. */
  async run(): Promise<BuildOutcome> {
    const { store, buildId, spec, onError } = this.options;
    const owner = { pid: process.pid, host: hostname() };
    const ttl = this.options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    store.acquireLease(buildId, owner, ttl);
    const heartbeat = setInterval(() => {
      try {
        // Lost: another process took the build over (this one was frozen past the lease's
        // expiry). Two drivers must never act on one build: stop at the next safe point.
        if (!store.renewLease(buildId, owner, ttl)) this.interrupt();
      } catch {
        // A busy database delays one renewal; the next one catches up well before expiry.
      }
    }, Math.max(1_000, Math.floor(ttl / 3)));
    heartbeat.unref();

    const client = new ScalewayClient({
      apiUrl: spec.apiUrl,
      zone: spec.zone,
      secretKey: spec.secretKey,
      projectId: spec.projectId,
      organizationId: spec.organizationId,
      onRequest: this.options.onRequest,
    });
    const rt = new PhaseRuntime({
      store,
      client,
      spec,
      buildId,
      stateDir: this.options.stateDir,
      keyPassphrase: this.options.keyPassphrase,
      force: spec.force,
      sshPortOverride: this.options.sshPortOverride,
    });
    let lastRetryDelay: number | undefined;
    const machine = createBuildMachine({
      retryDelay: (policy, attempt) => {
        lastRetryDelay = backoffDelay({ attempts: policy.attempts, ...policy.backoff, maxTotalMs: Number.POSITIVE_INFINITY }, attempt);
        return lastRetryDelay;
      },
    }).provide({ actors: phaseActors(createPhaseActors(rt)) });

    let persistFailure: unknown;
    const actor = createActor(machine, {
      input: machineInput(buildId, spec, onError === 'ask' && !this.options.decide ? 'cleanup' : onError, this.options.resumeAt),
      inspect: persistObserver(
        (events) => rt.appendEvents(events),
        (error) => {
          // Without the log there is no crash safety: stop at the next safe point.
          persistFailure ??= error;
          queueMicrotask(() => actor.send({ type: 'INTERRUPT' }));
        },
        () => lastRetryDelay,
      ),
    });
    this.sendInterrupt = () => actor.send({ type: 'INTERRUPT' });

    try {
      const end = await new Promise<{ value: string; context: BuildContext }>((resolve, reject) => {
        let asking = false;
        actor.subscribe({
          next: (snapshot) => {
            if ((snapshot.value as unknown) === 'awaitingDecision' && !asking && this.options.decide && snapshot.context.failure) {
              asking = true;
              this.options
                .decide(snapshot.context.failure)
                .then((d) => actor.send({ type: d === 'retry' ? 'DECIDE.RETRY' : d === 'cleanup' ? 'DECIDE.CLEANUP' : 'DECIDE.ABORT' }))
                .catch(() => actor.send({ type: 'DECIDE.ABORT' }))
                .finally(() => (asking = false));
            }
          },
          complete: () => {
            const s = actor.getSnapshot();
            resolve({ value: String(s.value), context: s.context });
          },
          error: reject,
        });
        actor.start();
        if (this.interruptRequested) actor.send({ type: 'INTERRUPT' });
      });
      return this.finish(end.value, end.context, persistFailure, rt);
    } finally {
      rt.closeCommunicator();
      clearInterval(heartbeat);
      try {
        store.releaseLease(buildId, owner);
      } catch {
        // The lease expires on its own.
      }
    }
  }

  private finish(value: string, context: BuildContext, persistFailure: unknown, rt: PhaseRuntime): BuildOutcome {
    const { store, buildId, spec } = this.options;
    const base = { buildId, builderName: spec.name, phase: context.phase };
    const currentArtifact = (): Artifact => artifactOf(store.getBuild(buildId), context.facts, spec);
    if (value === 'done') {
      const artifact = currentArtifact();
      rt.appendEvents([{ type: 'build.succeeded', data: { artifact } }]);
      return { ...base, status: 'succeeded', artifact };
    }
    if (value === 'interrupted') {
      const reason = persistFailure ? `the event log could not be written: ${(persistFailure as Error).message}` : 'interrupted by a signal';
      try {
        rt.appendEvents([{ type: 'build.interrupted', phase: context.phase, data: { reason } }]);
      } catch {
        // The log is what failed; the message below still tells the user.
      }
      return { ...base, status: 'interrupted' };
    }
    const failure = context.failure ?? { phase: context.phase ?? 'prepare', error: { name: 'Error', message: 'the build failed', retryable: false } };
    const rolledBack = context.phase === 'cleanup' && failure.phase !== 'cleanup';
    const cleanedUp = rolledBack && context.cleanupError === null;
    rt.appendEvents([
      {
        type: 'build.failed',
        phase: failure.phase,
        // A post-processor's failure comes after the image: it is still the build's artifact (gc keeps it).
        data: { error: failure.error, cleanedUp, ...(context.cleanupError ? { cleanupError: context.cleanupError } : {}), ...(failure.phase === 'postprocess' ? { artifact: currentArtifact() } : {}) },
      },
    ]);
    return { ...base, status: 'failed', failure: rt.scrub(failure), cleanedUp };
  }
}
