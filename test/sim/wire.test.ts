// The simulator's wire format, checked at the HTTP level against reference/scaleway-api.md:
// headers, status codes, bodies, pagination, filters, zones and path quirks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import { client, createServer, PROJECT, ubuntuImage, until, type Call } from './client.js';

describe('wire format', () => {
  let sim: Simulator;
  let call: Call;
  before(async () => {
    sim = await startTestSimulator();
    call = client(sim);
  }, { timeout: 60_000 });
  after(() => sim.close(), { timeout: 60_000 });

  test('JSON answers carry Content-Type exactly application/json', { timeout: 60_000 }, async () => {
    for (const path of ['/servers', '/images?public=true', '/products/servers', '/bootscripts', '/marketplace/v1/images', '/servers/00000000-0000-4000-8000-000000000000']) {
      const response = await call('GET', path);
      assert.equal(response.headers.get('content-type'), 'application/json', path);
    }
  });

  test('a create answers 201 with a Location that serves the created resource', { timeout: 60_000 }, async () => {
    const image = await ubuntuImage(call);
    const response = await call('POST', '/servers', { name: 'located', commercial_type: 'DEV1-S', image, project: PROJECT });
    assert.equal(response.status, 201);
    const location = response.headers.get('location');
    assert.ok(location);
    const fetched = await fetch(location, { headers: { 'X-Auth-Token': 't' } });
    assert.equal(fetched.status, 200);
    assert.equal(((await fetched.json()) as { server: { id: string } }).server.id, response.json.server.id);
  });

  test('an action answers 202 with a task, and the state has already flipped', { timeout: 60_000 }, async (t) => {
    // The boot is held: "starting" is observed for sure, not raced against the boot latency.
    sim.hold('boot');
    t.after(() => sim.release('boot'));
    const server = await createServer(call);
    const response = await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
    assert.equal(response.status, 202);
    // As recorded on Scaleway (test/fixtures/cassettes): a poweron is a batch task.
    assert.equal(response.json.task.description, 'server_batch_poweron');
    assert.ok(!Number.isNaN(Date.parse(response.json.task.started_at)), 'the task says when it started');
    assert.equal(response.json.task.status, 'pending');
    assert.equal(response.json.task.href_result, `/servers/${server.id}`);
    const now = await call('GET', `/servers/${server.id}`);
    assert.equal(now.json.server.state, 'starting');
    assert.ok(now.json.server.public_ip?.address, 'the public IP appears while starting');
  });

  test('a delete answers 204 with no body and no Content-Type', { timeout: 60_000 }, async () => {
    const server = await createServer(call);
    const response = await call('DELETE', `/servers/${server.id}`);
    assert.equal(response.status, 204);
    assert.equal(response.text, '');
    assert.equal(response.headers.get('content-type'), null);
  });

  test('every list carries X-Total-Count and pages with page/per_page', { timeout: 60_000 }, async () => {
    const names = ['page-a', 'page-b', 'page-c'];
    for (const name of names) await createServer(call, { name, tags: ['paging'] });
    const first = await call('GET', '/servers?tags=paging&per_page=2&page=1');
    const second = await call('GET', '/servers?tags=paging&per_page=2&page=2');
    assert.equal(first.headers.get('x-total-count'), '3');
    assert.equal(first.json.servers.length, 2);
    assert.equal(second.json.servers.length, 1);
    assert.deepEqual([...first.json.servers, ...second.json.servers].map((s: { name: string }) => s.name).sort(), names);
    assert.equal(first.json.total_count, undefined, 'the Instance API gives the total in the header only');
    for (const path of ['/volumes', '/snapshots', '/images', '/ips', '/bootscripts', '/products/servers'])
      assert.match((await call('GET', path)).headers.get('x-total-count') ?? '', /^\d+$/, path);
    const tooMany = await call('GET', '/servers?per_page=101');
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.details[0].argument_name, 'per_page');
  });

  test('servers filter by tags (each exact), name (substring) and project', { timeout: 60_000 }, async () => {
    await createServer(call, { name: 'alpha-web', tags: ['kiln', 'kiln-build=1'] });
    await createServer(call, { name: 'beta-web', tags: ['kiln', 'kiln-build=2'] });
    await createServer(call, { name: 'gamma-db', tags: ['kiln-build=1x'], project: '11111111-1111-4111-8111-111111111111' });
    const names = async (query: string): Promise<string[]> =>
      (await call('GET', `/servers?${query}`)).json.servers.map((s: { name: string }) => s.name).sort();
    assert.deepEqual(await names('tags=kiln,kiln-build=1'), ['alpha-web']);
    assert.deepEqual(await names('tags=kiln-build=1'), ['alpha-web'], 'tags match exactly, not by prefix');
    assert.deepEqual(await names('name=-web&tags=kiln'), ['alpha-web', 'beta-web']);
    assert.deepEqual(await names('project=11111111-1111-4111-8111-111111111111'), ['gamma-db']);
  });

  test('images filter by public, arch and name; snapshots by name', { timeout: 60_000 }, async () => {
    const arm = await call('GET', '/images?public=true&arch=arm64');
    assert.ok(arm.json.images.length >= 4);
    assert.ok(arm.json.images.every((i: { arch: string; public: boolean }) => i.arch === 'arm64' && i.public));
    const debian = await call('GET', '/images?public=true&name=Bookworm');
    assert.deepEqual(new Set(debian.json.images.map((i: { arch: string }) => i.arch)), new Set(['x86_64', 'arm64']));
    const mine = await call('GET', `/images?public=false&project=${PROJECT}`);
    assert.ok(mine.json.images.every((i: { public: boolean }) => !i.public));
    const server = await createServer(call, { name: 'snapsource' });
    await call('POST', '/snapshots', { name: 'findable-snap', volume_id: server.volumes['0'].id, project: PROJECT });
    const found = await call('GET', '/snapshots?name=findable');
    assert.deepEqual(found.json.snapshots.map((s: { name: string }) => s.name), ['findable-snap']);
  });

  test('legacy zones par1/ams1 are fr-par-1/nl-ams-1; unknown zones answer 400', { timeout: 60_000 }, async () => {
    const server = await createServer(call, { name: 'legacy' });
    const viaLegacy = await client(sim, 'par1')('GET', `/servers/${server.id}`);
    assert.equal(viaLegacy.status, 200);
    assert.equal(viaLegacy.json.server.zone, 'fr-par-1');
    const otherZone = await client(sim, 'nl-ams-1')('GET', `/servers/${server.id}`);
    assert.equal(otherZone.status, 404, 'resources live in their zone');
    const unknown = await client(sim, 'mars-1')('GET', '/servers');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.type, 'invalid_arguments');
    assert.equal(unknown.json.details[0].argument_name, 'zone');
  });

  test('a doubled slash (api_url with a trailing slash) is accepted', { timeout: 60_000 }, async () => {
    const response = await call('GET', '//instance/v1/zones/fr-par-1//servers');
    assert.equal(response.status, 200);
    assert.ok(Array.isArray(response.json.servers));
  });

  test('the catalog lists the seed and current commercial types with their arch', { timeout: 60_000 }, async () => {
    const response = await call('GET', '/products/servers?per_page=100');
    const types = response.json.servers as Record<string, { arch: string; ncpus: number; ram: number }>;
    for (const name of ['START1-S', 'START1-XS', 'START1-M', 'START1-L', 'C2S', 'C2M', 'C2L', 'X64-15GB', 'X64-120GB', 'DEV1-S', 'DEV1-M', 'GP1-XS', 'PLAY2-PICO'])
      assert.equal(types[name]?.arch, 'x86_64', name);
    for (const name of ['ARM64-2GB', 'ARM64-128GB']) assert.equal(types[name]?.arch, 'arm64', name);
    assert.equal(types.C1?.arch, 'arm');
  });

  test('the marketplace resolves every label in every zone to a public image with a root snapshot', { timeout: 60_000 }, async () => {
    const { json } = await call('GET', '/marketplace/v1/images');
    const zones = ['fr-par-1', 'fr-par-2', 'fr-par-3', 'nl-ams-1', 'nl-ams-2', 'nl-ams-3', 'pl-waw-1', 'pl-waw-2', 'pl-waw-3'];
    for (const label of ['ubuntu_jammy', 'ubuntu_focal', 'ubuntu_noble', 'debian_bookworm', 'debian_bullseye', 'debian_trixie']) {
      const image = json.images.find((i: { label: string }) => i.label === label);
      assert.ok(image, label);
      const version = image.versions.find((v: { id: string }) => v.id === image.current_public_version);
      for (const zone of zones)
        for (const [arch, type] of [['x86_64', 'DEV1-S'], ['arm64', 'ARM64-2GB']] as const) {
          const local = version.local_images.find((l: { zone: string; compatible_commercial_types: string[] }) => l.zone === zone && l.compatible_commercial_types.includes(type));
          assert.equal(local?.arch, arch, `${label} ${zone} ${type}`);
        }
    }
    const local = json.images[0].versions[0].local_images.find((l: { zone: string }) => l.zone === 'pl-waw-2');
    const zoneCall = client(sim, 'pl-waw-2');
    const image = await zoneCall('GET', `/images/${local.id}`);
    assert.equal(image.status, 200);
    assert.equal(image.json.image.public, true);
    const snapshot = await zoneCall('GET', `/snapshots/${image.json.image.root_volume.id}`);
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.json.snapshot.state, 'available');
    const v2 = await call('GET', '/marketplace/v2/local-images?image_label=debian_bookworm&zone=nl-ams-3&type=instance_local');
    assert.deepEqual(new Set(v2.json.local_images.map((l: { arch: string }) => l.arch)), new Set(['x86_64', 'arm64']));
  });

  test('user data is stored as text and listed by key', { timeout: 60_000 }, async () => {
    const server = await createServer(call);
    const put = await call('PATCH', `/servers/${server.id}/user_data/cloud-init`, '#cloud-config\nruncmd: [true]\n', { 'Content-Type': 'text/plain' });
    assert.equal(put.status, 204);
    const keys = await call('GET', `/servers/${server.id}/user_data`);
    assert.deepEqual(keys.json.user_data, ['cloud-init']);
    const value = await call('GET', `/servers/${server.id}/user_data/cloud-init`);
    assert.equal(value.headers.get('content-type'), 'text/plain');
    assert.equal(value.text, '#cloud-config\nruncmd: [true]\n');
  });

  test('requestCounts names routes by pattern', { timeout: 60_000 }, async () => {
    const server = await createServer(call);
    await call('GET', `/servers/${server.id}`);
    await until(() => call('GET', `/servers/${server.id}`), () => true);
    const counts = sim.requestCounts();
    assert.ok((counts['GET /servers/{id}'] ?? 0) >= 2);
    assert.ok((counts['POST /servers'] ?? 0) >= 1);
  });
});
