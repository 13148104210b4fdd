// The build cache's cleanup rules (src/gc/cache.ts), as pure functions: which checkpoints
// `kiln gc --cache` removes (--older-than, --keep N per template and provisioner, never one a live
// build uses or is making, an incomplete one's snapshots) and which ones `kiln cache rm` names.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cachePlanItems, judgeCache, selectCheckpoints, type CacheEntry } from '../../src/gc/index.js';

const DAY = 24 * 3_600_000;
const NOW = Date.parse('2026-12-07T12:00:00Z');

function entry(key: string, ageDays: number, more: Partial<CacheEntry> = {}): CacheEntry {
  return {
    key: key.padEnd(64, '0'),
    zone: 'fr-par-1',
    imageId: `image-${key}`,
    imageState: 'available',
    snapshots: [{ id: `snap-${key}`, state: 'available' }],
    buildId: `build-${key}`,
    templatePath: '/t/web.json',
    builderName: 'scaleway',
    provisionerIndex: 0,
    provisionerType: 'shell',
    createdAt: NOW - ageDays * DAY,
    sizeBytes: 10e9,
    hits: 0,
    reachMs: 60_000,
    foundIn: 'store',
    status: 'available',
    usedBy: [],
    ...more,
  };
}

const removed = (verdicts: ReturnType<typeof judgeCache>) => verdicts.filter((v) => v.remove).map((v) => v.entry.key.slice(0, 4)).sort();

describe('kiln gc --cache rules', () => {
  test('--older-than: only older checkpoints go; one of unknown age stays', () => {
    const verdicts = judgeCache([entry('aaaa', 10), entry('bbbb', 2), entry('cccc', 0, { createdAt: undefined })], { now: NOW, olderThanMs: 7 * DAY });
    assert.deepEqual(removed(verdicts), ['aaaa']);
    assert.match(verdicts.find((v) => v.entry.key.startsWith('cccc'))!.reason, /age is unknown/);
  });

  test('--keep N keeps the N newest of each template at each provisioner; checkpoints not of this store are not counted', () => {
    const entries = [
      entry('new0', 1),
      entry('mid0', 2),
      entry('old0', 3),
      entry('new1', 2, { provisionerIndex: 1 }),
      entry('old1', 4, { provisionerIndex: 1 }),
      entry('othr', 5, { templatePath: '/t/db.json' }),
      entry('tmte', 6, { templatePath: null, builderName: null, foundIn: 'cloud' }),
    ];
    assert.deepEqual(removed(judgeCache(entries, { now: NOW, olderThanMs: 0, keep: 1 })), ['mid0', 'old0', 'old1', 'tmte']);
    assert.deepEqual(removed(judgeCache(entries, { now: NOW, olderThanMs: 0, keep: 2 })), ['old0', 'tmte']);
    // With both, a checkpoint goes when it is beyond the N newest AND older than --older-than.
    assert.deepEqual(removed(judgeCache(entries, { now: NOW, olderThanMs: 2.5 * DAY, keep: 1 })), ['old0', 'old1', 'tmte']);
  });

  test('never a checkpoint a live build uses or is making; one a dead build left unfinished, or incomplete (image gone), goes', () => {
    const verdicts = judgeCache(
      [
        entry('used', 30, { usedBy: ['build-live'] }),
        entry('make', 30, { status: 'claimed', usedBy: ['build-maker'] }),
        entry('dead', 30, { status: 'claimed' }),
        entry('part', 30, { status: 'incomplete', imageState: null }),
      ],
      { now: NOW, olderThanMs: 0 },
    );
    assert.deepEqual(removed(verdicts), ['dead', 'part']);
    assert.match(verdicts.find((v) => v.entry.key.startsWith('used'))!.reason, /in use by live build build-live/);
    assert.match(verdicts.find((v) => v.entry.key.startsWith('dead'))!.reason, /never finished: build build-dead is not running/);
    const part = verdicts.find((v) => v.entry.key.startsWith('part'))!;
    assert.deepEqual(cachePlanItems(part).map((i) => [i.type, i.id, i.action]), [['snapshot', 'snap-part', 'delete']]);
  });

  test("a checkpoint's plan is its image, then each snapshot (block ones through the Block API)", () => {
    const e = entry('both', 9, { snapshots: [{ id: 's-root' }, { id: 's-extra', api: 'block' }] });
    const items = cachePlanItems({ entry: e, remove: true, reason: 'named' });
    assert.deepEqual(items.map((i) => [i.type, i.id, i.api ?? 'instance']), [['image', 'image-both', 'instance'], ['snapshot', 's-root', 'instance'], ['snapshot', 's-extra', 'block']]);
  });
});

describe('kiln cache rm names', () => {
  const entries = [entry('abcd1234', 1), entry('abcd9999', 1), entry('ffff0000', 1, { usedBy: ['b1'] })];
  test('by key, by 8 characters of a key, by image id; a live one is kept', () => {
    const { verdicts, problems } = selectCheckpoints(entries, ['abcd1234', 'image-abcd9999', 'ffff0000']);
    assert.deepEqual(problems, []);
    assert.deepEqual(verdicts.map((v) => [v.entry.key.slice(0, 8), v.remove]), [['abcd1234', true], ['abcd9999', true], ['ffff0000', false]]);
  });
  test('too short, ambiguous or unknown: said, with what to give', () => {
    const { problems } = selectCheckpoints(entries, ['abcd', 'abcd', 'nothing!']);
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /"abcd" names no checkpoint: give a key \(at least its first 8 characters\)/);
    assert.match(selectCheckpoints([entry('abcd1234', 1), entry('abcd1234x', 1)], ['abcd1234']).problems[0] ?? '', /matches several checkpoints/);
  });
});
