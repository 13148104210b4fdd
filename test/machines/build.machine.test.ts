// The build machine with stub phase actors and xstate's SimulatedClock: no network, no real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise, SimulatedClock, type SnapshotFrom } from 'xstate';
import {
  createBuildMachine,
  phaseActors,
  type BuildFacts,
  type BuildMachineInput,
  type PhaseActorLogic,
  type PhaseInput,
} from '../../machines/build.machine.js';
import { OPTIONAL_PHASES, PHASES, type PhaseName } from '../../machines/phases.js';
import { DEFAULT_PHASE_POLICIES, provisionerPolicy, resolvePhasePolicies, type PhasePolicy } from '../../machines/policy.js';
import { cleanupPlan } from '../../machines/cleanup.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A deterministic backoff for tests: initial × factor^(attempt-1), no jitter. */
const retryDelay = (policy: PhasePolicy, attempt: number) => policy.backoff.initialMs * policy.backoff.factor ** (attempt - 1);

type Behaviour = (input: PhaseInput, signal: AbortSignal) => Promise<BuildFacts>;

interface Harness {
  calls: { phase: PhaseName; attempt: number; provisionerIndex: number; reason: string }[];
  aborted: PhaseName[];
  clock: SimulatedClock;
  actor: ReturnType<typeof createActor<ReturnType<typeof createBuildMachine>>>;
  value: () => string;
}

function harness(overrides: Partial<Record<PhaseName, Behaviour>>, input: Partial<BuildMachineInput> = {}): Harness {
  const clock = new SimulatedClock();
  const calls: Harness['calls'] = [];
  const aborted: PhaseName[] = [];
  const actors = {} as Record<PhaseName, PhaseActorLogic>;
  for (const phase of PHASES) {
    actors[phase] = fromPromise<BuildFacts, PhaseInput>(async ({ input: i, signal }) => {
      calls.push({ phase: i.phase, attempt: i.attempt, provisionerIndex: i.provisionerIndex, reason: i.reason });
      signal.addEventListener('abort', () => aborted.push(i.phase));
      const behaviour = overrides[phase];
      return behaviour ? behaviour(i, signal) : {};
    });
  }
  const machine = createBuildMachine({ now: () => clock.now(), retryDelay }).provide({ actors: phaseActors(actors) });
  const actor = createActor(machine, {
    clock,
    input: {
      buildId: 'b-test',
      onError: 'cleanup',
      policies: DEFAULT_PHASE_POLICIES,
      communicator: 'ssh',
      provisionerPolicies: [DEFAULT_PHASE_POLICIES.provision, DEFAULT_PHASE_POLICIES.provision],
      ...input,
    },
  });
  const value = () => JSON.stringify(actor.getSnapshot().value);
  return { calls, aborted, clock, actor, value };
}

const never: Behaviour = (_i, signal) =>
  new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
const fail = (name: string, retryable: boolean): Behaviour => async () => {
  throw Object.assign(new Error(`${name} happened`), { name, retryable });
};

const phasesCalled = (h: Harness) => h.calls.map((c) => c.phase);

async function runToEnd(h: Harness): Promise<SnapshotFrom<ReturnType<typeof createBuildMachine>>> {
  h.actor.start();
  for (let i = 0; i < 50 && h.actor.getSnapshot().status !== 'done'; i++) await flush();
  return h.actor.getSnapshot();
}

