// Fault injection: each fault kind, as a client meets it, and reproducibility by seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestSimulator } from '../helpers/sim.js';
import { client, createServer, PROJECT, until } from './client.js';

test('429 carries Retry-After and a too_many_requests body', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { 'GET /servers': { '429': 1, retry_after: 3 } } });
  t.after(() => sim.close());
  const response = await client(sim)('GET', '/servers');
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), '3');
  assert.equal(response.json.type, 'too_many_requests');
});

test('429_no_retry_after has neither Retry-After nor a body', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: JSON.stringify({ 'GET /servers': { '429_no_retry_after': 1 } }) });
  t.after(() => sim.close());
  const response = await client(sim)('GET', '/servers');
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), null);
  assert.equal(response.text, '');
});

test('5xx answers a server error without JSON; "*" spares the marketplace', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { '*': { '5xx': 1 } } });
  t.after(() => sim.close());
  const call = client(sim);
  const response = await call('GET', '/servers');
  assert.ok([500, 502, 503, 504].includes(response.status), String(response.status));
  assert.notEqual(response.headers.get('content-type'), 'application/json');
  assert.equal((await call('GET', '/marketplace/v1/images')).status, 200);
});

test('reset destroys the connection', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { 'GET /servers/{id}': { reset: 1 } } });
  t.after(() => sim.close());
  await assert.rejects(client(sim)('GET', '/servers/00000000-0000-4000-8000-000000000000'), TypeError);
  assert.equal(sim.requestCounts()['GET /servers/{id}'], 1);
});

test('slow answers late but correctly', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { 'GET /servers': { slow: 1, slow_ms: 50 } } });
  t.after(() => sim.close());
  const response = await client(sim)('GET', '/servers');
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, { servers: [] });
});

test('ghost_create creates the server, then answers 500', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { 'POST /servers': { ghost_create: 1 } } });
  t.after(() => sim.close());
  const call = client(sim);
  await assert.rejects(createServer(call, { name: 'ghost', tags: ['kiln-build=42'] }), /create failed: 500/);
  const listed = await call('GET', '/servers?tags=kiln-build=42');
  assert.deepEqual(listed.json.servers.map((s: { name: string }) => s.name), ['ghost']);
});

test('ghost performs any change, then answers 500; reads are never ghosted', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ faults: { '* /servers/{id}': { ghost: 1 } } });
  t.after(() => sim.close());
  const call = client(sim);
  const server = await createServer(call, { name: 'renamed-later' });
  assert.equal((await call('GET', `/servers/${server.id}`)).status, 200, 'a GET is answered as usual');
  assert.equal((await call('PATCH', `/servers/${server.id}`, { name: 'renamed' })).status, 500);
  assert.equal((await call('GET', `/servers/${server.id}`)).json.server.name, 'renamed', 'the change happened');
  assert.equal((await call('DELETE', `/servers/${server.id}`)).status, 500);
  assert.equal((await call('GET', `/servers/${server.id}`)).status, 404, 'the delete happened');
});

test('stuck leaves a transition unfinished while others complete', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({
    latency: { boot: 10, snapshot: 80 },
    faults: { 'POST /servers/{id}/action': { stuck: 1 } },
  });
  t.after(() => sim.close());
  const call = client(sim);
  const stuck = await createServer(call, { name: 'stuck' });
  await call('POST', `/servers/${stuck.id}/action`, { action: 'poweron' });
  // A snapshot scheduled after, and slower than, the boot completes: the boot had its chance.
  const other = await createServer(call, { name: 'other' });
  const { json } = await call('POST', '/snapshots', { name: 'witness', volume_id: other.volumes['0'].id, project: PROJECT });
  await until(() => call('GET', `/snapshots/${json.snapshot.id}`), (r) => r.json.snapshot.state === 'available');
  assert.equal((await call('GET', `/servers/${stuck.id}`)).json.server.state, 'starting');
});

test('the same seed gives the same faults', { timeout: 60_000 }, async (t) => {
  const statuses = async (seed: number): Promise<number[]> => {
    const sim = await startTestSimulator({ seed, faults: { 'GET /servers': { '5xx': 0.5 } } });
    t.after(() => sim.close());
    const call = client(sim);
    const seen: number[] = [];
    for (let i = 0; i < 24; i++) seen.push((await call('GET', '/servers')).status);
    return seen;
  };
  const first = await statuses(1234);
  assert.deepEqual(await statuses(1234), first);
  assert.ok(first.some((s) => s === 200) && first.some((s) => s >= 500), `a 50% fault both fails and passes over 24 calls: ${first.join(',')}`);
});

test('malformed fault specs are refused with a clear message', { timeout: 60_000 }, async () => {
  await assert.rejects(startTestSimulator({ faults: '{not json' }), /faults: not valid JSON/);
  await assert.rejects(startTestSimulator({ faults: { 'POST /servers': { '5xx': 0.8, '429': 0.5 } } }), /add up to 1.3/);
});
