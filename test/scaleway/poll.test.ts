// Adaptive polling: a delay proportional to the time already waited, between a floor and a cap;
// bounded by the phase deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POLL_SCHEDULE, pollDelay, pollUntil, WaitTimeoutError } from '../../src/scaleway/index.js';

test('a young wait polls at the floor delay', () => {
  assert.equal(pollDelay(0), POLL_SCHEDULE.minMs);
  assert.equal(pollDelay(1_000), POLL_SCHEDULE.minMs);
});

test('the delay is a fraction of the time already waited, so a change is noticed at most that fraction late', () => {
  // An 8 s boot: the look after 8 s comes 5 % later, not seconds later.
  assert.equal(pollDelay(8_000), 400);
  assert.equal(pollDelay(60_000), 3_000);
  for (const elapsed of [10_000, 30_000, 120_000]) assert.ok(pollDelay(elapsed) <= POLL_SCHEDULE.fraction * elapsed);
});

test('a long wait backs off to the cap and never grows past it', () => {
  assert.equal(pollDelay(3_600_000), POLL_SCHEDULE.maxMs);
  let previous = 0;
  for (let elapsed = 0; elapsed <= 3_600_000; elapsed += 5_000) {
    const delay = pollDelay(elapsed);
    assert.ok(delay >= previous && delay <= POLL_SCHEDULE.maxMs);
    previous = delay;
  }
  // An hour of waiting costs a few hundred polls, not thousands.
  let polls = 0;
  for (let t = 0; t < 3_600_000; t += pollDelay(t)) polls++;
  assert.ok(polls < 500, `${polls} polls in an hour`);
});

test('the schedule can be overridden part by part', () => {
  assert.equal(pollDelay(0, { minMs: 1 }), 1);
  assert.equal(pollDelay(1_000_000, { maxMs: 2_000 }), 2_000);
  assert.equal(pollDelay(10_000, { fraction: 0.1 }), 1_000);
});

test('pollUntil returns the first defined answer', async () => {
  let calls = 0;
  const value = await pollUntil(async () => (++calls === 3 ? 'ready' : undefined), {
    signal: new AbortController().signal,
    deadlineAt: null,
    what: 'the test',
    schedule: { minMs: 1, maxMs: 1 },
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
  const waiting = pollUntil(async () => undefined, { signal: controller.signal, deadlineAt: null, what: 'x', schedule: { minMs: 60_000 } });
  controller.abort(new Error('interrupted'));
  await assert.rejects(waiting, /interrupted/);
});
