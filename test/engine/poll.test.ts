// Adaptive polling: fast first, then backing off to a cap; bounded by the phase deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollDelay, pollUntil, WaitTimeoutError } from '../../src/engine/poll.js';

test('poll delays start small and grow to a cap', () => {
  const delays = Array.from({ length: 20 }, (_, n) => pollDelay(n));
  assert.equal(delays[0], 200);
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! >= delays[i - 1]!);
  assert.equal(delays.at(-1), 5_000);
});

test('pollUntil returns the first defined answer', async () => {
  let calls = 0;
  const value = await pollUntil(async () => (++calls === 3 ? 'ready' : undefined), {
    signal: new AbortController().signal,
    deadlineAt: null,
    what: 'the test',
    initialMs: 1,
    maxMs: 1,
  });
  assert.equal(value, 'ready');
  assert.equal(calls, 3);
});

test('pollUntil gives up once the phase deadline has passed, naming what it waited for', async () => {
  await assert.rejects(
    pollUntil(async () => undefined, { signal: new AbortController().signal, deadlineAt: Date.now() - 1, what: 'server s-1 to stop' }),
    (error: unknown) => error instanceof WaitTimeoutError && /server s-1 to stop/.test(error.message),
  );
});

test('pollUntil stops when its signal aborts', async () => {
  const controller = new AbortController();
  const waiting = pollUntil(async () => undefined, { signal: controller.signal, deadlineAt: null, what: 'x', initialMs: 60_000 });
  controller.abort(new Error('interrupted'));
  await assert.rejects(waiting, /interrupted/);
});
