// Turns a go-vcr cassette (the Scaleway Packer plugin records its end-to-end tests against the real
// API as YAML) into the compact JSON fixture test/sim/cassette-replay.test.ts replays against the
// simulator: per request its method, path and body with ids replaced by placeholders, the status,
// and of the answer only what the simulator must match (the resource's kind, state, state_detail,
// top-level keys, whether its modification date moved). Consecutive identical looks are counted,
// not repeated. The fixture is derived data: no secret, no code of the plugin.
//
//   node --import tsx scripts/cassette-fixture.ts <cassette.yaml> <fixture.json> [source note JSON]
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Cassette {
  interactions: { id: number; request: { method: string; url: string; body?: string }; response: { code: number; body?: string; headers?: Record<string, string[]> } }[];
}

/** What the simulator's answer to one request must show. */
export interface FixtureAnswer {
  /** `server`, `snapshot`, `image`, `volume`, `task` (Instance wrappers), `block.volume`, `block.snapshot`, `list`, `error`, `empty`. */
  kind: string;
  state?: string;
  state_detail?: string;
  keys: string[];
  /** The resource's placeholder, when it has an id. */
  ref?: string;
  /** Whether its modification_date (Block: updated_at) differs from the previous answer about it (absent: first answer). */
  modified?: boolean;
}

export interface FixtureInteraction {
  /** The cassette's interaction ids this entry stands for (several: consecutive identical looks). */
  ids: number[];
  method: string;
  /** Path and query, ids as `{idN}`. */
  path: string;
  body: unknown;
  status: number;
  answer: FixtureAnswer;
  /** Placeholders first seen in this answer, with where: a dotted path into the answer's JSON. */
  binds?: Record<string, string>;
  /** When the cassette's answer was sent (its Date header), for reading the fixture. */
  at?: string;
}

export interface Fixture {
  source: Record<string, string>;
  /** Placeholders a request uses before any answer shows them (the project): the replay picks values. */
  inputs: string[];
  interactions: FixtureInteraction[];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const WRAPPERS = ['server', 'snapshot', 'image', 'volume', 'ip', 'task'] as const;

function answerOf(path: string, code: number, json: unknown): { answer: FixtureAnswer; resource?: Record<string, unknown> } {
  if (json === undefined) return { answer: { kind: 'empty', keys: [] } };
  const body = json as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
  if (code >= 400) return { answer: { kind: 'error', keys: keys(body), ...(typeof body.type === 'string' ? { state: body.type } : {}) } };
  const wrapper = WRAPPERS.find((w) => body[w] !== undefined && typeof body[w] === 'object');
  if (wrapper) {
    const resource = body[wrapper] as Record<string, unknown>;
    const state = (resource.state ?? resource.status) as string | undefined;
    return {
      answer: { kind: wrapper, keys: keys(resource), ...(state !== undefined ? { state } : {}), ...(typeof resource.state_detail === 'string' ? { state_detail: resource.state_detail } : {}) },
      resource,
    };
  }
  if (typeof body.id === 'string' && path.startsWith('/block/')) {
    const kind = /\/(volumes|snapshots)\//.exec(path) ?? /\/(volumes|snapshots)$/.exec(path.split('?')[0]!);
    return { answer: { kind: `block.${kind ? kind[1]!.slice(0, -1) : 'resource'}`, keys: keys(body), state: body.status as string }, resource: body };
  }
  return { answer: { kind: 'list', keys: keys(body) } };
}

/** Dotted paths of every string in a JSON value (`server.volumes.0.id`). */
function stringsIn(value: unknown, at: string, out: Map<string, string>): void {
  if (typeof value === 'string') {
    for (const id of value.match(UUID) ?? []) if (!out.has(id) && value === id) out.set(id, at);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) stringsIn(inner, at ? `${at}.${key}` : key, out);
  }
}

export function fixtureOf(cassette: Cassette, source: Record<string, string>): Fixture {
  const names = new Map<string, string>();
  const inputs: string[] = [];
  const name = (id: string) => {
    let n = names.get(id);
    if (!n) names.set(id, (n = `{id${names.size + 1}}`));
    return n;
  };
  const replaceIds = (text: string) => text.replace(UUID, (id) => name(id));
  const lastModified = new Map<string, unknown>();
  const entries: FixtureInteraction[] = [];
  for (const { id, request, response } of cassette.interactions) {
    const path = new URL(request.url).pathname + new URL(request.url).search;
    // Ids a request uses before any answer showed them are the replay's to choose.
    for (const used of `${path} ${request.body ?? ''}`.match(UUID) ?? [])
      if (!names.has(used)) inputs.push(name(used));
    let json: unknown;
    try {
      json = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      json = undefined;
    }
    const { answer, resource } = answerOf(path, response.code, json);
    const binds: Record<string, string> = {};
    if (json !== undefined && response.code < 400) {
      const seen = new Map<string, string>();
      stringsIn(json, '', seen);
      for (const [uuid, at] of seen) if (!names.has(uuid)) binds[name(uuid)] = at;
    }
    if (resource && typeof resource.id === 'string') {
      answer.ref = name(resource.id);
      const stamp = resource.modification_date ?? resource.updated_at;
      if (lastModified.has(resource.id)) answer.modified = lastModified.get(resource.id) !== stamp;
      lastModified.set(resource.id, stamp);
    }
    const entry: FixtureInteraction = {
      ids: [id],
      method: request.method,
      path: replaceIds(path),
      body: request.body ? JSON.parse(replaceIds(request.body)) : null,
      status: response.code,
      answer,
      ...(Object.keys(binds).length > 0 ? { binds } : {}),
      ...(response.headers?.Date?.[0] ? { at: response.headers.Date[0] } : {}),
    };
    const previous = entries.at(-1);
    const same = (a: FixtureInteraction, b: FixtureInteraction) =>
      JSON.stringify({ ...a, ids: [], at: '' }) === JSON.stringify({ ...b, ids: [], at: '' });
    if (previous && same(previous, entry)) previous.ids.push(id);
    else entries.push(entry);
  }
  // Only placeholders a later request uses need binding.
  const used = new Set(entries.flatMap((e) => `${e.path} ${JSON.stringify(e.body)}`.match(/\{id\d+\}/g) ?? []));
  for (const entry of entries) {
    for (const placeholder of Object.keys(entry.binds ?? {})) if (!used.has(placeholder)) delete entry.binds![placeholder];
    if (entry.binds && Object.keys(entry.binds).length === 0) delete entry.binds;
  }
  return { source, inputs, interactions: entries };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [from, to, note] = process.argv.slice(2);
  if (!from || !to) {
    process.stderr.write('usage: node --import tsx scripts/cassette-fixture.ts <cassette.yaml> <fixture.json> [\'{"repo":…}\']\n');
    process.exit(2);
  }
  const fixture = fixtureOf(parse(readFileSync(from, 'utf8')) as Cassette, note ? (JSON.parse(note) as Record<string, string>) : {});
  writeFileSync(to, `${JSON.stringify(fixture, null, 1)}\n`);
  process.stdout.write(`${to}: ${fixture.interactions.length} entries from ${fixture.interactions.reduce((n, e) => n + e.ids.length, 0)} interactions\n`);
}
