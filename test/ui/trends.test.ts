// Phase durations across builds: each phase's value per build, the running median and p90 of the
// latest builds, and the change between the latest builds and those before (which phase got slower).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeKind, phaseDurations, phaseTrends, quantile } from '../../src/ui/index.js';
import type { BuildEvent } from '../../src/store/index.js';

const at = (i: number) => new Date(Date.parse('2026-12-01T00:00:00Z') + i * 60_000).toISOString();

test('quantile interpolates between the closest ranks', () => {
  assert.equal(quantile([10], 0.9), 10);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9), 90);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('a build’s phase durations are those of its phase.succeeded events (provisioners apart, the failure path left out)', () => {
  const e = (type: BuildEvent['type'], phase: BuildEvent['phase'], data: Record<string, unknown>): BuildEvent => ({ buildId: 'b', seq: 1, at: at(0), type, phase, attempt: 1, data });
  const d = phaseDurations('b', [
    e('phase.started', 'server.create', {}),
    e('phase.succeeded', 'server.create', { durationMs: 1200 }),
    e('phase.succeeded', 'provision', { provisionerIndex: 1, durationMs: 300 }),
    e('phase.succeeded', 'cleanup', { durationMs: 50, reason: 'failure' }),
  ]);
  assert.deepEqual([...d.durations], [['server.create', 1200], ['provision #1', 300]]);
});

test('the running median and p90 follow the latest builds, and a phase that got slower says by how much', () => {
  // 10 builds at 1 s, then 10 at 3 s: the boot got slower at build 11; ssh.connect stays the same.
  const builds = Array.from({ length: 20 }, (_, i) => ({
    buildId: `b${i}`,
    at: Date.parse(at(i)),
    durations: new Map([['server.wait_running', i < 10 ? 1000 : 3000], ['ssh.connect', 200 + (i % 2) * 10]]),
  }));
  const [boot, ssh] = phaseTrends([...builds].reverse(), 10);
  assert.equal(boot!.phase, 'server.wait_running');
  assert.deepEqual(boot!.buildIds, builds.map((b) => b.buildId), 'oldest first, whatever the input order');
  assert.equal(boot!.median[9], 1000);
  assert.equal(boot!.median[14], 2000, 'five slow builds of the last ten: half-way');
  assert.equal(boot!.median[15], 3000);
  assert.ok(Math.abs(boot!.p90[10]! - 1200) < 1e-6, 'one slow build of ten: p90 a tenth of the way up');
  assert.equal(boot!.p90[11], 3000, 'two of ten: p90 is the slow time');
  assert.deepEqual(boot!.change, { latestMedian: 3000, previousMedian: 1000, ratio: 3 });
  assert.equal(ssh!.change!.ratio, 1);
});

test('a phase a build did not run is a gap, not a zero', () => {
  const trends = phaseTrends([
    { buildId: 'a', at: 1, durations: new Map([['provision #0', 100]]) },
    { buildId: 'b', at: 2, durations: new Map() },
    { buildId: 'c', at: 3, durations: new Map([['provision #0', 300]]) },
  ]);
  assert.deepEqual(trends[0]!.value, [100, null, 300]);
  assert.deepEqual(trends[0]!.median, [100, null, 200]);
  assert.equal(trends[0]!.change, undefined, 'too few builds to compare');
});

test('a change is called slower or faster only when it is both a fifth and a quarter-second: small phases jitter', () => {
  const change = (previousMedian: number, latestMedian: number) => ({ previousMedian, latestMedian, ratio: latestMedian / previousMedian });
  assert.equal(changeKind(change(2800, 4600)), 'slower');
  assert.equal(changeKind(change(224, 472)), 'same', '+111 % of a quarter-second');
  assert.equal(changeKind(change(10_000, 11_000)), 'same', '+10 % of ten seconds');
  assert.equal(changeKind(change(3000, 2000)), 'faster');
  assert.equal(changeKind(undefined), undefined);
});
