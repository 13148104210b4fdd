// Adaptive polling: a delay proportional to the time already waited, between a floor and a cap;
// bounded by the phase deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstPollDelay, POLL_SCHEDULE, pollDelay, pollUntil, WaitTimeoutError, windowLookTimes } from '../../src/scaleway/index.js';

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

test('pollUntil with a sign gives up at the deadline without leaving the sign\'s promise to reject unhandled', { timeout: 10_000 }, async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    // A sign that, like a real one, rejects when its round is aborted.
    const sign = (signal: AbortSignal) =>
      new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    await assert.rejects(
      pollUntil(async () => undefined, { signal: new AbortController().signal, deadlineAt: Date.now() - 1, what: 'server s-1 to boot', sign }),
      WaitTimeoutError,
    );
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', record);
  }
});

// ---- with a prediction learnt from past waits -------------------------------------------------

const boot = { expectedMs: 8_000, spreadMs: 2_000, samples: 5 };

test('with a prediction, the first look is the window\'s first placed look (with a sign, halfway to the window)', () => {
  // 8 s ± 2 s, two looks: at 8 s and at the window's end, 10 s.
  assert.equal(firstPollDelay(0, boot, false, { windowLooks: 2 }), 8_000);
  assert.equal(firstPollDelay(0, boot, false, { windowLooks: 4 }), 7_000);
  assert.equal(firstPollDelay(0, boot, false, { windowLooks: 1 }), 10_000, 'one look: at the window\'s end');
  assert.equal(firstPollDelay(2_500, boot, false, { windowLooks: 2 }), 5_500, 'a wait that starts after its action counts from the action');
  assert.equal(firstPollDelay(9_000, boot, false, { windowLooks: 2 }), 0, 'past the first placed look: look at once');
  assert.equal(firstPollDelay(0), 0, 'without a prediction: look at once, as always');
  assert.equal(firstPollDelay(0, boot), firstPollDelay(0, boot, false, { windowLooks: POLL_SCHEDULE.windowLooks }), 'POLL_SCHEDULE.windowLooks is the default');
  // With a sign the first look only learns what the sign needs: halfway to the window.
  assert.equal(firstPollDelay(0, boot, true), 3_000);
  assert.equal(firstPollDelay(2_500, boot, true), 500);
  assert.equal(firstPollDelay(0, undefined, true), 0);
  assert.equal(pollDelay(1_000, { windowLooks: 2 }, boot), 7_000);
});

test('windowLooks places that many looks evenly across the window, the last at its end, never closer than minMs', () => {
  assert.deepEqual(windowLookTimes(boot, { windowLooks: 1 }), [10_000]);
  assert.deepEqual(windowLookTimes(boot, { windowLooks: 2 }), [8_000, 10_000]);
  assert.deepEqual(windowLookTimes(boot, { windowLooks: 4 }), [7_000, 8_000, 9_000, 10_000]);
  // 4 s wide at ≥ 1 s apart: 4 looks at most, whatever the knob says.
  assert.deepEqual(windowLookTimes(boot, { windowLooks: 20, minMs: 1_000 }), [7_000, 8_000, 9_000, 10_000]);
  // A window narrower than minMs still gets its look at the end.
  assert.deepEqual(windowLookTimes({ expectedMs: 1_000, spreadMs: 50, samples: 3 }, { windowLooks: 3 }), [1_050]);
  // An hour-long snapshot's ±10 min window: looks no further apart than maxMs, however few are asked for.
  const snapshot = windowLookTimes({ expectedMs: 3_600_000, spreadMs: 600_000, samples: 4 }, { windowLooks: 2 });
  assert.equal(snapshot.length, 1_200_000 / POLL_SCHEDULE.maxMs);
  assert.equal(snapshot.at(-1), 4_200_000);
  for (let i = 1; i < snapshot.length; i++) assert.ok(snapshot[i]! - snapshot[i - 1]! <= POLL_SCHEDULE.maxMs);
});

