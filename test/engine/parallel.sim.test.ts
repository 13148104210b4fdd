// Builds run side by side in one process (a template with several builders): what they share —
// their server looks (ServerLooks) and the history of past waits they predict from (WaitHistory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitHistory } from '../../src/engine/index.js';
import { MIN_SAMPLES, ServerLooks } from '../../src/scaleway/index.js';
import { startHarness, template } from './harness.js';

test('builds run side by side gather their server looks: fewer calls than looks, each build sees its own server', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const names = ['a', 'b', 'c'];
  const path = h.template({
    builders: names.map((name) => ({ ...(template().builders as object[])[0], name, image_name: `looks-${name}`, snapshot_name: `looks-${name}` })),
    provisioners: [{ type: 'shell', inline: ['echo building $PACKER_BUILD_NAME'] }],
  });
  // The boots are held, so that the three boot waits look again and again at the same time.
  h.sim.hold('boot');
  const building = h.build(path, { serverLooks: new ServerLooks(500) });
  // Until two gathered looks were made (the test's timeout catches a wait that never ends: the
  // loop must not fall through and release the boots before the looks it is about).
  while ((h.sim.requestCounts()['GET /servers'] ?? 0) < 2) await new Promise((r) => setTimeout(r, 25));
  h.sim.release('boot');
  const outcomes = await building;
  assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'succeeded', 'succeeded']);
  const looks = outcomes
    .flatMap((o) => h.events(o.buildId))
    .filter((e) => e.type === 'wait.finished' && String((e.data.key as { wait: string }).wait).startsWith('server.'))
    .reduce((sum, e) => sum + Number(e.data.looks), 0);
  const calls = h.sim.requestCounts();
  const serverCalls = (calls['GET /servers'] ?? 0) + (calls['GET /servers/{id}'] ?? 0);
  assert.ok((calls['GET /servers'] ?? 0) >= 2, `looks were gathered into list calls: ${JSON.stringify(calls)}`);
  assert.ok(serverCalls < looks, `${serverCalls} server calls for ${looks} looks of the waits`);
  // Each build went on with its own server (a mixed-up answer would have sent a build on with another's).
  for (const o of outcomes) {
    const lines = h.events(o.buildId).filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
    assert.deepEqual(lines, [`building ${o.builderName}`]);
    assert.deepEqual((await h.inventory(o.buildId)).images, [o.artifact!.imageId]);
  }
});

test('the builds of one process read the past waits once, and a later build learns from the waits its siblings finished', { timeout: 120_000 }, async (t) => {
  const h = await startHarness({ latency: JSON.stringify({ boot: 300, stop: 200, snapshot: 100, image: 200 }) });
  t.after(() => h.close());
  let reads = 0;
  const read = h.store.waitHistory.bind(h.store);
  h.store.waitHistory = (limit?: number) => (reads++, read(limit));
  const history = new WaitHistory();
  const builders = (names: string[]) => ({
    builders: names.map((name) => ({ ...(template().builders as object[])[0], name, image_name: `history-${name}`, snapshot_name: `history-${name}` })),
    provisioners: [{ type: 'shell', inline: ['true'] }],
  });
  // MIN_SAMPLES builds side by side: none has a prediction (the store holds no past wait).
  const first = await h.build(h.template(builders(Array.from({ length: MIN_SAMPLES }, (_, i) => `first-${i}`))), { waitHistory: history });
  assert.ok(first.every((o) => o.status === 'succeeded'));
  for (const o of first) assert.ok(h.events(o.buildId).filter((e) => e.type === 'wait.started').every((e) => e.data.expectedMs === undefined));
  // A later build of the same process predicts each wait from its siblings' finished ones, without reading the store again.
  const [later] = await h.build(h.template(builders(['later'])), { waitHistory: history });
  assert.equal(later!.status, 'succeeded');
  const started = h.events(later!.buildId).filter((e) => e.type === 'wait.started');
  assert.deepEqual(started.map((e) => (e.data.key as { wait: string }).wait), ['server.boot', 'server.stop', 'snapshot', 'image']);
  for (const e of started) assert.equal(e.data.samples, MIN_SAMPLES, JSON.stringify(e.data));
  assert.equal(reads, 1, 'the store\'s past waits were read once for all the builds');
});
