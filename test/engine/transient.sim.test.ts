// Transient cloud errors (issue 18): a phase retries them until its deadline, so a burst of 5xx
// answers never ends a build that still has time; a build that does end on them says so, and
// leaves nothing behind. Against the simulator's fault injection, with short phase timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEvent } from '../../src/view/index.js';
import type { BuildOutcome } from '../../src/engine/index.js';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { PROJECT, SECRET, startHarness, template, type Harness } from './harness.js';

/** A client that outlasts the faults the test injects, to read what the simulator holds. */
function patientClient(h: Harness): ScalewayClient {
  const retry = { attempts: 30, initialMs: 20, factor: 1.5, maxMs: 200, jitter: 0.5, maxTotalMs: 60_000 };
  return new ScalewayClient({ apiUrl: h.sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT, retry });
}

/** Everything in the simulator that carries the build's tag, read past the injected faults. */
const leftOf = (h: Harness, buildId: string) => h.inventory(buildId, patientClient(h));

/** A succeeded build left exactly its artifact: one image, its snapshot, nothing else. */
async function assertOnlyArtifact(h: Harness, outcome: BuildOutcome | undefined): Promise<void> {
  assert.equal(outcome?.status, 'succeeded', JSON.stringify(outcome));
  assert.deepEqual(await leftOf(h, outcome!.buildId), {
    servers: [],
    volumes: [],
    snapshots: [outcome!.artifact!.snapshotId],
    images: [outcome!.artifact!.imageId],
  });
}

/** No SSH (nothing to provision): the tests are about the API phases. Short backoffs keep them quick. */
const quickTemplate = (phasePolicy: Record<string, unknown> = {}) =>
  template({
    communicator: 'none',
    ssh_username: undefined,
    kiln_phase_policy: {
      'server.create': { initial_backoff: '100ms', max_backoff: '1s' },
      'snapshot.create': { initial_backoff: '100ms', max_backoff: '1s' },
      'image.create': { initial_backoff: '100ms', max_backoff: '1s' },
      ...phasePolicy,
    },
  });

test('half the image creates answer 5xx: retried past the old four attempts, and exactly one image results', { timeout: 240_000 }, async (t) => {
  // With seed 7, the first four POST /images meet a 5xx (then the dice are fair): a fixed
  // four-attempt policy lost this build.
  const h = await startHarness({ seed: 7, faults: { 'POST /images': { '5xx': 0.5 } } });
  t.after(() => h.close());
  const [outcome] = await h.build(h.template(quickTemplate()));
  await assertOnlyArtifact(h, outcome);
  const events = h.events(outcome!.buildId);
  const retries = events.filter((e) => e.type === 'phase.retrying' && e.phase === 'image.create');
  assert.equal(retries.length, 4, 'four failed attempts of image.create, then success');
  assert.equal(h.sim.requestCounts()['POST /images'], 5);
});

test('30 % of every API request answers 5xx: the build still ends with exactly one image and one snapshot', { timeout: 300_000 }, async (t) => {
  const h = await startHarness({ seed: 2026, faults: { '*': { '5xx': 0.3 } } });
  t.after(() => h.close());
  const [outcome] = await h.build(h.template(quickTemplate()));
  await assertOnlyArtifact(h, outcome);
  const events = h.events(outcome!.buildId);
  assert.equal(events.filter((e) => e.type === 'server.created').length, 1);
  assert.equal(events.filter((e) => e.type === 'image.created').length, 1);
});

test('a route that fails until the phase deadline: the build says Scaleway kept answering 5xx, and nothing is left', { timeout: 120_000 }, async (t) => {
  const h = await startHarness({ seed: 3, faults: { 'POST /images': { '5xx': 1 } } });
  t.after(() => h.close());
  const [outcome] = await h.build(h.template(quickTemplate({ 'image.create': { initial_backoff: '100ms', max_backoff: '1s', phase_timeout: '15s' } })));
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'image.create');
  const error = outcome!.failure!.error;
  assert.equal(error.name, 'TransientFailure');
  assert.equal(error.retryable, true);
  assert.match(
    error.message,
    /^Scaleway kept answering 50\d((, 50\d)* and 50\d)? for 15 seconds \(\d+ failed attempts of image\.create(, retried until|; attempt \d+ was still running at) its deadline of 15 seconds\)\. Last error: POST \/instance\/v1\/zones\/fr-par-1\/images failed \(50\d\) and no image with the build's tags exists: it was not created$/,
  );
  assert.equal(outcome!.cleanedUp, true);
  assert.deepEqual(await leftOf(h, outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });

  const events = h.events(outcome!.buildId);
  const started = events.find((e) => e.type === 'phase.started' && e.phase === 'image.create')!;
  const retries = events.filter((e) => e.type === 'phase.retrying' && e.phase === 'image.create');
  assert.ok(retries.length >= 2, `retried until the deadline (${retries.length} retries)`);
  for (const r of retries) {
    // The progress can show the time left: every retry carries the phase's deadline.
    assert.equal(r.data.deadlineAt, started.data.deadlineAt);
    assert.match(describeEvent(r)!, /^image\.create: attempt \d+ failed \(TransientError: .*\); retrying in \S+, \S+ left before its deadline$/);
  }
  // Nothing that was said promised a retry that did not come.
  for (const e of events) assert.doesNotMatch(JSON.stringify(e.data), /trying again/, `${e.type}`);
  const failed = events.find((e) => e.type === 'build.failed')!;
  assert.equal((failed.data.error as { message: string }).message, error.message);
});
