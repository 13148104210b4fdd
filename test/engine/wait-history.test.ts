// WaitHistory: the past waits the builds of one process predict from, read from the store once
// and added to as the builds finish their waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitHistory } from '../../src/engine/index.js';
import type { WaitRecord } from '../../src/scaleway/index.js';

const key = { wait: 'server.stop', zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' };
const wait = (durationMs: number): WaitRecord => ({ key, durationMs, whole: true });

test('the builds of one process read the store once between them, however many ask at once', async () => {
  const history = new WaitHistory();
  let reads = 0;
  const read = () => {
    reads++;
    return [wait(4000), { looks: 3 } /* not a wait record: left out */, wait(4200)] as unknown as Record<string, unknown>[];
  };
  const [a, b] = await Promise.all([history.records(read), history.records(read)]);
  assert.equal(reads, 1);
  assert.deepEqual(a.map((r) => r.durationMs), [4000, 4200]);
  assert.equal(a, b);
  await history.records(read);
  assert.equal(reads, 1);
});

test('a wait a build finishes is learnt by the later waits of the other builds, without a new read', async () => {
  const history = new WaitHistory();
  let reads = 0;
  const read = async () => {
    reads++;
    return [wait(4000)] as unknown as Record<string, unknown>[];
  };
  await history.records(read);
  history.add(wait(3900));
  history.add(wait(4100));
  assert.deepEqual((await history.records(read)).map((r) => r.durationMs), [4000, 3900, 4100]);
  assert.equal(reads, 1);
});

test('a read that failed (the store unreachable) is tried again by the next wait', async () => {
  const history = new WaitHistory();
  await assert.rejects(history.records(() => Promise.reject(new Error('store unreachable'))), /store unreachable/);
  assert.deepEqual((await history.records(() => [wait(1000)] as unknown as Record<string, unknown>[])).map((r) => r.durationMs), [1000]);
});