test('a successful build runs every phase in order, each provisioner once, and ends done', async () => {
  const h = harness(
    {
      'server.create': async () => ({ serverId: 's-1', volumeIds: ['v-1', 'v-2'], extraVolumeIds: ['v-2'] }),
      'snapshot.create': async () => ({ snapshotId: 'snap-1' }),
      'image.create': async (i) => ({ imageId: 'img-1', seenSnapshot: String(i.facts.snapshotId) }),
      postprocess: async (i) => ({ postprocessedImage: String(i.facts.imageId) }),
    },
    // Every optional phase runs: block volumes, a root IOPS change, NICs, user data, post-processors…
    { optionalPhases: [...OPTIONAL_PHASES] },
  );
  const end = await runToEnd(h);
  assert.equal(end.value, 'done');
  assert.deepEqual(
    phasesCalled(h),
    // (A checkpoint runs only after the provisioners the build's facts name: none here.)
    PHASES.flatMap((p) => (p === 'provision' ? ['provision', 'provision'] : p === 'checkpoint' ? [] : [p])),
  );
  assert.deepEqual(h.calls.filter((c) => c.phase === 'provision').map((c) => c.provisionerIndex), [0, 1]);
  assert.equal(h.calls.find((c) => c.phase === 'cleanup')?.reason, 'success');
  assert.equal(end.context.facts.postprocessedImage, 'img-1', 'post-processors see the image');
  // Facts flow from phase to phase.
  assert.equal(end.context.facts.seenSnapshot, 'snap-1');
  assert.equal(end.context.facts.serverId, 's-1');
});

test('optional phases (volumes, private NICs, user data wait, machine cleanup, post-processors) run only when the input lists them', async () => {
  const none = harness({}, { optionalPhases: [] });
  assert.equal((await runToEnd(none)).value, 'done');
  assert.deepEqual(phasesCalled(none).filter((p) => OPTIONAL_PHASES.includes(p)), []);
  const one = harness({}, { optionalPhases: ['machine.cleanup'] });
  assert.equal((await runToEnd(one)).value, 'done');
  const called = phasesCalled(one);
  assert.deepEqual(called.filter((p) => OPTIONAL_PHASES.includes(p)), ['machine.cleanup']);
  assert.ok(called.lastIndexOf('provision') < called.indexOf('machine.cleanup') && called.indexOf('machine.cleanup') < called.indexOf('server.stop'));
});

test('a build without block volumes or IOPS skips the volume phases', async () => {
  const h = harness({ 'server.create': async () => ({ serverId: 's-1', volumeIds: ['v-1'], extraVolumeIds: [] }) });
  const end = await runToEnd(h);
  assert.equal(end.value, 'done');
  const volumePhases = ['volumes.create', 'volumes.iops', 'volume_snapshots.create', 'volume_snapshots.wait'];
  assert.deepEqual(phasesCalled(h).filter((p) => volumePhases.includes(p)), []);
  assert.ok(phasesCalled(h).includes('snapshot.wait') && phasesCalled(h).includes('image.create'));
});

test('extra volumes the image brought are snapshotted though the template has no block_volume', async () => {
  const h = harness({ 'server.create': async () => ({ serverId: 's-1', volumeIds: ['v-1', 'v-2'], extraVolumeIds: ['v-2'] }) });
  assert.equal((await runToEnd(h)).value, 'done');
  const called = phasesCalled(h);
  assert.deepEqual(called.filter((p) => p.startsWith('volume')), ['volume_snapshots.create', 'volume_snapshots.wait']);
});

test('communicator none skips the key and SSH phases, and provisioning and post-processing when there is nothing to run', async () => {
  const h = harness({}, { communicator: 'none', provisionerPolicies: [] });
  const end = await runToEnd(h);
  assert.equal(end.value, 'done');
  for (const skipped of ['key', 'ssh.connect', 'provision', 'postprocess'] as const) assert.ok(!phasesCalled(h).includes(skipped), skipped);
  assert.ok(phasesCalled(h).includes('server.wait_running'));
  // shell-local provisioners need no SSH: they still run.
  const local = harness({}, { communicator: 'none', provisionerPolicies: [DEFAULT_PHASE_POLICIES.provision] });
  assert.equal((await runToEnd(local)).value, 'done');
  assert.deepEqual(phasesCalled(local).filter((p) => ['key', 'ssh.connect', 'provision'].includes(p)), ['provision']);
});

