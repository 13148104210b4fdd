// The progress renderers, fed build events: what a user sees on a terminal, in a log, as JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createRenderer, waitProgress } from '../../src/cli/render/progress.js';
import { describeClientRetry, describeEvent, formatElapsed } from '../../src/view/index.js';
import type { BuildEvent, EventType } from '../../src/store/index.js';
import type { PhaseName } from '../../machines/phases.js';

class Capture extends Writable {
  text = '';
  columns = 120;
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let seq = 0;
const ev = (type: EventType, phase: PhaseName | null, data: Record<string, unknown> = {}, attempt = 1): BuildEvent => ({
  buildId: 'b-1',
  seq: ++seq,
  at: '2026-11-27T10:00:0' + (seq % 10) + '.000Z',
  type,
  phase,
  attempt,
  data,
});

const story = (): BuildEvent[] => [
  ev('build.started', null, { templatePath: 't.json', builderName: 'scaleway', onError: 'cleanup' }, 0),
  ev('phase.started', 'server.create'),
  ev('phase.retrying', 'server.create', { error: { name: 'ServerError', message: '503 from the API', retryable: true }, delayMs: 1000 }),
  ev('phase.started', 'server.create', {}, 2),
  ev('server.created', 'server.create', { serverId: 's-1' }, 2),
  ev('phase.succeeded', 'server.create', { durationMs: 1500 }, 2),
  ev('phase.started', 'provision', { provisionerIndex: 0 }),
  ev('provision.output', 'provision', { index: 0, lines: [{ stream: 'stdout', line: 'hello from the server' }] }),
];

test('terminal: the phase list shows attempts, the retry reason and finished phases; output streams with a prefix', () => {
  const out = new Capture();
  const r = createRenderer('tty', out as unknown as NodeJS.WritableStream);
  r.track('b-1', 'scaleway', ['server.create', 'provision', 'cleanup']);
  const events = story();
  for (const e of events.slice(0, 4)) r.onEvent(e);
  const afterRetry = out.text.slice(out.text.lastIndexOf('build b-1'));
  assert.match(afterRetry, /server\.create\s+\S+\s+attempt 2\s+attempt 1 failed: ServerError: 503 from the API/);
  for (const e of events.slice(4)) r.onEvent(e);
  r.close();
  const last = out.text.slice(out.text.lastIndexOf('build b-1'));
  assert.match(last, /✓ server\.create/);
  assert.match(last, /provision #0/);
  assert.match(out.text, /(\n|\x1b\[0J) {4}scaleway: hello from the server\n/);
});

test('a retrying phase shows the reason and the time left before its deadline (terminal and plain)', () => {
  const retrying = (deadlineAt: string) =>
    ev('phase.retrying', 'image.create', { error: { name: 'ServerError', message: '502 from the API', retryable: true }, delayMs: 2000, deadlineAt }, 3);
  const tty = new Capture();
  const r = createRenderer('tty', tty as unknown as NodeJS.WritableStream);
  r.track('b-1', 'scaleway', ['image.create']);
  // The terminal counts down from now: a deadline 9m30s away shows as 9m2x/9m30s left.
  r.onEvent(retrying(new Date(Date.now() + 570_000).toISOString()));
  r.close();
  assert.match(tty.text.slice(tty.text.lastIndexOf('build b-1')), /↻ image\.create .*retrying, 9m[23]\ds left; attempt 3 failed: ServerError: 502 from the API/);
  // A log line counts from the event's own time.
  const plain = new Capture();
  const p = createRenderer('plain', plain);
  p.track('b-1', 'scaleway');
  const e = retrying('');
  p.onEvent({ ...e, data: { ...e.data, deadlineAt: new Date(Date.parse(e.at) + 552_000).toISOString() } });
  assert.match(plain.text, /==> scaleway: image\.create: attempt 3 failed \(ServerError: 502 from the API\); retrying in 2\.0s, 9m12s left before its deadline\n$/);
});

test('plain: one line per step, no timestamps, a phase only once it is done; output lines prefixed with the builder name', () => {
  const out = new Capture();
  const r = createRenderer('plain', out);
  r.track('b-1', 'scaleway');
  for (const e of story()) r.onEvent(e);
  r.onEvent(ev('phase.succeeded', 'provision', { provisionerIndex: 0, durationMs: 300 }));
  const lines = out.text.trim().split('\n');
  assert.equal(lines[0], '==> scaleway: Build b-1 started (template t.json, builder scaleway, on error: cleanup)');
  assert.ok(lines.some((l) => /^==> scaleway: server\.create: attempt 1 failed \(ServerError: 503 from the API\); retrying in 1\.0s$/.test(l)));
  assert.ok(lines.includes('    scaleway: hello from the server'));
  // The first attempt's start says nothing the done line does not; the second attempt's start follows a retry.
  assert.ok(!lines.some((l) => l.endsWith(': started')), out.text);
  assert.deepEqual(lines.filter((l) => /: (done in|attempt \d+$)/.test(l)), ['==> scaleway: server.create: attempt 2', '==> scaleway: server.create: done in 1.5s', '==> scaleway: provision #0: done in 300ms']);
  assert.ok(!out.text.includes('\x1b['), 'no terminal escapes in plain output');
});

test("plain and terminal: a failure's cause is printed once, by its phase's line", () => {
  const error = { name: 'ProvisionerError', message: 'provisioner 0 (shell): exited with code 3', retryable: false };
  const events = [ev('phase.started', 'provision', { provisionerIndex: 0 }), ev('phase.failed', 'provision', { error }), ev('cleanup.started', 'cleanup'), ev('build.failed', 'provision', { error, cleanedUp: true })];
  for (const mode of ['plain', 'tty'] as const) {
    const out = new Capture();
    const r = createRenderer(mode, out as unknown as NodeJS.WritableStream);
    r.track('b-1', 'scaleway', ['provision', 'cleanup']);
    for (const e of events) r.onEvent(e);
    r.close();
    // On a terminal, the scrolling log's lines (the live block above which they are written shows the failed row's note).
    const log = mode === 'tty' ? out.text.split('\n').filter((l) => /^(\x1b\[\d+A\x1b\[0J)?scaleway: /.test(l)).join('\n') : out.text;
    assert.equal(log.split('exited with code 3').length - 1, 1, `${mode}: ${out.text}`);
    assert.match(out.text, /Build failed in provision \(everything it created was removed\)/);
  }
  // A build failing with no phase's failure line before it still says why.
  const out = new Capture();
  const r = createRenderer('plain', out);
  r.track('b-1', 'scaleway');
  r.onEvent(ev('build.failed', 'prepare', { error }));
  assert.match(out.text, /Build failed in prepare: ProvisionerError: provisioner 0 \(shell\): exited with code 3/);
});

test('terminal: the live block lists only the phases that run — a volume_snapshots phase once it starts, nothing pending once the build ended', () => {
  const out = new Capture();
  const r = createRenderer('tty', out as unknown as NodeJS.WritableStream);
  r.track('b-1', 'scaleway', ['server.create', 'snapshot.create', 'volume_snapshots.create', 'snapshot.wait', 'volume_snapshots.wait', 'cleanup']);
  r.onEvent(ev('phase.started', 'server.create'));
  const block = (): string => out.text.slice(out.text.lastIndexOf('build b-1'));
  assert.doesNotMatch(block(), /volume_snapshots/);
  assert.match(block(), /· snapshot\.create/);
  r.onEvent(ev('phase.started', 'volume_snapshots.create'));
  assert.match(block(), /volume_snapshots\.create/);
  assert.doesNotMatch(block(), /volume_snapshots\.wait/);
  r.onEvent(ev('build.failed', 'volume_snapshots.create', { error: { name: 'E', message: 'm', retryable: false } }));
  r.close();
  assert.doesNotMatch(block(), /snapshot\.wait|cleanup/, 'what will not run is not listed');
});

test('json: every event of a tracked build as one object, with camelCase keys', () => {
  const out = new Capture();
  const r = createRenderer('json', out);
  r.track('b-1', 'scaleway');
  for (const e of story()) r.onEvent(e);
  r.onEvent({ ...story()[0]!, buildId: 'someone-else' });
  const objects = out.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objects.length, story().length);
  assert.deepEqual(Object.keys(objects[0]!), ['buildId', 'seq', 'at', 'type', 'phase', 'attempt', 'data']);
});

test('terminal: a wait with history shows its time against the usual one, with a bar; done, the usual time stays', () => {
  const out = new Capture();
  const r = createRenderer('tty', out as unknown as NodeJS.WritableStream);
  r.track('b-1', 'scaleway', ['server.wait_running', 'server.wait_stopped']);
  const now = Date.now();
  const at = (ms: number) => new Date(now + ms).toISOString();
  const key = { wait: 'server.boot', zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' };
  r.onEvent({ ...ev('phase.started', 'server.wait_running'), at: at(-6_000) });
  // The boot started 100 ms before the wait (the poweron's answer): the wait's clock counts from it.
  r.onEvent({ ...ev('wait.started', 'server.wait_running', { key, what: 'server s-1', elapsedMs: 100, expectedMs: 8_000, spreadMs: 2_000, samples: 5 }), at: at(-6_000) });
  r.onEvent(ev('phase.started', 'server.wait_stopped')); // a wait without history: no bar
  const running = out.text.slice(out.text.lastIndexOf('build b-1'));
  assert.match(running, /server\.wait_running\s+6\.\ds\s+6\.\ds of ~8\.0s ███████░░░/);
  assert.doesNotMatch(running.split('\n').find((l) => l.includes('server.wait_stopped'))!, /of ~/);
  r.onEvent({ ...ev('phase.succeeded', 'server.wait_running'), at: at(4_000) });
  r.close();
  const done = out.text.slice(out.text.lastIndexOf('build b-1'));
  assert.match(done, /✓ server\.wait_running\s+10\.0s\s+10\.1s, usually ~8\.0s \(slow\)/);
});

test('a wait a few milliseconds over its prediction is not flagged slow; one a second and more past its window is', () => {
  assert.equal(waitProgress(26, { ms: 17, spreadMs: 0 }, false), '26ms, usually ~17ms');
  assert.equal(waitProgress(900, { ms: 100, spreadMs: 50 }, false), '900ms, usually ~100ms');
  assert.match(waitProgress(1_200, { ms: 100, spreadMs: 50 }, false), /\(slow\)$/);
  assert.doesNotMatch(waitProgress(800, { ms: 100, spreadMs: 0 }, true), /later than usual/);
  assert.match(waitProgress(2_000, { ms: 500, spreadMs: 100 }, true), /later than usual$/);
  assert.doesNotMatch(waitProgress(9_000, { ms: 8_000, spreadMs: 2_000 }, false), /slow/, 'within its spread');
});

test('plain and json: a wait says what it expects, and the JSON event carries the prediction', () => {
  const key = { wait: 'image', zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' };
  const events = [
    ev('wait.started', 'image.wait', { key, what: 'image i-1 to be available', elapsedMs: 3, expectedMs: 3_000, spreadMs: 500, samples: 4 }),
    ev('wait.finished', 'image.wait', { key, durationMs: 3_100, lastMissMs: 2_900, apiDurationMs: 2_950, whole: true, looks: 3, expectedMs: 3_000, spreadMs: 500 }),
    ev('wait.finished', 'snapshot.wait', { key: { ...key, wait: 'snapshot' }, durationMs: 4, apiDurationMs: 0, whole: true, looks: 0 }),
  ];
  const plain = new Capture();
  const p = createRenderer('plain', plain);
  p.track('b-1', 'scaleway');
  for (const e of events) p.onEvent(e);
  assert.match(plain.text, /Waiting for image i-1 to be available \(usually ~3\.0s \(2\.5s–3\.5s\), from 4 past waits\)/);
  assert.match(plain.text, /Waited 3\.1s \(expected ~3\.0s \(2\.5s–3\.5s\)\), the change took 3\.0s by the API's clock, 3 checks of its state/);
  // A snapshot the create answered `available`: no look.
  assert.match(plain.text, /Waited 4ms, the change took 0ms by the API's clock, done in the action's answer \(no check of its state\)/);
  const json = new Capture();
  const j = createRenderer('json', json);
  j.track('b-1', 'scaleway');
  for (const e of events) j.onEvent(e);
  const first = JSON.parse(json.text.split('\n')[0]!) as { type: string; data: Record<string, unknown> };
  assert.equal(first.type, 'wait.started');
  assert.deepEqual([first.data.expectedMs, first.data.spreadMs, first.data.samples], [3_000, 500, 4]);
  assert.deepEqual(first.data.key, key);
  const finished = JSON.parse(json.text.split('\n')[1]!) as { type: string; data: Record<string, unknown> };
  assert.deepEqual([finished.type, finished.data.apiDurationMs, finished.data.looks], ['wait.finished', 2_950, 3]);
});

test('measured times read rounded (6.1s, 2m05s); a configured timeout reads as the user wrote it (10m)', () => {
  const shown = [450, 6_123, 59_960, 125_000, 3_599_600, 3_725_000].map(formatElapsed);
  assert.deepEqual(shown, ['450ms', '6.1s', '1m00s', '2m05s', '1h00m', '1h02m']);
  const wait = ev('user_data.wait.started', 'server.wait_running', { mode: 'cloud-init', timeoutMs: 600_000 });
  assert.equal(describeEvent(wait), 'Waiting for cloud-init to finish (at most 10m)');
});

test("a retry of the API client's own: plain and terminal say the call, what it got and when it tries again; --json says nothing", () => {
  const line = describeClientRetry({
    method: 'DELETE',
    path: '/instance/v1/zones/fr-par-1/servers/s-1',
    attempt: 2,
    status: null,
    error: 'Could not reach Scaleway at 127.0.0.1:4242 for DELETE /instance/v1/zones/fr-par-1/servers/s-1: connection refused. Check the network and api_url; kiln retries calls that are safe to repeat.',
    retryInMs: 1_500,
  });
  assert.equal(line, 'DELETE /instance/v1/zones/fr-par-1/servers/s-1: attempt 2 got no answer (connection refused); the client tries again in 1.5s');
  assert.match(describeClientRetry({ method: 'GET', path: '/p', attempt: 1, status: 503, retryInMs: 400 }), /^GET \/p: attempt 1 answered 503; the client tries again in 400ms$/);
  for (const mode of ['plain', 'tty', 'json'] as const) {
    const out = new Capture();
    const r = createRenderer(mode, out as unknown as NodeJS.WritableStream);
    r.track('b-1', 'scaleway', ['cleanup']);
    r.note('b-1', line);
    r.close();
    if (mode === 'json') assert.equal(out.text, '');
    else assert.ok(out.text.includes(`scaleway: ${line}\n`), `${mode}: ${out.text}`);
  }
});
