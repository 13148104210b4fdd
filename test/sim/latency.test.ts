// Latency profiles: what `--latency` accepts and the durations it imposes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyModel, RECORDED, TRANSITIONS } from '../../src/sim/latency.js';
import { recordedDurations } from './recorded-durations.js';

test('fast latencies are tens of milliseconds', () => {
  const model = new LatencyModel('fast', 1);
  for (const transition of ['boot', 'stop', 'snapshot', 'image'] as const) {
    const ms = model.next(transition);
    assert.ok(ms >= 10 && ms < 100, `${transition}: ${ms}`);
  }
});

test('realistic latencies spread around boot 8 s and stop 4 s, reproducibly by seed; instance snapshots and images take none', () => {
  const sample = (seed: number): number[] => {
    const model = new LatencyModel('realistic', seed);
    return Array.from({ length: 20 }, () => model.next('boot'));
  };
  const boots = sample(7);
  assert.deepEqual(sample(7), boots);
  assert.ok(boots.every((ms) => ms >= 6000 && ms <= 10000), boots.join(','));
  assert.ok(new Set(boots).size > 1, 'realistic latencies vary');
  const model = new LatencyModel('realistic', 7);
  for (const [transition, base] of [['stop', 4000], ['blockSnapshot', 5000]] as const) {
    const ms = model.next(transition);
    assert.ok(ms >= base * 0.75 && ms <= base * 1.25, `${transition}: ${ms}`);
  }
  // Recorded on Scaleway: an instance snapshot and an image answer `available` in their create.
  for (let i = 0; i < 5; i++) {
    assert.equal(model.next('snapshot'), 0);
    assert.equal(model.next('image'), 0);
  }
});

test('a JSON object sets per-transition milliseconds; the rest stay fast', () => {
  const model = new LatencyModel('{"boot": 1234}', 1);
  assert.equal(model.next('boot'), 1234);
  assert.equal(model.next('stop'), new LatencyModel('fast', 1).next('stop'));
  assert.equal(new LatencyModel({ image: 5 }, 1).next('image'), 5);
});

test('bad latency input is refused with what was expected', () => {
  assert.throws(() => new LatencyModel('slowish', 1), /expected "fast", "realistic", "recorded" or a JSON object/);
  assert.throws(() => new LatencyModel('{"boott": 5}', 1), /unknown transition "boott"; use boot, stop, snapshot, image/);
  assert.throws(() => new LatencyModel({ boot: -1 }, 1), /"boot" must be a number of milliseconds >= 0/);
});

test('the recorded profile is what the cassettes recorded: boots, stops, block snapshots, instance snapshots and images', () => {
  const { boot, stop, snapshot, image, blockSnapshot } = RECORDED;
  assert.deepEqual({ boot, stop, snapshot, image, blockSnapshot }, recordedDurations());
});

test('recorded latencies are drawn inside the recorded intervals, reproducibly by seed', () => {
  const draws = (seed: number) => {
    const model = new LatencyModel('recorded', seed);
    return TRANSITIONS.map((transition) => Array.from({ length: 40 }, () => model.next(transition)));
  };
  const first = draws(3);
  assert.deepEqual(draws(3), first);
  TRANSITIONS.forEach((transition, i) => {
    const least = Math.min(...RECORDED[transition].map(([l]) => l));
    const most = Math.max(...RECORDED[transition].map(([, m]) => m));
    for (const ms of first[i]!) assert.ok(ms >= least && ms <= most, `${transition}: ${ms} outside ${least}–${most}`);
  });
  // Stops of a minute, boots of seconds: the recordings' shape, not the realistic profile's 4 s stop.
  const stops = first[TRANSITIONS.indexOf('stop')]!;
  assert.ok(Math.min(...stops) >= 51_000 && new Set(stops).size > 1, stops.join(','));
});
