// The report's model, from event logs written the way the engine and the CLI write them: the
// stretches of the processes (and how each ended), one bar per phase attempt at its events' times,
// the waits placed from their action, the fates of resources, the API calls, the error's hint;
// and the timeline's axis (bar lengths proportional to durations, long pauses drawn as breaks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, ganttSvg, reportBody, timeAxis } from '../../src/report/index.js';
import { applyEvent, thisProcess, type BuildEvent, type BuildRecord, type EventType } from '../../src/store/index.js';
import type { PhaseName } from '../../machines/phases.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

/** A log built event by event: `at` in ms after T0. */
function log() {
  const events: BuildEvent[] = [];
  const add = (at: number, type: EventType, phase: PhaseName | null = null, attempt = 0, data: Record<string, unknown> = {}) =>
    events.push({ buildId: 'b1', seq: events.length + 1, at: new Date(T0 + at).toISOString(), type, phase, attempt, data });
  return { events, add };
}

function recordOf(events: readonly BuildEvent[]): BuildRecord {
  const start: BuildRecord = {
    id: 'b1', templatePath: '/t/web.json', templateHash: 'ab'.repeat(32), builderName: 'web', status: 'running', phase: null, attempt: 0, provisionerIndex: 0,
    spec: { provisioners: [{ type: 'shell', index: 0 }] }, onError: 'cleanup', resources: {}, artifact: null, error: null, lease: null, host: null,
    createdAt: events[0]!.at, updatedAt: events[0]!.at, lastSeq: 0,
  };
  return events.reduce(applyEvent, start);
}

/** A build started on runner-a, killed during provisioning, resumed on runner-b, whose image create was retried once. */
function killedAndResumed() {
  const { events, add } = log();
  add(0, 'build.started', null, 0, { host: 'runner-a', pid: 11 });
  add(10, 'phase.started', 'server.create', 1);
  add(500, 'server.created', 'server.create', 1, { serverId: 'srv-1', volumeIds: ['vol-1'] });
  add(510, 'phase.succeeded', 'server.create', 1, { durationMs: 500 });
  add(510, 'phase.started', 'server.wait_running', 1);
  add(520, 'wait.started', 'server.wait_running', 1, { what: 'server srv-1 to be running', elapsedMs: 20, expectedMs: 2000, spreadMs: 300, samples: 8 });
  add(2600, 'wait.finished', 'server.wait_running', 1, { durationMs: 2100, looks: 2 });
  add(2610, 'phase.succeeded', 'server.wait_running', 1, { durationMs: 2100 });
  add(2610, 'phase.started', 'provision', 1, { provisionerIndex: 0 });
  add(2700, 'provision.output', 'provision', 1, { index: 0, lines: [{ stream: 'stdout', line: 'hello <b>' }] });
  // killed here: no end recorded; resumed 60 s later elsewhere
  add(62_700, 'build.resumed', 'provision', 0, { fromPhase: 'provision', fromProvisioner: 0, host: 'runner-b', pid: 22 });
  add(62_710, 'phase.started', 'provision', 1, { provisionerIndex: 0 });
  add(63_000, 'provision.output', 'provision', 1, { index: 0, lines: [{ stream: 'stderr', line: 'again' }] });
  add(64_000, 'phase.succeeded', 'provision', 1, { provisionerIndex: 0, durationMs: 1290 });
  add(64_000, 'phase.started', 'image.create', 1);
  add(64_300, 'phase.retrying', 'image.create', 1, { error: { name: 'ServerError', message: '503', retryable: true }, delayMs: 400 });
  add(64_700, 'phase.started', 'image.create', 2);
  add(65_000, 'image.created', 'image.create', 2, { imageId: 'img-1' });
  add(65_000, 'phase.succeeded', 'image.create', 2, { durationMs: 1000 });
  add(65_000, 'phase.started', 'cleanup', 1);
  add(65_200, 'server.deleted', 'cleanup', 1, { serverId: 'srv-1', terminated: true, volumesDeleted: true });
  add(65_300, 'phase.succeeded', 'cleanup', 1, { durationMs: 300 });
  add(65_300, 'build.succeeded', null, 0, { artifact: { imageId: 'img-1', imageName: 'web', snapshotId: 'snap-1', snapshotName: 'web-snap', zone: 'fr-par-1' } });
  add(65_310, 'api.calls', null, 0, { calls: 12, retries: 1 });
  return events;
}

