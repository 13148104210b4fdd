// Waits that learn from the event log (issue 14): after a few builds of the same kind, a build's
// waits carry a prediction, look for the change only around when it is due, and the build makes
// fewer API calls; prepare's catalogue and label look-ups come from the store's cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_SAMPLES, predictWait, type WaitKey, type WaitRecord } from '../../src/scaleway/index.js';
import type { BuildEvent } from '../../src/store/index.js';
import { startHarness, template } from './harness.js';

const LATENCY = { boot: 600, stop: 400, snapshot: 300, image: 400 };

const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([route, n]) => [route, n - (before[route] ?? 0)]).filter(([, n]) => (n as number) > 0)) as Record<string, number>;
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const routeCount = (counts: Record<string, number>, pattern: RegExp) => sum(Object.fromEntries(Object.entries(counts).filter(([r]) => pattern.test(r))));

test('after a few builds of the same kind, the waits are predicted and the build asks the API less', { timeout: 300_000 }, async (t) => {
  const h = await startHarness({ latency: JSON.stringify(LATENCY) });
  t.after(() => h.close());
  const runs: { events: BuildEvent[]; calls: Record<string, number> }[] = [];
  for (let i = 0; i <= MIN_SAMPLES; i++) {
    const path = h.template(template({ image_name: `kiln-waits-${i}`, snapshot_name: `kiln-waits-${i}-snap` }, [{ type: 'shell', inline: ['true'] }]));
    const before = h.sim.requestCounts();
    const [outcome] = await h.build(path);
    assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
    runs.push({ events: h.events(outcome!.buildId), calls: diff(h.sim.requestCounts(), before) });
  }
  const waits = (events: BuildEvent[], type: 'wait.started' | 'wait.finished') => events.filter((e) => e.type === type);

  // Cold: no prediction; each wait still records its key, so that the history describes itself.
  const cold = runs[0]!;
  assert.deepEqual(waits(cold.events, 'wait.started').map((e) => (e.data.key as { wait: string }).wait), ['server.boot', 'server.stop', 'snapshot', 'image']);
  for (const e of waits(cold.events, 'wait.started')) {
    assert.equal(e.data.expectedMs, undefined);
    assert.deepEqual(Object.keys(e.data.key as object).sort(), ['commercialType', 'sizeClass', 'volumeType', 'wait', 'zone']);
    assert.equal((e.data.key as { commercialType: string }).commercialType, 'DEV1-S');
  }
  for (const e of waits(cold.events, 'wait.finished')) assert.equal(e.data.whole, true, JSON.stringify(e.data));

  // Warm: every wait predicted near the simulator's latency, from the MIN_SAMPLES builds before.
  const warm = runs[MIN_SAMPLES]!;
  const latencyOf: Record<string, number> = { 'server.boot': LATENCY.boot, 'server.stop': LATENCY.stop, snapshot: LATENCY.snapshot, image: LATENCY.image };
  const started = waits(warm.events, 'wait.started');
  assert.equal(started.length, 4);
  const past = runs.slice(0, MIN_SAMPLES).flatMap((run) => waits(run.events, 'wait.finished').map((e) => e.data as unknown as WaitRecord));
  for (const e of started) {
    const key = e.data.key as WaitKey;
    assert.equal(e.data.samples, MIN_SAMPLES, key.wait);
    // The prediction is the one the earlier builds' recorded waits give (a slow machine lengthens
    // them all alike), and no shorter than the simulator's latency allows.
    assert.deepEqual({ expectedMs: e.data.expectedMs, spreadMs: e.data.spreadMs }, (({ expectedMs, spreadMs }) => ({ expectedMs, spreadMs }))(predictWait(past, key)!), key.wait);
    assert.ok(Number(e.data.expectedMs) >= latencyOf[key.wait]! * 0.3, `${key.wait}: expected ${String(e.data.expectedMs)} ms for ${latencyOf[key.wait]} ms`);
  }
  const looks = (events: BuildEvent[]) => waits(events, 'wait.finished').reduce((n, e) => n + Number(e.data.looks), 0);
  assert.ok(looks(warm.events) < looks(cold.events), `warm waits looked ${looks(warm.events)} times, cold ${looks(cold.events)}`);
  assert.ok(sum(warm.calls) < sum(cold.calls), `warm build: ${sum(warm.calls)} API calls, cold: ${sum(cold.calls)}`);

  // The zone's catalogue and the label's image were asked for once, then taken from the store.
  assert.equal(routeCount(cold.calls, /products\/servers/), 1);
  assert.equal(routeCount(cold.calls, /marketplace/), 1);
  for (const run of runs.slice(1)) {
    assert.equal(routeCount(run.calls, /products\/servers|marketplace/), 0, JSON.stringify(run.calls));
    // The name checks stay: every build asks whether its image and snapshot names are taken.
    assert.equal(routeCount(run.calls, /^GET \/images$|^GET [^ ]*\/images$/), 1, JSON.stringify(run.calls));
  }
});