test('a retryable error is retried after the backoff delay, then the build goes on', async () => {
  let failures = 0;
  const h = harness({
    'server.create': async () => {
      if (failures++ < 2) throw Object.assign(new Error('503'), { name: 'ServerError', retryable: true });
      return { serverId: 's-1' };
    },
  });
  h.actor.start();
  for (let i = 0; i < 10; i++) await flush();
  assert.match(h.value(), /server_create.*backoff/);
  assert.equal(h.actor.getSnapshot().context.lastError?.name, 'ServerError');
  const initial = DEFAULT_PHASE_POLICIES['server.create'].backoff.initialMs;
  h.clock.increment(initial - 1);
  await flush();
  assert.equal(h.calls.filter((c) => c.phase === 'server.create').length, 1, 'no retry before the delay');
  h.clock.increment(1);
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(h.calls.filter((c) => c.phase === 'server.create').length, 2);
  // The second delay doubles (factor 2).
  h.clock.increment(initial * 2);
  for (let i = 0; i < 50 && h.actor.getSnapshot().status !== 'done'; i++) await flush();
  assert.deepEqual(h.calls.filter((c) => c.phase === 'server.create').map((c) => c.attempt), [1, 2, 3]);
  assert.equal(h.actor.getSnapshot().value, 'done');
});

test('a non-retryable error fails the phase at once and the rollback cleans up after a failure', async () => {
  const h = harness({
    'server.create': async () => ({ serverId: 's-1' }),
    'snapshot.create': async () => ({ snapshotId: 'snap-1' }),
    'image.create': fail('QuotaExceeded', false),
  });
  const end = await runToEnd(h);
  assert.equal(end.value, 'failed');
  assert.equal(end.context.failure?.phase, 'image.create');
  assert.equal(end.context.failure?.error.name, 'QuotaExceeded');
  assert.equal(h.calls.filter((c) => c.phase === 'image.create').length, 1);
  const cleanup = h.calls.filter((c) => c.phase === 'cleanup');
  assert.deepEqual(cleanup.map((c) => c.reason), ['failure']);
  // The rollback sees what the build created.
  assert.equal(end.context.facts.snapshotId, 'snap-1');
});

/** Advances the clock `stepMs` at a time until the machine ends (or `maxMs` have passed). */
async function runClockToEnd(h: Harness, stepMs: number, maxMs: number): Promise<SnapshotFrom<ReturnType<typeof createBuildMachine>>> {
  h.actor.start();
  for (let elapsed = 0; elapsed <= maxMs && h.actor.getSnapshot().status !== 'done'; elapsed += stepMs) {
    for (let i = 0; i < 5; i++) await flush();
    h.clock.increment(stepMs);
  }
  for (let i = 0; i < 20 && h.actor.getSnapshot().status !== 'done'; i++) await flush();
  return h.actor.getSnapshot();
}

/** An API error as the engine hands it to the machine: transient, with what Scaleway answered. */
const answered = (answer: string): Behaviour => async () => {
  throw Object.assign(new Error(`POST /images answered ${answer}`), { name: 'TransientError', retryable: true, answer });
};

test('an explicit attempts cap (kiln_phase_policy) bounds transient retries, and the failure says what happened', async () => {
  const capped = { ...DEFAULT_PHASE_POLICIES, 'server.start': { ...DEFAULT_PHASE_POLICIES['server.start'], attempts: 3 } };
  const h = harness({ 'server.start': answered('503') }, { policies: capped });
  const end = await runClockToEnd(h, 1_000, 60_000);
  assert.equal(end.value, 'failed');
  assert.equal(h.calls.filter((c) => c.phase === 'server.start').length, 3);
  // Attempts at 0 s, 1 s and 3 s (backoff 1 s, 2 s): the third failed at 3 s.
  assert.equal(end.context.failure?.error.name, 'TransientFailure');
  assert.equal(
    end.context.failure?.error.message,
    'Scaleway kept answering 503 for 3 seconds (3 failed attempts of server.start, the most its policy allows). Last error: POST /images answered 503',
  );
  assert.equal(end.context.failure?.error.retryable, true);
});

