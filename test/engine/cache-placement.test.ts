// Where a build makes checkpoints when no flag says (issue 24): from the time past builds took to
// reach each provisioner, against what a checkpoint costs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_SAVING_MS, placeCheckpoints } from '../../src/engine/cache-placement.js';
import type { CacheHistoryEntry } from '../../src/store/index.js';

const here = { zone: 'fr-par-1', commercialType: 'DEV1-S' };
const keys = ['k0', 'k1', 'k2', 'k3'];

/** A past build of these keys whose provisioners took `ms` each, and whose checkpoints took `checkpointMs`. */
function past(id: string, ms: number[], o: { keys?: string[]; checkpointMs?: number; zone?: string } = {}): CacheHistoryEntry {
  return {
    buildId: id,
    checked: { keys: o.keys ?? keys, zone: o.zone ?? here.zone, commercialType: here.commercialType },
    phases: [
      ...ms.map((durationMs, i) => ({ phase: 'provision', provisionerIndex: i, durationMs, facts: null })),
      ...(o.checkpointMs !== undefined ? [{ phase: 'checkpoint', provisionerIndex: 0, durationMs: o.checkpointMs, facts: { checkpointMade: 'k0' } }] : []),
    ],
  };
}

test('no history: no checkpoint (the first build needs --checkpoint-after)', () => {
  assert.deepEqual(placeCheckpoints({ keys, history: [], here, fallbackCostMs: 30_000 }).positions, []);
});

test('after the provisioners that take clearly longer than a checkpoint costs, never after the last', () => {
  const history = [past('b1', [600_000, 5_000, 400_000, 900_000]), past('b2', [620_000, 5_000, 380_000, 900_000])];
  const placed = placeCheckpoints({ keys, history, here, fallbackCostMs: 60_000 });
  assert.deepEqual(placed.positions, [0, 2]);
  assert.deepEqual(placed.provisionerMs, [610_000, 5_000, 390_000, 900_000]);
  assert.equal(placed.costLearnt, false);
});

test('the cost is learnt from past checkpoints here: an expensive one moves the checkpoint later', () => {
  const history = [past('b1', [300_000, 300_000, 300_000, 1], { checkpointMs: 350_000 })];
  const placed = placeCheckpoints({ keys, history, here, fallbackCostMs: 10_000 });
  assert.equal(placed.costMs, 350_000);
  assert.equal(placed.costLearnt, true);
  assert.deepEqual(placed.positions, [2], '900 s of provisioning, not 600, is worth two 350 s checkpoints');
  // Checkpoints made in another zone say nothing of this one.
  assert.equal(placeCheckpoints({ keys, history: [past('b1', [1, 1, 1, 1], { checkpointMs: 350_000, zone: 'nl-ams-1' })], here, fallbackCostMs: 10_000 }).costLearnt, false);
});

test('a provisioner whose key changed since: nothing known from there on', () => {
  const history = [past('b1', [600_000, 600_000, 600_000, 1], { keys: ['k0', 'other', 'k2', 'k3'] })];
  assert.deepEqual(placeCheckpoints({ keys, history, here, fallbackCostMs: 1_000 }).positions, [0]);
});

test('a cheap checkpoint is still not made for provisioning that saves less than a minute', () => {
  const history = [past('b1', [MIN_SAVING_MS / 2, MIN_SAVING_MS / 2 - 1, 5_000, 1])];
  assert.deepEqual(placeCheckpoints({ keys, history, here, fallbackCostMs: 100 }).positions, [2]);
});