test('a server powered off behind kiln\'s back during provisioning is still stopped, imaged and deleted', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  // A shell-local provisioner waits while the test powers the server off through the API: kiln
  // last saw it running, its poweroff is refused, and the retry asks for the state.
  const flag = join(h.dir, 'powered-off');
  const path = h.template(
    template({ image_name: 'kiln-waits-off', snapshot_name: 'kiln-waits-off-snap' }, [{ type: 'shell-local', inline: [`while [ ! -e '${flag}' ]; do sleep 0.05; done`] }]),
  );
  const stopped = new Promise<void>((resolve, reject) => {
    const unsubscribe = h.store.subscribe((e) => {
      if (e.type !== 'provisioner.started') return;
      unsubscribe();
      const serverId = String(h.store.lastEvent(e.buildId, 'server.created')!.data.serverId);
      h.client
        .serverAction(serverId, 'poweroff')
        .then(() => resolve(), reject)
        .finally(() => writeFileSync(flag, '')); // the provisioner ends only once the poweroff was sent
    });
  });
  const [outcome] = await h.build(path);
  await stopped;
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const inv = await h.inventory(outcome!.buildId);
  assert.deepEqual(inv.servers, []);
  assert.deepEqual(inv.images, [outcome!.artifact!.imageId]);
  const events = h.events(outcome!.buildId);
  const retry = events.find((e) => e.type === 'phase.retrying' && e.phase === 'server.stop');
  assert.match(String((retry?.data.error as { message?: string } | undefined)?.message), /poweroff of server .* was refused/);
  assert.equal(events.filter((e) => e.type === 'server.poweroff.accepted').length, 0, 'nothing to power off once it was seen stopped');
  // A wait that did not follow its own action is no sample for later predictions.
  assert.equal(events.find((e) => e.type === 'wait.finished' && (e.data.key as { wait: string }).wait === 'server.stop')?.data.whole, false);
});

test('a cached catalogue that lacks the template\'s type is asked again before the type is refused', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  h.store.cache(`${h.sim.apiUrl} fr-par-1 products/servers`, { 'GP1-XL': { arch: 'x86_64' } }, 3_600_000);
  const path = h.template(template({ image_name: 'kiln-waits-stale', snapshot_name: 'kiln-waits-stale-snap' }));
  const before = h.sim.requestCounts();
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  assert.equal(routeCount(diff(h.sim.requestCounts(), before), /products\/servers/), 1);
  assert.ok(h.store.cached<Record<string, unknown>>(`${h.sim.apiUrl} fr-par-1 products/servers`)?.['DEV1-S'], 'the fresh catalogue replaced the stale one');
});