test('a killed and resumed build: two stretches with their hosts, the killed one ending at its last event, and markers for both', () => {
  const events = killedAndResumed();
  const r = buildReport(recordOf(events), events, [], T0 + 70_000);
  assert.deepEqual(
    r.stretches.map((s) => [s.host, s.pid, s.end, s.startAt - T0, s.endAt - T0]),
    [
      ['runner-a', 11, 'killed', 0, 2700],
      ['runner-b', 22, 'succeeded', 62_700, 65_300],
    ],
  );
  assert.deepEqual(r.hosts, ['runner-a', 'runner-b']);
  assert.deepEqual(r.markers.map((m) => [m.kind, m.at - T0]), [['killed', 2700], ['resumed', 62_700]]);
  assert.match(r.markers[0]!.label, /process 11 on runner-a ended without recording an end/);
  assert.equal(r.activeMs, 2700 + 2600);
  // The second stretch counted its calls; the killed one could not.
  assert.deepEqual(r.apiCalls, { calls: 12, retries: 1, uncounted: 1 });
});

test('one bar per phase attempt, from its phase.started to the event that ended it, with the outcome', () => {
  const events = killedAndResumed();
  const r = buildReport(recordOf(events), events, [], T0 + 70_000);
  assert.deepEqual(
    r.bars.map((b) => [b.phase, b.attempt, b.stretch, b.startAt - T0, b.endAt - T0, b.outcome]),
    [
      ['server.create', 1, 0, 10, 510, 'succeeded'],
      ['server.wait_running', 1, 0, 510, 2610, 'succeeded'],
      ['provision', 1, 0, 2610, 2700, 'killed'],
      ['provision', 1, 1, 62_710, 64_000, 'succeeded'],
      ['image.create', 1, 1, 64_000, 64_300, 'retried'],
      ['image.create', 2, 1, 64_700, 65_000, 'succeeded'],
      ['cleanup', 1, 1, 65_000, 65_300, 'succeeded'],
    ],
  );
  assert.equal(r.bars[4]!.error, 'ServerError: 503');
  // A phase's attempts share its row; rows in the order phases first ran.
  assert.deepEqual(r.rows.map((row) => row.phase), ['server.create', 'server.wait_running', 'provision', 'image.create', 'cleanup']);
  assert.equal(r.rows[2]!.provisionerType, 'shell');
  // A row's duration: first start to end within each stretch (the retry's backoff counts, the minute no process ran does not).
  assert.deepEqual(r.rows.map((row) => row.durationMs), [500, 2100, 90 + 1290, 1000, 300]);
});

test('a wait starts at its action (wait.started minus elapsedMs) and carries the window kiln predicted', () => {
  const events = killedAndResumed();
  const [wait] = buildReport(recordOf(events), events, [], T0 + 70_000).waits;
  assert.deepEqual(
    { start: wait!.startAt - T0, end: wait!.endAt - T0, expected: wait!.expectedMs, spread: wait!.spreadMs, samples: wait!.samples, looks: wait!.looks, finished: wait!.finished },
    { start: 500, end: 2600, expected: 2000, spread: 300, samples: 8, looks: 2, finished: true },
  );
});

test('resources and their fate; output per provisioner run, in the stretch it ran in', () => {
  const events = killedAndResumed();
  const r = buildReport(recordOf(events), events, [], T0 + 70_000);
  assert.deepEqual(r.resources.map((x) => [x.kind, x.id, x.fateLabel]), [
    ['server', 'srv-1', 'deleted'],
    ['volume', 'vol-1', 'deleted'],
    ['image', 'img-1', 'kept: the artifact'],
  ]);
  assert.deepEqual(r.outputs.map((o) => [o.index, o.type, o.runs.map((run) => [run.stretch, run.lines.map((l) => l.line)])]), [
    [0, 'shell', [[0, ['hello <b>']], [1, ['again']]]],
  ]);
});

test('a build whose process is gone: its last stretch is "gone", its bar cut short, and the hint says resume or gc; a live one runs to now', () => {
  const { events, add } = log();
  add(0, 'build.started', null, 0, { host: 'h', pid: 1 });
  add(10, 'phase.started', 'server.create', 1);
  add(400, 'server.created', 'server.create', 1, { serverId: 'srv-9', volumeIds: [] });
  const record = recordOf(events);
  const gone = buildReport(record, events, [], T0 + 100_000);
  assert.equal(gone.stretches[0]!.end, 'gone');
  assert.equal(gone.bars[0]!.outcome, 'killed');
  assert.equal(gone.bars[0]!.endAt - T0, 400);
  assert.equal(gone.resources[0]!.fateLabel, 'left for kiln gc');
  assert.match(gone.error!.hint, /kiln resume b1/);
  assert.match(gone.error!.hint, /kiln gc --build b1 --force/);

  const live = buildReport({ ...record, lease: { ...thisProcess(), expiresAt: T0 + 200_000 } }, events, [], T0 + 5_000);
  assert.equal(live.running, true);
  assert.equal(live.bars[0]!.outcome, 'running');
  assert.equal(live.bars[0]!.endAt - T0, 5_000, 'a running attempt reaches the store clock');
  assert.equal(live.error, undefined);
});

