// Every error shape of reference/scaleway-api.md, as the simulator answers it, and the
// server state/action table (what a client may do in each state).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import { ALLOWED_ACTIONS } from '../../src/sim/world.js';
import { client, createServer, PROJECT, ubuntuImage, until, type Call } from './client.js';

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('error shapes', () => {
  let sim: Simulator;
  let call: Call;
  before(async () => {
    sim = await startTestSimulator({ latency: { boot: 30, stop: 30, snapshot: 30, image: 30 } });
    call = client(sim);
  }, { timeout: 60_000 });
  after(() => sim.close(), { timeout: 60_000 });

  test('a missing token answers 401 denied_authentication', { timeout: 60_000 }, async () => {
    const response = await call('GET', '/servers', undefined, { 'X-Auth-Token': '' });
    assert.equal(response.status, 401);
    assert.deepEqual(response.json, { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason: 'not_found' });
  });

  test('malformed JSON answers 400 invalid_arguments naming the body', { timeout: 60_000 }, async () => {
    const response = await call('POST', '/servers', '{"name": "oops",', { 'Content-Type': 'application/json' });
    assert.equal(response.status, 400);
    assert.equal(response.json.type, 'invalid_arguments');
    assert.equal(response.json.message, 'invalid argument(s)');
    assert.equal(response.json.details[0].argument_name, 'body');
    assert.equal(response.json.details[0].reason, 'format');
  });

  test('missing and malformed fields are all listed in the details', { timeout: 60_000 }, async () => {
    const response = await call('POST', '/servers', { name: 'x', tags: 'not-a-list' });
    assert.equal(response.status, 400);
    const details = response.json.details as { argument_name: string; reason: string; help_message: string }[];
    const byName = Object.fromEntries(details.map((d) => [d.argument_name, d.reason]));
    assert.deepEqual(byName, { commercial_type: 'required', image: 'required', project: 'required', tags: 'format' });
    assert.ok(details.every((d) => d.help_message.length > 0));
  });

  test('an unknown commercial type answers 400; an unknown image 404 instance_image', { timeout: 60_000 }, async () => {
    const image = await ubuntuImage(call);
    const badType = await call('POST', '/servers', { name: 'x', commercial_type: 'DEV9-XXL', image, project: PROJECT });
    assert.equal(badType.status, 400);
    assert.equal(badType.json.details[0].argument_name, 'commercial_type');
    const badImage = await call('POST', '/servers', { name: 'x', commercial_type: 'DEV1-S', image: MISSING, project: PROJECT });
    assert.equal(badImage.status, 404);
    assert.deepEqual(badImage.json, { type: 'not_found', message: 'resource is not found', resource: 'instance_image', resource_id: MISSING });
    const armImage = await ubuntuImage(call, 'arm64');
    const wrongArch = await call('POST', '/servers', { name: 'x', commercial_type: 'DEV1-S', image: armImage, project: PROJECT });
    assert.equal(wrongArch.status, 400);
    assert.equal(wrongArch.json.type, 'invalid_request_error');
  });

  test('unknown ids answer 404 not_found naming the resource', { timeout: 60_000 }, async () => {
    for (const [path, resource] of [
      ['/servers', 'instance_server'],
      ['/volumes', 'instance_volume'],
      ['/snapshots', 'instance_snapshot'],
      ['/images', 'instance_image'],
      ['/ips', 'instance_ip'],
    ] as const) {
      const response = await call('GET', `${path}/${MISSING}`);
      assert.equal(response.status, 404, path);
      assert.deepEqual(response.json, { type: 'not_found', message: 'resource is not found', resource, resource_id: MISSING });
    }
    const snapshot = await call('POST', '/snapshots', { name: 's', volume_id: MISSING, project: PROJECT });
    assert.equal(snapshot.json.resource, 'instance_volume');
    const image = await call('POST', '/images', { name: 'i', root_volume: MISSING, arch: 'x86_64', project: PROJECT });
    assert.equal(image.json.resource, 'instance_snapshot');
  });

  test('an action the state does not allow answers 400 invalid_request_error', { timeout: 60_000 }, async () => {
    const server = await createServer(call);
    const response = await call('POST', `/servers/${server.id}/action`, { action: 'poweroff' });
    assert.equal(response.status, 400);
    assert.equal(response.json.type, 'invalid_request_error');
    assert.equal(response.json.message, 'server should be running');
    const unknown = await call('POST', `/servers/${server.id}/action`, { action: 'explode' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.details[0].argument_name, 'action');
  });

  test('deleting a running server answers 400 server should be stopped', { timeout: 60_000 }, async () => {
    const server = await createServer(call);
    await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
    await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'running');
    const response = await call('DELETE', `/servers/${server.id}`);
    assert.equal(response.status, 400);
    assert.deepEqual(response.json, { type: 'invalid_request_error', message: 'server should be stopped' });
    assert.equal((await call('GET', `/servers/${server.id}`)).status, 200, 'the server is still there');
  });

  test('deleting an attached volume or a marketplace image is refused', { timeout: 60_000 }, async () => {
    const server = await createServer(call);
    const volume = await call('DELETE', `/volumes/${server.volumes['0'].id}`);
    assert.equal(volume.status, 400);
    assert.equal(volume.json.type, 'invalid_request_error');
    const image = await call('DELETE', `/images/${await ubuntuImage(call)}`);
    assert.equal(image.status, 403);
    assert.equal(image.json.type, 'permissions_denied');
  });
});

