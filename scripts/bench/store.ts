// Item 3: durable appends to the SQLite event store, one event per transaction (the intents), and
// provisioner output in batches as the engine writes it.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore } from '../../src/store/index.js';
import { millis } from '../lib/stats.js';
import { verdict, type SectionResult, type Settings } from './section.js';

export async function storeAppends(s: Settings): Promise<SectionResult> {
  const dir = mkdtempSync(join(s.work, 'store-'));
  const store = EventStore.open(join(dir, 'kiln.db'));
  const count = s.quick ? 300 : 2000;
  try {
    const sync = String(store.db.pragma('synchronous', { simple: true }));
    store.createBuild(
      { id: 'bench-appends', templatePath: '/bench.json', templateHash: 'x', builderName: 'scaleway', spec: {}, onError: 'cleanup' },
      { type: 'build.started' },
    );
    // An intent: the events that must reach the disk before they return (mustReachDisk); the
    // other events of a build commit without an fsync of their own.
    const intent = (i: number) => ({ type: 'server.poweron.requested', phase: 'server.start', attempt: i + 1, data: { serverId: 'bench' } }) as const;
    const event = (i: number) =>
      ({ type: 'provision.output', phase: 'provision', attempt: 1, data: { index: 0, lines: [{ stream: 'stdout', line: `line ${i}` }] } }) as const;
    let started = performance.now();
    for (let i = 0; i < count; i++) store.append('bench-appends', intent(i));
    const singleMs = (performance.now() - started) / count;
    started = performance.now();
    for (let i = 0; i < count; i += 50) store.appendMany('bench-appends', Array.from({ length: 50 }, (_, j) => event(i + j)));
    const batchedMs = (performance.now() - started) / count;
    s.log(`store: ${millis(singleMs)} per single append, ${millis(batchedMs)} per event in batches of 50 (synchronous=${sync})`);
    const perSecond = 1000 / singleMs;
    return {
      rows: [
        {
          item: '3',
          measure: `durable appends (intents), one event per transaction (synchronous=${sync === '2' ? 'FULL' : sync}, ${count} appends)`,
          result: `${Math.round(perSecond)} events/s = ${millis(singleMs)} per transition`,
          target: '≥ 300 events/s',
          verdict: verdict(perSecond >= 300, `by ${Math.round(300 - perSecond)} events/s`),
        },
        {
          item: '3',
          measure: 'provisioner output, 50 lines per transaction (as the engine batches it; synchronous=NORMAL, see mustReachDisk)',
          result: `${Math.round(1000 / batchedMs)} events/s`,
          target: '—',
          verdict: '—',
        },
      ],
      details: [],
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
