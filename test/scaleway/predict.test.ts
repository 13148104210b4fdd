// Wait predictions: a pure function of the waits recorded before (hand-built histories here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SAMPLES, MIN_SAMPLES, predictWait, sizeClassOf, type WaitKey, type WaitRecord } from '../../src/scaleway/index.js';

const bootKey: WaitKey = { wait: 'server.boot', zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' };
const waited = (durationMs: number, extra: Partial<WaitRecord> = {}): WaitRecord => ({ key: bootKey, durationMs, whole: true, ...extra });

test('no prediction with fewer than MIN_SAMPLES past waits of the same key', () => {
  assert.equal(predictWait([], bootKey), undefined);
  assert.equal(predictWait(Array.from({ length: MIN_SAMPLES - 1 }, () => waited(8_000)), bootKey), undefined);
  assert.ok(predictWait(Array.from({ length: MIN_SAMPLES }, () => waited(8_000)), bootKey));
});

test('only waits with the same zone, type, volume and kind count', () => {
  const others: WaitRecord[] = [
    waited(1_000, { key: { ...bootKey, zone: 'nl-ams-1' } }),
    waited(1_000, { key: { ...bootKey, commercialType: 'GP1-XL' } }),
    waited(1_000, { key: { ...bootKey, volumeType: 'b_ssd' } }),
    waited(1_000, { key: { ...bootKey, sizeClass: '256GB' } }),
    waited(1_000, { key: { ...bootKey, wait: 'server.stop' } }),
  ];
  assert.equal(predictWait([...others, waited(8_000), waited(8_000)], bootKey), undefined);
  assert.equal(predictWait([...others, waited(8_000), waited(8_000), waited(8_000)], bootKey)?.expectedMs, 8_000);
});

test('the expected duration is the median, the window covers every past wait with room on each side', () => {
  const history = [7_000, 9_000, 8_000, 6_500, 9_500].map((ms) => waited(ms));
  const p = predictWait(history, bootKey)!;
  assert.equal(p.expectedMs, 8_000);
  assert.equal(p.samples, 5);
  // shortest 6.5 s, one average gap below the median (0.75 s) beyond it
  assert.equal(p.expectedMs - p.spreadMs, 6_500 - 750);
  assert.ok(p.expectedMs + p.spreadMs >= 9_500 + 750, `closes at ${p.expectedMs + p.spreadMs}`);
});

test('one very long past wait (an incident) does not thin out the looks of the next waits', () => {
  const usual = [7_600, 7_800, 8_000, 8_200, 8_400, 7_700, 8_100, 7_900, 8_300];
  const p = predictWait([...usual, 600_000].map((ms) => waited(ms)), bootKey)!;
  assert.ok(p.spreadMs < 1_000, `spread ${p.spreadMs} ms`);
  assert.ok(p.expectedMs < 8_500, `expected ${p.expectedMs} ms`);
});

test('with MAX_SAMPLES past waits, one glitch of a short wait does not open every later window early', () => {
  const usual = Array.from({ length: MAX_SAMPLES - 1 }, (_, i) => 7_600 + 50 * i);
  const p = predictWait([...usual, 50].map((ms) => waited(ms)), bootKey)!;
  assert.ok(p.expectedMs - p.spreadMs > 7_000, `opens at ${p.expectedMs - p.spreadMs} ms`);
});

test('each past wait counts at the middle of its last miss and its hit (the change happened between)', () => {
  const p = predictWait([waited(8_400, { lastMissMs: 7_600 }), waited(8_400, { lastMissMs: 7_600 }), waited(8_400, { lastMissMs: 7_600 })], bootKey)!;
  assert.equal(p.expectedMs, 8_000);
});

test('identical past waits still give a window of a few percent, not zero', () => {
  const p = predictWait([waited(40), waited(40), waited(40)], bootKey)!;
  assert.equal(p.expectedMs, 40);
  assert.equal(p.spreadMs, 2);
});

test('waits that did not see their change from the start (resumed) are not samples', () => {
  assert.equal(predictWait([waited(8_000), waited(8_000), waited(120_000, { whole: false })], bootKey), undefined);
});

test('only the most recent MAX_SAMPLES waits count: the cloud speeding up shows', () => {
  const old = Array.from({ length: 30 }, () => waited(20_000));
  const recent = Array.from({ length: MAX_SAMPLES }, () => waited(8_000));
  assert.equal(predictWait([...old, ...recent], bootKey)!.expectedMs, 8_000);
});

test('volume sizes fall into power-of-two classes', () => {
  assert.equal(sizeClassOf(20e9), '32GB');
  assert.equal(sizeClassOf(10e9), '16GB');
  assert.equal(sizeClassOf(1e12), '1024GB');
  assert.equal(sizeClassOf(undefined), '');
});