test('transient errors are retried until the phase deadline, not a fixed count; the failure names the answers and how long', async () => {
  let n = 0;
  const h = harness({ 'image.create': (i, signal) => answered(n++ % 3 === 2 ? '503' : '502')(i, signal) });
  const timeout = DEFAULT_PHASE_POLICIES['image.create'].phaseTimeoutMs;
  const end = await runClockToEnd(h, 1_000, 2 * timeout);
  assert.equal(end.value, 'failed');
  assert.equal(end.context.failure?.phase, 'image.create');
  // The test backoff doubles from 1 s without a cap: attempts start at 0, 1, 3, 7, … 511 s; the
  // next would start after the 600 s deadline.
  assert.equal(h.calls.filter((c) => c.phase === 'image.create').length, 10);
  assert.equal(end.context.failure?.error.name, 'TransientFailure');
  assert.equal(
    end.context.failure?.error.message,
    'Scaleway kept answering 502 and 503 for 10 minutes (10 failed attempts of image.create, retried until its deadline of 10 minutes). Last error: POST /images answered 502',
  );
  assert.equal(end.context.failure?.error.retryable, true);
  // The failure path runs as for any other failure.
  assert.deepEqual(h.calls.filter((c) => c.phase === 'cleanup').map((c) => c.reason), ['failure']);
});

test('a deadline that lands in an attempt after transient failures says the attempt was still running', async () => {
  // Each attempt fails after 80 s, until the 7th (started at 543 s), which hangs: the 600 s deadline lands in it.
  let n = 0;
  // The simulated clock times the failures (h is set before any attempt starts).
  const slowFailure: Behaviour = (i, signal) =>
    n++ < 6 ? new Promise((_resolve, reject) => h.clock.setTimeout(() => answered('502')(i, signal).catch(reject), 80_000)) : never(i, signal);
  const h: Harness = harness({ 'image.create': slowFailure }, { policies: { ...DEFAULT_PHASE_POLICIES, 'image.create': { ...DEFAULT_PHASE_POLICIES['image.create'], attemptTimeoutMs: 0 } } });
  const end = await runClockToEnd(h, 1_000, 2 * DEFAULT_PHASE_POLICIES['image.create'].phaseTimeoutMs);
  assert.equal(end.value, 'failed');
  assert.equal(
    end.context.failure?.error.message,
    'Scaleway kept answering 502 for 10 minutes (6 failed attempts of image.create; attempt 7 was still running at its deadline of 10 minutes). Last error: POST /images answered 502',
  );
});

test('a wait that failed once early, then waited until its deadline, timed out: PhaseTimeout, not a transient failure', async () => {
  let n = 0;
  const h = harness({ 'snapshot.wait': (i, signal) => (n++ === 0 ? answered('503')(i, signal) : never(i, signal)) });
  const end = await runClockToEnd(h, 60_000, 2 * DEFAULT_PHASE_POLICIES['snapshot.wait'].phaseTimeoutMs);
  assert.equal(end.value, 'failed');
  assert.equal(end.context.failure?.error.name, 'PhaseTimeout');
  assert.equal(end.context.failure?.error.message, 'snapshot.wait did not finish within 60 minutes (2 attempt(s))');
  assert.equal(end.context.failure?.error.retryable, false);
});

test('a non-transient error after transient ones is not retried (retryOn: retryable) and is reported as it is', async () => {
  let n = 0;
  const h = harness({ 'image.create': (i, signal) => (n++ < 2 ? answered('502')(i, signal) : fail('InvalidArgumentsError', false)(i, signal)) });
  const end = await runClockToEnd(h, 1_000, 60_000);
  assert.equal(end.value, 'failed');
  assert.equal(h.calls.filter((c) => c.phase === 'image.create').length, 3);
  assert.equal(end.context.failure?.error.name, 'InvalidArgumentsError');
  assert.equal(end.context.failure?.error.retryable, false);
});

test('an attempt that outlives its attempt timeout is aborted and retried', async () => {
  let calls = 0;
  const h = harness({ 'server.create': (i, signal) => (calls++ === 0 ? never(i, signal) : Promise.resolve({ serverId: 's-2' })) });
  h.actor.start();
  for (let i = 0; i < 10; i++) await flush();
  assert.match(h.value(), /server_create.*attempt/);
  h.clock.increment(DEFAULT_PHASE_POLICIES['server.create'].attemptTimeoutMs);
  await flush();
  assert.deepEqual(h.aborted, ['server.create'], 'the stuck attempt was aborted');
  assert.equal(h.actor.getSnapshot().context.lastError?.name, 'AttemptTimeout');
  h.clock.increment(DEFAULT_PHASE_POLICIES['server.create'].backoff.initialMs);
  for (let i = 0; i < 50 && h.actor.getSnapshot().status !== 'done'; i++) await flush();
  assert.equal(h.actor.getSnapshot().value, 'done');
  assert.equal(h.actor.getSnapshot().context.facts.serverId, 's-2');
});