test('a failed build: the error and the hint kiln build prints', () => {
  const { events, add } = log();
  add(0, 'build.started', null, 0, { host: 'h', pid: 1 });
  add(10, 'phase.started', 'provision', 1, { provisionerIndex: 0 });
  const error = { name: 'ProvisionerFailed', message: 'the shell provisioner exited 2', retryable: false };
  add(900, 'phase.failed', 'provision', 1, { error });
  add(910, 'build.failed', 'provision', 0, { error, cleanedUp: false });
  const r = buildReport(recordOf(events), events, [], T0 + 1_000);
  assert.equal(r.error?.text, 'ProvisionerFailed: the shell provisioner exited 2');
  assert.equal(r.error?.phase, 'provision');
  assert.match(r.error!.hint, /Its resources are kept for inspection\.\n  retry the failed phase after fixing the cause:  kiln resume b1/);
  assert.equal(r.bars[0]!.outcome, 'failed');
});

test('the axis: bars are as long as their durations on one scale, and a long pause is a fixed break', () => {
  const events = killedAndResumed();
  const r = buildReport(recordOf(events), events, [], T0 + 70_000);
  const axis = timeAxis(r);
  assert.equal(axis.segments.length, 2, 'the minute between the stretches is a break');
  for (const b of r.bars) assert.ok(Math.abs(axis.x(b.endAt) - axis.x(b.startAt) - (b.endAt - b.startAt) * axis.pxPerMs) < 1e-6, `${b.phase} #${b.attempt}`);
  // Monotone across the break.
  assert.ok(axis.x(T0 + 2700) < axis.x(T0 + 30_000) && axis.x(T0 + 30_000) < axis.x(T0 + 62_700));
  assert.equal(ganttSvg(r).match(/<rect class="bar /g)?.length, r.bars.length);
});

test('text from the log is escaped: a provisioner printing markup shows it as text', () => {
  const events = killedAndResumed();
  const body = reportBody(buildReport(recordOf(events), events, [], T0 + 70_000));
  assert.ok(body.includes('hello &lt;b&gt;'));
  assert.ok(!body.includes('hello <b>'));
});

test('an interrupted build (Ctrl-C): its stretch and attempt end at the interruption, marked, and the hint says how to go on', () => {
  const { events, add } = log();
  add(0, 'build.started', null, 0, { host: 'h', pid: 1 });
  add(10, 'phase.started', 'server.wait_running', 1);
  add(700, 'build.interrupted', 'server.wait_running', 0, { reason: 'SIGINT' });
  const r = buildReport(recordOf(events), events, [], T0 + 5_000);
  assert.deepEqual([r.stretches[0]!.end, r.stretches[0]!.endAt - T0], ['interrupted', 700]);
  assert.deepEqual([r.bars[0]!.outcome, r.bars[0]!.endAt - T0], ['interrupted', 700]);
  assert.deepEqual(r.markers.map((m) => [m.kind, m.at - T0]), [['interrupted', 700]]);
  assert.equal(r.error?.text, 'interrupted: SIGINT');
  assert.match(r.error!.hint, /was interrupted during server\.wait_running; its resources are kept\.\n  continue:  kiln resume b1/);
});

test("a build that started from a checkpoint and made one: the report's Build cache section tells both", () => {
  const { events, add } = log();
  add(0, 'build.started', null, 0, { host: 'runner-a', pid: 11 });
  add(10, 'cache.checked', 'prepare', 1, { hit: { index: 1, imageId: 'img-ckpt-1', madeBy: 'b0', madeAt: '2026-12-01T09:00:00.000Z', savesMs: 754_000 }, checkpointAfter: [2] });
  add(5_000, 'checkpoint.made', 'checkpoint', 1, { index: 2, imageId: 'img-ckpt-2', key: 'f'.repeat(64), reachMs: 800_000 });
  const body = reportBody(buildReport(recordOf(events), events, [], T0 + 6_000));
  const section = /<section data-section="cache">([\s\S]*?)<\/section>/.exec(body)?.[1] ?? '';
  assert.match(section, /provisioners 0–1: from checkpoint img-ckpt-1, made by build b0 on 2026-12-01 09:00, saves ~12m34s/);
  assert.match(section, /Checkpoint after provisioner 2: image img-ckpt-2/);
  // A build that never met the cache has no such section.
  assert.doesNotMatch(reportBody(buildReport(recordOf(killedAndResumed()), killedAndResumed())), /data-section="cache"/);
});