test('the boot wait of an SSH build looks again when the server\'s SSH port answers, not on a dense schedule', { timeout: 120_000 }, async (t) => {
  const h = await startHarness({ latency: JSON.stringify({ ...LATENCY, boot: 3_000 }) });
  t.after(() => h.close());
  const path = h.template(template({ image_name: 'kiln-waits-sign', snapshot_name: 'kiln-waits-sign-snap' }, [{ type: 'shell', inline: ['true'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const boot = h.events(outcome!.buildId).find((e) => e.type === 'wait.finished' && (e.data.key as { wait: string }).wait === 'server.boot')!;
  // The look that saw `running` came on the sign: the wait records no last miss, which would
  // otherwise pull later predictions early (the first look only learnt the server's address).
  assert.equal(boot.data.lastMissMs, undefined, JSON.stringify(boot.data));
  // Without history: the first look, then looks that double the time waited (0.25, 0.5, 1, 2 s…)
  // should the sign never come, then the look on the sign — however long the boot took on this
  // machine, at most the doublings that fit in it plus those two; the plain schedule would look ~12 times in 3 s.
  const durationMs = Number(boot.data.durationMs);
  assert.ok(durationMs >= 3_000, JSON.stringify(boot.data));
  assert.ok(Number(boot.data.looks) <= 2 + Math.ceil(Math.log2(durationMs / 250)), JSON.stringify(boot.data));
});

test('a wait whose first look already hits records the change\'s true duration from the API\'s stamps, not the look\'s time', { timeout: 180_000 }, async (t) => {
  const h = await startHarness({ latency: JSON.stringify(LATENCY) });
  t.after(() => h.close());
  const build = async (name: string) => {
    const [outcome] = await h.build(h.template(template({ image_name: name, snapshot_name: `${name}-snap` })));
    assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
    return h.events(outcome!.buildId);
  };
  const finished = (events: BuildEvent[], wait: string) => events.find((e) => e.type === 'wait.finished' && (e.data.key as { wait: string }).wait === wait)!;
  const first = await build('kiln-stamps-0');
  // Every wait of a cold build took its stamps from the answers: the action's (task `started_at`,
  // `creation_date`) and the look's that saw the change (`modification_date`).
  for (const e of first.filter((e) => e.type === 'wait.finished')) assert.equal(typeof e.data.apiDurationMs, 'number', JSON.stringify(e.data));
  assert.equal(typeof first.find((e) => e.type === 'server.poweroff.accepted')!.data.apiStartedAt, 'string');
  const stop = finished(first, 'server.stop');
  // An old, slower history: three stops of 3 s in the store (as a slower cloud left them).
  const buildId = first[0]!.buildId;
  for (let i = 0; i < MIN_SAMPLES; i++) h.store.append(buildId, { type: 'wait.finished', data: { ...stop.data, durationMs: 3_000, apiDurationMs: 3_000, lastMissMs: 2_900, looks: 2 } });
  const next = await build('kiln-stamps-1');
  const late = finished(next, 'server.stop');
  // The first look came where the slow history put it, long after the 400 ms stop, and hit…
  assert.equal(late.data.looks, 1, JSON.stringify(late.data));
  assert.ok(Number(late.data.durationMs) >= 2_500, JSON.stringify(late.data));
  // …yet the wait records how long the stop really took, on the API's clock.
  // (No longer than the look's time, which the stamps lie within; no shorter than the simulator's latency.)
  const apiMs = Number(late.data.apiDurationMs);
  assert.ok(apiMs >= LATENCY.stop && apiMs < Number(late.data.durationMs), JSON.stringify(late.data));
});

test('a snapshot and an image that the create answers `available` are waited for with no look', { timeout: 120_000 }, async (t) => {
  // As on real Scaleway: an instance snapshot of a stopped server and an image are available at once.
  const h = await startHarness({ latency: JSON.stringify({ ...LATENCY, snapshot: 0, image: 0 }) });
  t.after(() => h.close());
  const before = h.sim.requestCounts();
  const [outcome] = await h.build(h.template(template({ image_name: 'kiln-answered', snapshot_name: 'kiln-answered-snap' })));
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const calls = diff(h.sim.requestCounts(), before);
  // The state was read from the create's answer: no GET of the snapshot or the image.
  assert.equal(routeCount(calls, /^GET .*\/(snapshots|images)\/[^/]+$/), 0, JSON.stringify(calls));
  const events = h.events(outcome!.buildId);
  for (const [created, wait] of [['snapshot.created', 'snapshot'], ['image.created', 'image']] as const) {
    const answer = events.find((e) => e.type === created)!.data;
    assert.equal(answer.state, 'available');
    const finished = events.find((e) => e.type === 'wait.finished' && (e.data.key as { wait: string }).wait === wait)!;
    assert.equal(finished.data.looks, 0, JSON.stringify(finished.data));
    // Still a sample: from the answer's creation_date to its modification_date (the simulator's disk copy).
    assert.equal(finished.data.apiDurationMs, Date.parse(String(answer.apiChangedAt)) - Date.parse(String(answer.apiStartedAt)), JSON.stringify({ answer, finished: finished.data }));
    assert.equal(finished.data.whole, true);
  }
  assert.ok(events.some((e) => e.type === 'snapshot.available') && events.some((e) => e.type === 'image.available'));
  assert.deepEqual((await h.inventory(outcome!.buildId)).images, [outcome!.artifact!.imageId]);
});
