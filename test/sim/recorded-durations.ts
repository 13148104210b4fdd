// How long each state change took on real Scaleway, read from the Packer plugin's recorded traffic
// (test/fixtures/cassettes): a boot from `poweron` to the first look that saw `running`, a stop from
// `poweroff` to `stopped`, a block snapshot from its create to `available`; an instance snapshot or
// an image answered `available` by its create took none. The recordings have 1 s stamps and look
// every ~5 s, so each duration is known as an interval: at most the time to the first look that saw
// the new state, at least that minus the 5 s between looks (or the last look that saw the old state,
// if later). The simulator's `recorded` latency profile must be these intervals.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Fixture } from '../../scripts/cassette-fixture.js';

export const FIXTURES = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../fixtures/cassettes/' : '../../../test/fixtures/cassettes/', import.meta.url));

/** The plugin's waiters look every 5 s. */
const LOOK_EVERY_MS = 5_000;

export type RecordedKind = 'boot' | 'stop' | 'snapshot' | 'image' | 'blockSnapshot';
/** Per kind, one [least, most] interval in ms per recorded change, in the recordings' order. */
export type RecordedDurations = Record<RecordedKind, [number, number][]>;

interface Pending {
  kind: RecordedKind;
  since: number;
  lastOldAt: number;
  from: string;
  to: string;
}

export function recordedDurations(fixtures: readonly Fixture[] = readFixtures()): RecordedDurations {
  const out: RecordedDurations = { boot: [], stop: [], snapshot: [], image: [], blockSnapshot: [] };
  for (const fixture of fixtures) {
    const pending = new Map<string, Pending>();
    for (const entry of fixture.interactions) {
      const at = Date.parse(entry.at ?? '');
      const action = /\/servers\/(\{id\d+\})\/action$/.exec(entry.path);
      const body = entry.body as { action?: string } | null;
      if (entry.method === 'POST' && action && (body?.action === 'poweron' || body?.action === 'poweroff')) {
        const on = body.action === 'poweron';
        pending.set(action[1]!, { kind: on ? 'boot' : 'stop', since: at, lastOldAt: at, from: on ? 'starting' : 'stopping', to: on ? 'running' : 'stopped' });
        continue;
      }
      if (entry.method === 'POST' && /^\/block\/.*\/snapshots$/.test(entry.path) && entry.answer.ref) {
        pending.set(entry.answer.ref, { kind: 'blockSnapshot', since: at, lastOldAt: at, from: 'creating', to: 'available' });
        continue;
      }
      if (entry.method === 'POST' && /^\/instance\/.*\/(snapshots|images)$/.test(entry.path) && entry.answer.state === 'available') {
        out[entry.path.endsWith('/images') ? 'image' : 'snapshot'].push([0, 0]);
        continue;
      }
      const looked = entry.method === 'GET' ? /\/(?:servers|snapshots)\/(\{id\d+\})$/.exec(entry.path) : null;
      const wait = looked ? pending.get(looked[1]!) : undefined;
      if (!wait) continue;
      if (entry.answer.state === wait.from) wait.lastOldAt = at;
      else if (entry.answer.state === wait.to) {
        const most = at - wait.since;
        out[wait.kind].push([Math.max(wait.lastOldAt - wait.since, most - LOOK_EVERY_MS, 0), most]);
        pending.delete(looked![1]!);
      }
    }
  }
  return out;
}

export function readFixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as Fixture);
}