test('inside the window the next look is the next placed one; past it the wait backs off as without a prediction', () => {
  const two = { windowLooks: 2 };
  assert.equal(pollDelay(6_000, two, boot), 2_000);
  assert.equal(pollDelay(8_040, two, boot), 1_960, 'anchored on the action: a slow look does not push the next one back');
  assert.equal(pollDelay(7_990, two, boot), 2_010, 'a look due within a few ms of now is the one just made');
  assert.equal(pollDelay(10_001, two, boot), pollDelay(10_001), 'late: the plain schedule');
  assert.equal(pollDelay(3_600_000, two, boot), POLL_SCHEDULE.maxMs);
  const snapshot = { expectedMs: 3_600_000, spreadMs: 600_000, samples: 4 };
  assert.equal(pollDelay(3_000_000, two, snapshot), POLL_SCHEDULE.maxMs, 'a wide window still looks at least every maxMs');
  assert.equal(pollDelay(4_200_001, two, snapshot), POLL_SCHEDULE.maxMs, 'past a wide window the plain schedule\'s cap still holds');
});

test('a predicted 8 s boot costs far fewer looks; each look in the window costs lag, each one fewer saves a call', () => {
  const looks = (changeAt: number, prediction?: typeof boot, windowLooks = 2) => {
    let t = firstPollDelay(0, prediction, false, { windowLooks });
    let n = 0;
    for (;;) {
      n++;
      if (t >= changeAt) return { n, lagMs: t - changeAt };
      t += pollDelay(t, { windowLooks }, prediction);
    }
  };
  for (const changeAt of [6_100, 8_000, 9_900]) {
    const plain = looks(changeAt);
    for (const windowLooks of [1, 2, 4]) {
      const predicted = looks(changeAt, boot, windowLooks);
      assert.ok(predicted.n <= windowLooks && predicted.n * 4 <= plain.n, `boot at ${changeAt}: ${predicted.n} looks vs ${plain.n}`);
      // Noticed at the latest one placed look's gap late (the window is 4 s wide).
      assert.ok(predicted.lagMs <= 4_000 / windowLooks, `boot at ${changeAt}, ${windowLooks} looks: noticed ${predicted.lagMs} ms late`);
    }
  }
  assert.deepEqual(looks(8_000, boot, 2), { n: 1, lagMs: 0 });
  assert.deepEqual(looks(8_001, boot, 2), { n: 2, lagMs: 1_999 });
  // A boot far slower than ever seen still ends the wait: the looks go on past the window.
  assert.ok(looks(30_000, boot).n < looks(30_000).n);
});

test('pollUntil with a prediction sleeps to the window, then polls until the answer', async () => {
  const lookedAt: number[] = [];
  const started = Date.now();
  const value = await pollUntil(
    async () => {
      lookedAt.push(Date.now() - started);
      return lookedAt.length === 3 ? 'ready' : undefined;
    },
    { signal: new AbortController().signal, deadlineAt: null, what: 'the test', prediction: { expectedMs: 120, spreadMs: 40, samples: 3 }, schedule: { minMs: 1, windowLooks: 2 } },
  );
  assert.equal(value, 'ready');
  // Two placed looks (the default): at 120 and 160 ms; the third is the plain schedule's.
  assert.ok(lookedAt[0]! >= 115, `first look after ${lookedAt[0]} ms, before the window's first placed look at 120 ms`);
  assert.ok(lookedAt[1]! >= 155, `second look after ${lookedAt[1]} ms, before the window's end at 160 ms`);
});

test('pollUntil with a prediction beyond the deadline still looks once before giving up', async () => {
  let looks = 0;
  await assert.rejects(
    pollUntil(async () => void looks++, {
      signal: new AbortController().signal,
      deadlineAt: Date.now() + 30,
      what: 'image i-1 to be available',
      prediction: { expectedMs: 600_000, spreadMs: 60_000, samples: 3 },
    }),
    (error: unknown) => error instanceof WaitTimeoutError && /image i-1/.test(error.message),
  );
  assert.equal(looks, 1);
});

test('while a sign is awaited, the schedule looks only at the predicted window\'s end, then sparsely', () => {
  const prediction = { expectedMs: 8_000, spreadMs: 2_000, samples: 5 };
  // Before the window's end: one look at its end at the latest, however early the last look was.
  assert.equal(pollDelay(0, {}, prediction, true), 10_000);
  assert.equal(pollDelay(6_000, {}, prediction, true), 4_000);
  assert.equal(pollDelay(9_950, {}, prediction, true), POLL_SCHEDULE.minMs);
  // Past it, or without a prediction: the delay doubles the time waited (a missing sign costs a few looks).
  assert.equal(pollDelay(12_000, {}, prediction, true), Math.min(POLL_SCHEDULE.maxMs, POLL_SCHEDULE.signFraction * 12_000));
  assert.equal(pollDelay(0, {}, undefined, true), POLL_SCHEDULE.minMs);
  assert.equal(pollDelay(2_000, {}, undefined, true), 2_000);
  // A cold 8 s boot whose sign never comes: a handful of looks instead of the plain schedule's dozens.
  let signed = 0;
  let plain = 0;
  for (let t = 0; t < 8_000; t += pollDelay(t, {}, undefined, true)) signed++;
  for (let t = 0; t < 8_000; t += pollDelay(t)) plain++;
  assert.ok(signed <= 7 && plain >= 30, `${signed} looks with a sign pending, ${plain} on the plain schedule`);
});