test('a phase that outlives its phase deadline fails with PhaseTimeout, and the build rolls back', async () => {
  const h = harness({ 'snapshot.wait': never });
  h.actor.start();
  for (let i = 0; i < 30; i++) await flush();
  assert.match(h.value(), /snapshot_wait/);
  const deadline = h.actor.getSnapshot().context.phaseDeadlineAt;
  assert.equal(deadline, h.clock.now() + DEFAULT_PHASE_POLICIES['snapshot.wait'].phaseTimeoutMs, 'the deadline is data in context');
  h.clock.increment(DEFAULT_PHASE_POLICIES['snapshot.wait'].phaseTimeoutMs);
  for (let i = 0; i < 20; i++) await flush();
  const end = h.actor.getSnapshot();
  assert.equal(end.value, 'failed');
  assert.equal(end.context.failure?.error.name, 'PhaseTimeout');
  assert.ok(h.aborted.includes('snapshot.wait'));
  assert.deepEqual(h.calls.filter((c) => c.phase === 'cleanup').map((c) => c.reason), ['failure']);
});

test('template timeouts and kiln_phase_policy override the default table', () => {
  const policies = resolvePhasePolicies({
    timeouts: { serverCreationMs: 1000, serverShutdownMs: 2000, snapshotCreationMs: 3000, imageCreationMs: 4000, stateMs: 0 },
    phasePolicy: { 'server.create': { attempts: 7, backoff: { initialMs: 5 } } },
    communicator: { type: 'none' },
  });
  assert.equal(policies['server.wait_running'].phaseTimeoutMs, 1000);
  assert.equal(policies['server.wait_stopped'].phaseTimeoutMs, 2000);
  assert.equal(policies['snapshot.wait'].phaseTimeoutMs, 3000);
  assert.equal(policies['image.wait'].phaseTimeoutMs, 4000);
  assert.equal(policies['server.create'].attempts, 7);
  assert.equal(policies['server.create'].backoff.initialMs, 5);
  assert.equal(policies['server.create'].backoff.factor, DEFAULT_PHASE_POLICIES['server.create'].backoff.factor);
});

test('cleanup is bounded by the template\'s shutdown and state timeouts: short timeouts, a short cleanup', () => {
  const of = (serverShutdownMs: number, stateMs: number) =>
    resolvePhasePolicies({
      timeouts: { serverCreationMs: 0, serverShutdownMs, snapshotCreationMs: 0, imageCreationMs: 0, stateMs },
      phasePolicy: {},
      communicator: { type: 'none' },
    }).cleanup;
  const short = of(20_000, 20_000);
  assert.equal(short.attemptTimeoutMs, 20_000);
  assert.equal(short.phaseTimeoutMs, 40_000);
  // The template's defaults (10 minutes each) keep the table's own bounds.
  const defaults = of(600_000, 600_000);
  assert.equal(defaults.attemptTimeoutMs, DEFAULT_PHASE_POLICIES.cleanup.attemptTimeoutMs);
  assert.equal(defaults.phaseTimeoutMs, DEFAULT_PHASE_POLICIES.cleanup.phaseTimeoutMs);
});

