// ServerLooks against the simulator: the looks of builds running side by side in one process,
// gathered into `GET /servers?servers=…` calls; each look still sees its own server's state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import { NotFoundError, ScalewayClient, ServerLooks, type RequestReport, type Server } from '../../src/scaleway/index.js';

const zone = 'fr-par-1';
const secretKey = randomUUID();
const projectId = randomUUID();

describe('ServerLooks: server looks of parallel builds gathered into few calls', () => {
  let sim: Simulator;
  let client: ScalewayClient;
  const reports: RequestReport[] = [];
  const servers: Server[] = [];

  before(async () => {
    sim = await startTestSimulator({ token: secretKey });
    client = new ScalewayClient({ apiUrl: sim.apiUrl, zone, secretKey, projectId, onRequest: (r) => reports.push(r) });
    const image = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
    for (let i = 0; i < 3; i++) servers.push(await client.createServer({ name: `looks-${i}`, commercial_type: 'DEV1-S', image: image.id, tags: ['kiln-test'] }));
    // Different states, so that a mixed-up answer shows.
    await client.serverAction(servers[0]!.id, 'poweron');
    for (let i = 0; i < 400 && (await client.getServer(servers[0]!.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 25));
  });
  after(() => sim.close());

  const callsSince = (from: number) => reports.slice(from).map((r) => `${r.method} ${r.path.replace(/\?.*$/, '')}`);

  test('listServers({ ids }) lists those servers only (Scaleway\'s `servers` filter)', async () => {
    const listed = await client.listServers({ ids: [servers[0]!.id, servers[2]!.id] });
    assert.deepEqual(listed.map((s) => s.id).sort(), [servers[0]!.id, servers[2]!.id].sort());
  });

  test('looks asked for together are answered by one list call, each with its own server', async () => {
    const looks = new ServerLooks(50);
    const from = reports.length;
    const seen = await Promise.all(servers.map((s) => looks.look(client, s.id)));
    assert.deepEqual(
      seen.map((s) => s.id),
      servers.map((s) => s.id),
    );
    assert.deepEqual(
      seen.map((s) => s.state),
      await Promise.all(servers.map(async (s) => (await client.getServer(s.id)).state)),
    );
    assert.notEqual(seen[0]!.state, seen[1]!.state, 'the powered-on server is not reported as the stopped one');
    assert.deepEqual(callsSince(from).slice(0, 1), [`GET /instance/v1/zones/${zone}/servers`]);
    assert.match(reports[from]!.path, new RegExp(`servers=${servers.map((s) => s.id).join('%2C')}`));
  });

  test('a look with nothing else pending keeps its own GET, and looks close after it wait for the next call', async () => {
    const looks = new ServerLooks(200);
    const from = reports.length;
    const first = await looks.look(client, servers[1]!.id);
    assert.equal(first.id, servers[1]!.id);
    const startedAt = Date.now();
    const [a, b] = await Promise.all([looks.look(client, servers[1]!.id), looks.look(client, servers[2]!.id)]);
    assert.ok(Date.now() - startedAt >= 150, 'the second call came no sooner than the gather time after the first');
    assert.deepEqual([a.id, b.id], [servers[1]!.id, servers[2]!.id]);
    assert.deepEqual(callsSince(from), [`GET /instance/v1/zones/${zone}/servers/${servers[1]!.id}`, `GET /instance/v1/zones/${zone}/servers`]);
  });

  test('a server missing from the list is asked for alone: its look fails as a GET would', async () => {
    const looks = new ServerLooks(20);
    const missing = randomUUID();
    const [found, lost] = await Promise.allSettled([looks.look(client, servers[2]!.id), looks.look(client, missing)]);
    assert.equal(found.status === 'fulfilled' && found.value.id, servers[2]!.id);
    assert.ok(lost.status === 'rejected' && lost.reason instanceof NotFoundError, `expected NotFoundError, got ${lost.status === 'rejected' ? String(lost.reason) : 'a server'}`);
  });

  test('a look given up is rejected with its reason and does not cancel the others', async () => {
    const looks = new ServerLooks(100);
    await looks.look(client, servers[0]!.id); // the next call now waits ~100 ms
    const giveUp = new AbortController();
    const abandoned = looks.look(client, servers[1]!.id, { signal: giveUp.signal });
    const kept = looks.look(client, servers[2]!.id);
    giveUp.abort(new Error('build interrupted'));
    await assert.rejects(abandoned, /build interrupted/);
    assert.equal((await kept).id, servers[2]!.id);
  });
});
