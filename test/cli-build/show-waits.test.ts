// `kiln show`: each phase's duration against the usual one (a wait's prediction, other phases'
// durations in earlier builds of the same template), slow ones marked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { human } from '../../src/cli/run/show.js';
import { timeline } from '../../src/view/index.js';
import type { BuildEvent, BuildRecord, EventType } from '../../src/store/index.js';
import type { PhaseName } from '../../machines/phases.js';

let seq = 0;
const ev = (type: EventType, phase: PhaseName | null, atMs: number, data: Record<string, unknown> = {}): BuildEvent => ({
  buildId: 'b-1',
  seq: ++seq,
  at: new Date(Date.UTC(2026, 10, 30, 10, 0, 0) + atMs).toISOString(),
  type,
  phase,
  attempt: phase ? 1 : 0,
  data,
});
const key = (wait: string) => ({ wait, zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' });

const events: BuildEvent[] = [
  ev('build.started', null, 0, { templatePath: 't.json', builderName: 'scaleway', onError: 'cleanup' }),
  ev('phase.started', 'server.wait_running', 0),
  ev('wait.started', 'server.wait_running', 1, { key: key('server.boot'), what: 'server s-1', elapsedMs: 5, expectedMs: 8_000, spreadMs: 2_000, samples: 5 }),
  ev('phase.succeeded', 'server.wait_running', 8_100),
  ev('phase.started', 'server.wait_stopped', 8_200),
  ev('wait.started', 'server.wait_stopped', 8_201, { key: key('server.stop'), what: 'server s-1 to stop', elapsedMs: 5, expectedMs: 4_000, spreadMs: 1_000, samples: 5 }),
  ev('phase.succeeded', 'server.wait_stopped', 8_200 + 9_000),
  ev('phase.started', 'image.wait', 18_000),
  ev('wait.started', 'image.wait', 18_001, { key: key('image'), what: 'image i-1', elapsedMs: 2 }),
  ev('phase.succeeded', 'image.wait', 21_000),
];

test('the timeline carries each wait\'s usual duration; a wait without history has none', () => {
  const t = timeline(events).filter((x) => x.kind === 'phase');
  assert.deepEqual(
    t.map((x) => [x.name, x.durationMs, x.typicalMs, x.typicalSpreadMs]),
    [
      ['server.wait_running', 8_100, 8_000, 2_000],
      ['server.wait_stopped', 9_000, 4_000, 1_000],
      ['image.wait', 3_000, undefined, undefined],
    ],
  );
});

test('kiln show lists the usual duration next to the one taken, and marks a wait slower than usual', () => {
  const build = {
    id: 'b-1', templatePath: 't.json', templateHash: 'abcdef0123456789', builderName: 'scaleway', status: 'succeeded', phase: null, attempt: 0,
    provisionerIndex: 0, spec: {}, onError: 'cleanup', resources: {}, artifact: null, error: null, lease: null, host: null,
    createdAt: events[0]!.at, updatedAt: events.at(-1)!.at, lastSeq: seq,
  } satisfies BuildRecord;
  const text = human(build, events);
  assert.match(text, /PHASE\s+TOOK\s+USUALLY/);
  assert.match(text, /server\.wait_running\s+8\.1s\s+~8\.0s\s+1\s+succeeded\n/);
  assert.match(text, /server\.wait_stopped\s+9\.0s\s+~4\.0s\s+1\s+succeeded \(slower than usual\)/);
  assert.match(text, /image\.wait\s+3\.0s\s+1\s+succeeded/);
});

test('other phases are set against their durations in earlier builds of the same template (from 3 of them)', () => {
  const withProvision: BuildEvent[] = [
    ...events,
    ev('phase.started', 'provision', 21_100, { provisionerIndex: 0 }),
    ev('phase.succeeded', 'provision', 21_100 + 2_500, { provisionerIndex: 0, durationMs: 2_500 }),
    ev('phase.started', 'provision', 23_700, { provisionerIndex: 1 }),
    ev('phase.succeeded', 'provision', 23_700 + 300, { provisionerIndex: 1, durationMs: 300 }),
  ];
  const past = [
    ...[400, 500, 450].map((durationMs) => ({ phase: 'provision', provisionerIndex: 0, durationMs })),
    ...[300, 320].map((durationMs) => ({ phase: 'provision', provisionerIndex: 1, durationMs })),
    ...[9_000, 9_000, 9_000].map((durationMs) => ({ phase: 'server.wait_running', durationMs })),
    ...[2_000, 3_000, 4_000].map((durationMs) => ({ phase: 'image.wait', durationMs })),
  ];
  const t = timeline(withProvision, past).filter((x) => x.kind === 'phase');
  const usual = (name: string, index?: number) => t.find((x) => x.name === name && x.provisionerIndex === index)?.typicalMs;
  assert.equal(usual('provision', 0), 450);
  assert.equal(usual('provision', 1), undefined, 'two earlier builds are not enough to say what is usual');
  assert.equal(usual('server.wait_running'), 8_000, "a wait's own prediction comes first");
  assert.equal(usual('image.wait'), 3_000, 'a wait that ran without a prediction: the earlier builds');
  const build = {
    id: 'b-1', templatePath: 't.json', templateHash: 'abcdef0123456789', builderName: 'scaleway', status: 'succeeded', phase: null, attempt: 0,
    provisionerIndex: 0, spec: {}, onError: 'cleanup', resources: {}, artifact: null, error: null, lease: null, host: null,
    createdAt: events[0]!.at, updatedAt: withProvision.at(-1)!.at, lastSeq: seq,
  } satisfies BuildRecord;
  assert.match(human(build, withProvision, past), /provision #0\s+2\.5s\s+~450ms\s+1\s+succeeded \(slower than usual\)/);
});