test('a pinned token refuses any other token with 401', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator({ token: 'pinned-secret' });
  t.after(() => sim.close());
  assert.equal((await client(sim, 'fr-par-1', 'other')('GET', '/servers')).status, 401);
  assert.equal((await client(sim, 'fr-par-1', 'pinned-secret')('GET', '/servers')).status, 200);
});

describe('server state/action table', () => {
  test('matches the reference table', { timeout: 60_000 }, () => {
    assert.deepEqual(ALLOWED_ACTIONS, {
      stopped: ['poweron', 'backup'],
      starting: ['stop_in_place', 'backup'],
      running: ['poweroff', 'terminate', 'reboot', 'stop_in_place', 'backup'],
      stopping: ['stop_in_place', 'backup'],
      'stopped in place': ['poweron', 'poweroff', 'terminate', 'reboot', 'backup'],
      locked: [],
    });
  });

  test('a server walks stopped → starting → running → stopping → stopped, advertising the table', { timeout: 60_000 }, async (t) => {
    // Each transition is held until the transient state was checked: observed for sure, not raced.
    const sim = await startTestSimulator({ latency: { boot: 60, stop: 60 }, hold: ['boot', 'stop'] });
    t.after(() => sim.close());
    const call = client(sim);
    const server = await createServer(call);
    const get = () => call('GET', `/servers/${server.id}`);
    const check = async (state: keyof typeof ALLOWED_ACTIONS): Promise<void> => {
      const { json } = await until(get, (r) => r.json.server.state === state);
      assert.deepEqual(json.server.allowed_actions, ALLOWED_ACTIONS[state], state);
      assert.deepEqual((await call('GET', `/servers/${server.id}/action`)).json.actions, ALLOWED_ACTIONS[state]);
      if (state === 'running' || state === 'starting') assert.ok(json.server.public_ip, `${state} has a public IP`);
      else assert.equal(json.server.public_ip, null, `${state} has no public IP`);
    };
    await check('stopped');
    await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
    await check('starting');
    sim.release('boot');
    await check('running');
    await call('POST', `/servers/${server.id}/action`, { action: 'poweroff' });
    await check('stopping');
    sim.release('stop');
    await check('stopped');
    assert.equal(sim.floorMs(server.id), 120, 'the floor is the boot plus the stop latency');
  });

  test('stop_in_place reaches "stopped in place", from where terminate removes server and volume', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator();
    t.after(() => sim.close());
    const call = client(sim);
    const server = await createServer(call);
    const volumeId = server.volumes['0'].id as string;
    await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
    await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'running');
    await call('POST', `/servers/${server.id}/action`, { action: 'stop_in_place' });
    await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'stopped in place');
    const terminate = await call('POST', `/servers/${server.id}/action`, { action: 'terminate' });
    assert.equal(terminate.status, 202);
    await until(() => call('GET', `/servers/${server.id}`), (r) => r.status === 404);
    assert.equal((await call('GET', `/volumes/${volumeId}`)).status, 404, 'terminate deletes local volumes');
    assert.equal(sim.diskPathOfVolume(volumeId), undefined);
  });
});

test('reboot passes through starting back to running; backup makes an image of the server', { timeout: 60_000 }, async (t) => {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const call = client(sim);
  const server = await createServer(call);
  await call('POST', `/servers/${server.id}/action`, { action: 'poweron' });
  await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'running');
  sim.hold('boot'); // "starting" is observed for sure, not raced against the reboot
  const reboot = await call('POST', `/servers/${server.id}/action`, { action: 'reboot' });
  assert.equal(reboot.status, 202);
  assert.equal((await call('GET', `/servers/${server.id}`)).json.server.state, 'starting');
  sim.release('boot');
  await until(() => call('GET', `/servers/${server.id}`), (r) => r.json.server.state === 'running');
  const backup = await call('POST', `/servers/${server.id}/action`, { action: 'backup', name: 'nightly' });
  assert.equal(backup.status, 202);
  const imageId = (backup.json.task.href_result as string).replace('/images/', '');
  const image = await until(() => call('GET', `/images/${imageId}`), (r) => r.json.image.state === 'available');
  assert.equal(image.json.image.name, 'nightly');
  assert.equal(image.json.image.from_server, server.id);
});