test("a provisioner's max_retries and timeout become its policy", async () => {
  let runs = 0;
  const h = harness(
    {
      provision: async (i) => {
        if (i.provisionerIndex === 1 && runs++ < 2) throw new Error('exit status 1');
        return {};
      },
    },
    {
      provisionerPolicies: [
        provisionerPolicy(DEFAULT_PHASE_POLICIES.provision, { maxRetries: 0, timeoutMs: 0 }),
        provisionerPolicy(DEFAULT_PHASE_POLICIES.provision, { maxRetries: 2, timeoutMs: 0 }),
      ],
    },
  );
  h.actor.start();
  for (let round = 0; round < 10 && h.actor.getSnapshot().status !== 'done'; round++) {
    for (let i = 0; i < 5; i++) await flush();
    h.clock.increment(60_000);
  }
  assert.equal(h.actor.getSnapshot().value, 'done');
  assert.deepEqual(
    h.calls.filter((c) => c.phase === 'provision').map((c) => `${c.provisionerIndex}/${c.attempt}`),
    ['0/1', '1/1', '1/2', '1/3'],
  );
});

test('--on-error abort keeps everything: no cleanup runs', async () => {
  const h = harness({ provision: fail('ProvisionerError', false) }, { onError: 'abort' });
  const end = await runToEnd(h);
  assert.equal(end.value, 'failed');
  assert.ok(!phasesCalled(h).includes('cleanup'));
});

test('--on-error ask waits for a decision: retry re-runs the failed phase', async () => {
  let first = true;
  const h = harness(
    {
      'snapshot.create': async () => {
        if (first) {
          first = false;
          throw Object.assign(new Error('quota'), { name: 'QuotaExceeded', retryable: false });
        }
        return { snapshotId: 'snap-1' };
      },
    },
    { onError: 'ask' },
  );
  h.actor.start();
  for (let i = 0; i < 30; i++) await flush();
  assert.equal(h.actor.getSnapshot().value, 'awaitingDecision');
  h.actor.send({ type: 'DECIDE.RETRY' });
  for (let i = 0; i < 50 && h.actor.getSnapshot().status !== 'done'; i++) await flush();
  assert.equal(h.actor.getSnapshot().value, 'done');
  assert.equal(h.calls.filter((c) => c.phase === 'snapshot.create').length, 2);
});

test('INTERRUPT stops a wait at once, but lets a create finish and record its result first', async () => {
  const waiting = harness({ 'server.wait_running': never });
  waiting.actor.start();
  for (let i = 0; i < 20; i++) await flush();
  assert.match(waiting.value(), /server_wait_running/);
  waiting.actor.send({ type: 'INTERRUPT' });
  assert.equal(waiting.actor.getSnapshot().value, 'interrupted');
  assert.deepEqual(waiting.aborted, ['server.wait_running']);

  let release!: (facts: BuildFacts) => void;
  const creating = harness({ 'server.create': () => new Promise((resolve) => (release = resolve)) });
  creating.actor.start();
  for (let i = 0; i < 20; i++) await flush();
  creating.actor.send({ type: 'INTERRUPT' });
  assert.match(creating.value(), /server_create/, 'a create is not abandoned mid-call');
  release({ serverId: 's-1' });
  for (let i = 0; i < 5; i++) await flush();
  const end = creating.actor.getSnapshot();
  assert.equal(end.value, 'interrupted');
  assert.equal(end.context.facts.serverId, 's-1', 'the result is kept');
  assert.ok(!phasesCalled(creating).includes('server.start'));
});

test('a resumed machine starts at the given phase and provisioner with the recorded facts', async () => {
  const h = harness({}, { startAt: 'provision', provisionerIndex: 1, facts: { serverId: 's-9' } });
  const end = await runToEnd(h);
  assert.equal(end.value, 'done');
  assert.deepEqual(phasesCalled(h).slice(0, 2), ['provision', 'server.stop']);
  assert.equal(h.calls[0]!.provisionerIndex, 1);
  assert.equal(end.context.facts.serverId, 's-9');
});

