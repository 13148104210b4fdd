// Runs one build: the machine with the engine's phase actors, every transition appended to the
// event store, one process per build (lease + heartbeat), interruption at the next safe point.
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
import { backoffDelay, ScalewayClient, ServerLooks, type RequestReport } from '../scaleway/index.js';
import { storeProblemMessage, StoreUnavailableError, thisProcess, type Artifact, type BuildStore, type ErrorInfo, type LeaseOwner, type OnError } from '../store/index.js';
import type { BuildSpec } from '../template/spec.js';
import { BuildLog, settledWithin, STORE_GOODBYE_MS } from './log.js';
import { persistObserver } from './persist.js';
import { artifactOf } from './resume.js';
import { createPhaseActors } from './phases/index.js';
import { PhaseRuntime } from './runtime.js';
import type { CacheSettings } from './cache-settings.js';
import type { WaitHistory } from './wait-history.js';

export type Decision = 'retry' | 'cleanup' | 'abort';

export interface RunOptions {
  store: BuildStore;
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
  /** Shared with the other builds of this process on the same account (sharedServerLooks). */
  serverLooks?: ServerLooks;
  /** Shared with the other builds of this process: past waits read once, and learnt from as they finish. */
  waitHistory?: WaitHistory;
  /** The build cache (`--cache`, `--cache-max-age`, `--checkpoint-after`); none: off. */
  cache?: CacheSettings;
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
  /** Interrupted because the event log could not be written (the store unreachable, or refusing): why. */
  logFailure?: { message: string; storeUnavailable: boolean };
}

/**
 * How long a build's lease lives unless renewed (the heartbeat renews it every third of it);
 * `kiln resume` takes it for as long. The relation that keeps one driver per build: a run acts on
 * the cloud only after an append committed, and the log stops trying an unreachable store once
 * the lease may lapse (`leaseHeldUntil`: the last renewal sent, plus the TTL, less a margin). So an
 * outage ends in a stopped build, never in an append or an API call after another process could
 * have taken the build. 60 s leaves the log's whole retry window (STORE_RETRY_MS, 30 s) to any
 * outage: a renewal at most 20 s before it starts, a 10 s margin.
 */
export const LEASE_TTL_MS = 60_000;

/** What is taken off a lease's time before the run stops trusting it: clock rates, a commit in flight. */
const leaseMargin = (ttlMs: number) => Math.floor(ttlMs / 6);

/** What makes two builds' API calls interchangeable: the same API, zone and credentials. */
type Account = Pick<BuildSpec, 'apiUrl' | 'zone' | 'secretKey' | 'projectId' | 'organizationId'>;

/**
 * For builds run side by side in one process: one ServerLooks per account, so that their
 * servers' looks are gathered into few calls. None for builds run one at a time (nothing to
 * gather: each look keeps its own GET at once).
 */
export function sharedServerLooks(specs: readonly Account[], parallelBuilds: number): (spec: Account) => ServerLooks | undefined {
  // --parallel-builds 1: one after the other; 0: no limit.
  if (specs.length < 2 || parallelBuilds === 1) return () => undefined;
  const byAccount = new Map<string, ServerLooks>();
  const account = (s: Account) => JSON.stringify([s.apiUrl, s.zone, s.secretKey, s.projectId, s.organizationId]);
  return (spec) => {
    const key = account(spec);
    let looks = byAccount.get(key);
    if (!looks) byAccount.set(key, (looks = new ServerLooks()));
    return looks;
  };
}

