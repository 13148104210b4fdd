// Real traffic replayed against the simulator: the Scaleway Packer plugin's cassettes (its
// end-to-end tests recorded against the real API), made into fixtures by scripts/cassette-fixture.ts
// (test/fixtures/cassettes/README.md says which and from where). Every recorded request is sent
// again, ids mapped to the simulator's; each answer must have the recorded status, carry the
// recorded keys, show the recorded state (and state_detail), and move its modification date
// exactly where the real one moved. A recorded poll is repeated until its state comes (the
// simulator's timing differs: transitions are held, and let go only while a poll waits for them).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { Fixture, FixtureInteraction } from '../../scripts/cassette-fixture.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import type { Transition } from '../../src/sim/index.js';

// The fixtures live in test/fixtures/, whether this runs from test/ (tsx) or dist/test/.
const FIXTURES = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../fixtures/cassettes/' : '../../../test/fixtures/cassettes/', import.meta.url));
/** Transitions that take time on real Scaleway; instance snapshots and images take none (as the realistic profile says). */
const HELD: Transition[] = ['boot', 'stop', 'volume', 'blockSnapshot'];
/** Details real Scaleway shows that the simulator does not (README.md, "Differences"): a boot's second step. */
const UNSIMULATED_DETAILS = new Set(['provisioning node']);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are indexed freely
type Json = any;

function dig(value: Json, path: string): Json {
  return path.split('.').reduce((at, key) => (at === undefined || at === null ? undefined : at[key]), value);
}

/** The resource an answer is about, by the fixture's kind. */
function resourceOf(kind: string, json: Json): Json {
  if (['server', 'snapshot', 'image', 'volume', 'ip', 'task'].includes(kind)) return json?.[kind];
  return json;
}

async function send(sim: Simulator, method: string, path: string, body: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${sim.apiUrl}${path}`, {
    method,
    headers: { 'X-Auth-Token': 'replay-token', ...(body === null ? {} : { 'Content-Type': 'application/json' }) },
    body: body === null ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

async function replay(fixture: Fixture): Promise<void> {
  // Fast latencies, but instance snapshots and images answer final, as on Scaleway.
  const sim = await startTestSimulator({ latency: { snapshot: 0, image: 0 } });
  try {
    sim.hold(...HELD);
    const values = new Map<string, string>(fixture.inputs.map((input) => [input, randomUUID()]));
    const fill = (text: string) =>
      text.replace(/\{id\d+\}/g, (placeholder) => {
        const value = values.get(placeholder);
        if (value === undefined) throw new Error(`${placeholder} is used before an answer named it`);
        return value;
      });
    const stamps = new Map<string, unknown>();
    for (const entry of fixture.interactions) {
      const where = `${fixture.source.path} #${entry.ids.join(',')} ${entry.method} ${entry.path}`;
      const path = fill(entry.path);
      const body = entry.body === null ? null : JSON.parse(fill(JSON.stringify(entry.body)));
      let answer = await send(sim, entry.method, path, body);
      const stateOf = (a: { json: Json }) => {
        const resource = resourceOf(entry.answer.kind, a.json);
        return resource?.state ?? resource?.status;
      };
      if (entry.method === 'GET' && entry.answer.kind !== 'error' && entry.answer.state !== undefined && stateOf(answer) !== entry.answer.state)
        answer = await pollUntil(sim, () => send(sim, entry.method, path, body), (a) => stateOf(a) === entry.answer.state, where);
      check(entry, answer, where, stamps, values);
    }
  } finally {
    await sim.close();
  }
}

/** A recorded poll, repeated while the held transitions may complete (bounded). */
async function pollUntil(
  sim: Simulator,
  look: () => Promise<{ status: number; json: Json }>,
  reached: (a: { json: Json }) => boolean,
  where: string,
): Promise<{ status: number; json: Json }> {
  sim.release(...HELD);
  try {
    for (let i = 0; i < 1000; i++) {
      const answer = await look();
      if (reached(answer)) return answer;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`${where}: the recorded state never came`);
  } finally {
    sim.hold(...HELD);
  }
}

function check(entry: FixtureInteraction, answer: { status: number; json: Json }, where: string, stamps: Map<string, unknown>, values: Map<string, string>): void {
  assert.equal(answer.status, entry.status, `${where}: status (answer ${JSON.stringify(answer.json)})`);
  const resource = resourceOf(entry.answer.kind, answer.json);
  if (entry.answer.kind === 'empty') {
    assert.equal(answer.json, undefined, `${where}: no body`);
    return;
  }
  assert.ok(resource && typeof resource === 'object', `${where}: a ${entry.answer.kind} in ${JSON.stringify(answer.json)}`);
  const missing = entry.answer.keys.filter((key) => !(key in resource));
  assert.deepEqual(missing, [], `${where}: keys the real answer has`);
  if (entry.answer.kind === 'error') assert.equal(resource.type, entry.answer.state, `${where}: error type`);
  else if (entry.answer.state !== undefined) assert.equal(resource.state ?? resource.status, entry.answer.state, `${where}: state`);
  if (entry.answer.state_detail !== undefined && !UNSIMULATED_DETAILS.has(entry.answer.state_detail))
    assert.equal(resource.state_detail, entry.answer.state_detail, `${where}: state_detail`);
  for (const [placeholder, at] of Object.entries(entry.binds ?? {})) {
    const value = dig(answer.json, at);
    assert.equal(typeof value, 'string', `${where}: ${at} names ${placeholder}`);
    values.set(placeholder, value);
  }
  if (entry.answer.ref) {
    const stamp = resource.modification_date ?? resource.updated_at;
    if (entry.answer.modified !== undefined) {
      assert.equal(typeof stamp, 'string', `${where}: the answer carries its modification date`);
      // Compared with the stamp an earlier answer about the same resource carried: without one,
      // "moved" could not fail.
      assert.ok(stamps.has(entry.answer.ref), `${where}: an earlier answer about ${entry.answer.ref} to compare its modification date with`);
      assert.equal(stamp !== stamps.get(entry.answer.ref), entry.answer.modified, `${where}: the modification date ${entry.answer.modified ? 'moves' : 'stays'} (was ${String(stamps.get(entry.answer.ref))}, now ${String(stamp)})`);
    }
    if (typeof stamp === 'string') stamps.set(entry.answer.ref, stamp);
  }
}

for (const file of readdirSync(FIXTURES).filter((name) => name.endsWith('.json')).sort()) {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Fixture;
  test(`the simulator answers ${file.replace('.json', '')}'s recorded requests as Scaleway did`, { timeout: 120_000 }, () => replay(fixture));
}