test('pollUntil looks as soon as the sign comes, and says the look came on it', async () => {
  const causes: string[] = [];
  let ready = false;
  let release: () => void = () => undefined;
  const sign = new Promise<void>((resolve) => (release = resolve));
  const started = Date.now();
  const waiting = pollUntil(
    async (cause) => {
      causes.push(cause);
      return ready ? 'running' : undefined;
    },
    // Without the sign, the looks after the first few milliseconds come a minute apart.
    { signal: new AbortController().signal, deadlineAt: null, what: 'x', schedule: { minMs: 10, maxMs: 60_000, signFraction: 10_000 }, sign: () => sign },
  );
  await new Promise((r) => setTimeout(r, 50));
  ready = true;
  release();
  assert.equal(await waiting, 'running');
  assert.equal(causes.at(-1), 'sign');
  assert.ok(causes.length <= 3, causes.join());
  assert.ok(Date.now() - started < 60_000);
});

test('pollUntil falls back to the schedule when the sign does not come, and leaves no probe running', async () => {
  const causes: string[] = [];
  let probesAborted = 0;
  const value = await pollUntil(
    async (cause) => {
      causes.push(cause);
      return causes.length === 3 ? 'stopped' : undefined;
    },
    {
      signal: new AbortController().signal,
      deadlineAt: null,
      what: 'x',
      schedule: { minMs: 5, maxMs: 5 },
      sign: (s) => new Promise<void>((_, reject) => s.addEventListener('abort', () => (probesAborted++, reject(new Error('aborted'))), { once: true })),
    },
  );
  assert.equal(value, 'stopped');
  assert.deepEqual(causes, ['schedule', 'schedule', 'schedule']);
  assert.equal(probesAborted, 2);
});

test('a sign that came before the state: looks no faster than the schedule\'s floor, then the plain schedule', async () => {
  const at: number[] = [];
  const causes: string[] = [];
  let signsAsked = 0;
  await pollUntil(
    async (cause) => {
      at.push(Date.now());
      causes.push(cause);
      return at.length === 4 ? true : undefined;
    },
    {
      signal: new AbortController().signal,
      deadlineAt: null,
      what: 'x',
      schedule: { minMs: 40 },
      sign: () => {
        signsAsked++;
        return Promise.resolve();
      },
    },
  );
  assert.ok(at[1]! - at[0]! >= 38 && at[2]! - at[1]! >= 38, `looks ${at[1]! - at[0]!} and ${at[2]! - at[1]!} ms apart`);
  // The look on the sign missed: the sign is not asked again.
  assert.deepEqual(causes, ['schedule', 'sign', 'schedule', 'schedule']);
  assert.equal(signsAsked, 1);
});

test('pollUntil with a pending sign still stops when its signal aborts', async () => {
  const controller = new AbortController();
  const waiting = pollUntil(async () => undefined, {
    signal: controller.signal,
    deadlineAt: null,
    what: 'x',
    schedule: { minMs: 60_000 },
    sign: (s) => new Promise<void>((_, reject) => s.addEventListener('abort', () => reject(new Error('probe stopped')), { once: true })),
  });
  setTimeout(() => controller.abort(new Error('build interrupted')), 20);
  await assert.rejects(waiting, /build interrupted/);
});

test('with a sign pending, the wait still looks once more at its deadline before giving up', async () => {
  const deadlineAt = Date.now() + 300;
  const at: number[] = [];
  await assert.rejects(
    pollUntil(
      async () => {
        at.push(Date.now());
        return undefined;
      },
      { signal: new AbortController().signal, deadlineAt, what: 'server s-1 to be running', sign: () => new Promise<void>(() => undefined) },
    ),
    (error: unknown) => error instanceof WaitTimeoutError,
  );
  assert.ok(at.at(-1)! >= deadlineAt - 5, `last look ${deadlineAt - at.at(-1)!} ms before the deadline`);
});