/** Builds the machine input from a spec: the policy table with the template's overrides. */
export function machineInput(buildId: string, spec: BuildSpec, onError: OnError, resumeAt?: RunOptions['resumeAt']): BuildMachineInput {
  const policies = resolvePhasePolicies(spec);
  return {
    buildId,
    onError,
    policies,
    communicator: spec.communicator.type === 'ssh' ? 'ssh' : 'none',
    provisionerPolicies: spec.provisioners.map((p) => provisionerPolicy(policies.provision, p)),
    ...(spec.errorCleanupProvisioner ? { errorCleanupPolicy: provisionerPolicy(policies.provision, spec.errorCleanupProvisioner) } : {}),
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
    const owner = thisProcess();
    const ttl = this.options.leaseTtlMs ?? LEASE_TTL_MS;
    const acquiredAt = Date.now();
    await store.acquireLease(buildId, owner, ttl);
    // Lost: another process took the build over (this one was frozen, or cut off from the store,
    // past the lease's expiry). Two drivers must never act on one build: stop at the next safe point.
    const heartbeat = startHeartbeat(store, buildId, owner, ttl, acquiredAt, () => this.interrupt());
    const stopHeartbeat = heartbeat.stop;
    let rt: PhaseRuntime | undefined;
    try {
      let persistFailure: unknown;
      let stopForLog = (error: unknown) => void (persistFailure ??= error);
      const log = new BuildLog({
        store,
        buildId,
        lastSeq: (await store.getBuild(buildId))?.lastSeq ?? 0,
        onFailure: (error) => stopForLog(error),
        leaseHeldUntil: heartbeat.heldUntil,
      });
      const client = new ScalewayClient({
        apiUrl: spec.apiUrl,
        zone: spec.zone,
        secretKey: spec.secretKey,
        projectId: spec.projectId,
        organizationId: spec.organizationId,
        onRequest: this.options.onRequest,
      });
      rt = new PhaseRuntime({
        log,
        client,
        spec,
        buildId,
        stateDir: this.options.stateDir,
        keyPassphrase: this.options.keyPassphrase,
        force: spec.force,
        sshPortOverride: this.options.sshPortOverride,
        serverLooks: this.options.serverLooks,
        waitHistory: this.options.waitHistory,
        cache: this.options.cache,
      });
      let lastRetryDelay: number | undefined;
      const machine = createBuildMachine({
        retryDelay: (policy, attempt) => {
          lastRetryDelay = backoffDelay({ attempts: policy.attempts, ...policy.backoff, maxTotalMs: Number.POSITIVE_INFINITY }, attempt);
          return lastRetryDelay;
        },
      }).provide({ actors: phaseActors(createPhaseActors(rt)) });

      const phaseRuntime = rt;
      const actor = createActor(machine, {
        input: machineInput(buildId, spec, onError === 'ask' && !this.options.decide ? 'cleanup' : onError, this.options.resumeAt),
        inspect: persistObserver(
          (events) => phaseRuntime.appendEvents(events),
          (error) => stopForLog(error),
          () => lastRetryDelay,
        ),
      });
      // Without the log there is no crash safety: stop at the next safe point (sent after the
      // current transition: the observer runs inside XState's).
      stopForLog = (error) => {
        persistFailure ??= error;
        queueMicrotask(() => actor.send({ type: 'INTERRUPT' }));
      };
      this.sendInterrupt = () => actor.send({ type: 'INTERRUPT' });

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
      await log.drained();
      return await this.finish(end.value, end.context, () => persistFailure, rt);
    } finally {
      rt?.closeCommunicator();
      stopHeartbeat();
      // (A store that stopped answering must not hold the build's end: the lease expires on its own.)
      await settledWithin(() => store.releaseLease(buildId, owner), STORE_GOODBYE_MS);
    }
  }

  private async finish(value: string, context: BuildContext, persistFailure: () => unknown, rt: PhaseRuntime): Promise<BuildOutcome> {
    const { spec, buildId } = this.options;
    const base = { buildId, builderName: spec.name, phase: context.phase };
    const interrupted = async (failure: unknown = persistFailure()): Promise<BuildOutcome> => {
      const reason = failure ? `the event log could not be written: ${(failure as Error).message}` : 'interrupted by a signal';
      try {
        await rt.appendEvents([{ type: 'build.interrupted', phase: context.phase, data: { reason } }]);
      } catch {
        // The log is what failed; the message the outcome carries still tells the user.
      }
      // A damaged, read-only or full store file is said as such, with its path.
      const message = failure ? storeProblemMessage(failure, this.options.store.location) ?? (failure as Error).message : '';
      const logFailure = failure ? { message, storeUnavailable: failure instanceof StoreUnavailableError } : undefined;
      return { ...base, status: 'interrupted', ...(logFailure ? { logFailure } : {}) };
    };
    // The log failed (the store unreachable): whatever the machine made of it, the build stopped
    // as on a signal, its last durable event is where `kiln resume` continues.
    if (value === 'interrupted' || persistFailure()) return interrupted();
    try {
      const currentArtifact = async (): Promise<Artifact> => artifactOf(await rt.build(), context.facts, spec);
      if (value === 'done') {
        const artifact = await currentArtifact();
        await rt.appendEvents([{ type: 'build.succeeded', data: { artifact } }]);
        return { ...base, status: 'succeeded', artifact };
      }
      const failure = context.failure ?? { phase: context.phase ?? 'prepare', error: { name: 'Error', message: 'the build failed', retryable: false } };
      const rolledBack = context.phase === 'cleanup' && failure.phase !== 'cleanup';
      const cleanedUp = rolledBack && context.cleanupError === null;
      await rt.appendEvents([
        {
          type: 'build.failed',
          phase: failure.phase,
          // A post-processor's failure comes after the image: it is still the build's artifact (gc keeps it).
          data: { error: failure.error, cleanedUp, ...(context.cleanupError ? { cleanupError: context.cleanupError } : {}), ...(failure.phase === 'postprocess' ? { artifact: await currentArtifact() } : {}) },
        },
      ]);
      return { ...base, status: 'failed', failure: rt.scrub(failure), cleanedUp };
    } catch (error) {
      // The outcome could not be recorded: the build is left as interrupted, for resume to finish.
      if (!persistFailure() && !rt.deps.log.failed && !(error instanceof StoreUnavailableError)) throw error;
      return interrupted(persistFailure() ?? rt.deps.log.failed ?? error);
    }
  }
}

/**
 * Renews the lease every third of its time to live until the returned stop is called; a renewal
 * never overlaps the previous one. A renewal that fails (a busy or briefly unreachable store) is
 * skipped: the lease is judged by the store's clock, and the next renewal catches up before it
 * expires. A renewal refused means another process took the build: `onLost`; so does a failed one
 * once the lease may have lapsed. `heldUntil` bounds the log's retries (LEASE_TTL_MS).
 */
function startHeartbeat(
  store: BuildStore,
  buildId: string,
  owner: LeaseOwner,
  ttlMs: number,
  acquiredAt: number,
  onLost: () => void,
): { stop: () => void; heldUntil: () => number } {
  const intervalMs = Math.max(1_000, Math.floor(ttlMs / 3));
  // When the last renewal that succeeded was sent: the store's expiry is at least that plus the TTL.
  let confirmedAt = acquiredAt;
  const heldUntil = () => confirmedAt + ttlMs - leaseMargin(ttlMs);
  let stopped = false;
  const schedule = () => setTimeout(() => void beat(), intervalMs).unref();
  const beat = async () => {
    const sentAt = Date.now();
    try {
      if (await store.renewLease(buildId, owner, ttlMs)) confirmedAt = sentAt;
      else onLost();
    } catch {
      // See above: the next renewal catches up, unless the lease may have lapsed by now.
      if (Date.now() >= heldUntil()) onLost();
    }
    if (!stopped) timer = schedule();
  };
  let timer = schedule();
  // A renewal still in flight is not waited for: once the lease is released it changes nothing.
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
    heldUntil,
  };
}