test('a checkpoint runs after each provisioner whose key the facts hold, with its index, and provisioning goes on after it', async () => {
  const three = [DEFAULT_PHASE_POLICIES.provision, DEFAULT_PHASE_POLICIES.provision, DEFAULT_PHASE_POLICIES.provision];
  const h = harness({ prepare: async () => ({ checkpointKeys: ['k0', '', 'k2'] }) }, { provisionerPolicies: three });
  const end = await runToEnd(h);
  assert.equal(end.value, 'done');
  const around = h.calls.filter((c) => c.phase === 'provision' || c.phase === 'checkpoint').map((c) => `${c.phase}#${c.provisionerIndex}`);
  // Not after the last provisioner, even if a key is there: the image is made of that state anyway.
  assert.deepEqual(around, ['provision#0', 'checkpoint#0', 'provision#1', 'provision#2']);
  assert.ok(phasesCalled(h).indexOf('server.stop') > phasesCalled(h).lastIndexOf('provision'));
});

test('a build that starts from a checkpoint begins provisioning past what it covers; one that covers them all skips provisioning', async () => {
  const three = [DEFAULT_PHASE_POLICIES.provision, DEFAULT_PHASE_POLICIES.provision, DEFAULT_PHASE_POLICIES.provision];
  const hit = harness({ prepare: async () => ({ provisionFrom: 2 }) }, { provisionerPolicies: three });
  assert.equal((await runToEnd(hit)).value, 'done');
  assert.deepEqual(hit.calls.filter((c) => c.phase === 'provision').map((c) => c.provisionerIndex), [2]);
  const all = harness({ prepare: async () => ({ provisionFrom: 3 }) }, { provisionerPolicies: three });
  assert.equal((await runToEnd(all)).value, 'done');
  assert.ok(!phasesCalled(all).includes('provision'));
  // Resumed before provisioning began (killed after ssh.connect): still past the checkpoint.
  const resumed = harness({}, { provisionerPolicies: three, startAt: 'ssh.connect', facts: { provisionFrom: 1, serverId: 's-1' } });
  assert.equal((await runToEnd(resumed)).value, 'done');
  assert.deepEqual(resumed.calls.filter((c) => c.phase === 'provision').map((c) => c.provisionerIndex), [1, 2]);
});

test('an interrupted checkpoint stops the build; a failing one fails it like any phase (the actor gives a cache problem up itself)', async () => {
  const interrupted = harness({ prepare: async () => ({ checkpointKeys: ['k0'] }), checkpoint: never });
  interrupted.actor.start();
  while (!phasesCalled(interrupted).includes('checkpoint')) await flush();
  interrupted.actor.send({ type: 'INTERRUPT' });
  await flush();
  assert.equal(interrupted.actor.getSnapshot().value, 'interrupted');
  assert.deepEqual(interrupted.aborted, ['checkpoint']);
  const failing = harness({ prepare: async () => ({ checkpointKeys: ['k0'] }), checkpoint: fail('BuildError', false) });
  const end = await runToEnd(failing);
  assert.equal(end.value, 'failed');
  assert.equal(end.context.failure?.phase, 'checkpoint');
});

test('cleanup order: image, snapshots, then server and volumes after a failure; only the server after success', () => {
  const all = { serverId: 's', volumes: [{ id: 'v0' }, { id: 'v1', api: 'block' as const }], snapshots: [{ id: 'snap' }, { id: 'bsnap', api: 'block' as const }], imageId: 'img' };
  assert.deepEqual(
    cleanupPlan(all, 'failure', false).map((s) => `${s.kind}:${s.id}${'api' in s && s.api ? `@${s.api}` : ''}`),
    ['image:img', 'snapshot:snap', 'snapshot:bsnap@block', 'server:s', 'volume:v0', 'volume:v1@block'],
  );
  assert.deepEqual(cleanupPlan(all, 'success', true).map((s) => s.kind), ['server', 'volume', 'volume']);
  assert.deepEqual(cleanupPlan(all, 'success', false).map((s) => s.kind), ['server']);
  assert.deepEqual(cleanupPlan({}, 'failure', true), []);
});

test('a failing post-processor fails the build without a rollback: the image stays', async () => {
  const h = harness({ postprocess: async () => { throw new Error('manifest: disk full'); } }, { optionalPhases: ['postprocess'] });
  const end = await runToEnd(h);
  assert.equal(end.value, 'failed');
  assert.deepEqual(h.calls.filter((c) => c.phase === 'cleanup').map((c) => c.reason), ['success'], 'no cleanup after the failure');
});
