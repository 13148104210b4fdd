// user_data and user_data_timeout against the simulator, whose images run the `cloud-init` user
// data script at boot and answer `cloud-init status` (issue 12): with SSH kiln waits until
// cloud-init is done, fails with cloud-init's own report on an error or after the timeout, and
// leaves nothing behind; without SSH it waits the timeout, as the plugin does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, template, types } from './harness.js';

// Slow enough that a build which did not wait would power the server off before it finishes.
const SLOW_SCRIPT = '#!/bin/sh\nsleep 2\necho written-by-user-data > /etc/from-user-data\n';

test('with SSH, kiln waits for cloud-init to run the user data: its work is in the image', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ user_data: { 'cloud-init': SLOW_SCRIPT } }, [{ type: 'shell', inline: ['echo provisioned > /etc/provisioned'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const disk = h.sim.diskPathOfSnapshot(outcome!.artifact!.snapshotId)!;
  assert.equal(readFileSync(join(disk, 'etc/from-user-data'), 'utf8'), 'written-by-user-data\n');
  assert.equal(readFileSync(join(disk, 'var/lib/cloud/data/status'), 'utf8'), 'done\n');
  const events = h.events(outcome!.buildId);
  const started = events.find((e) => e.type === 'user_data.wait.started')!;
  assert.equal(started.data.mode, 'cloud-init');
  assert.equal(started.data.timeoutMs, 600_000, 'user_data_timeout 0: kiln waits up to 10m');
  assert.equal(events.find((e) => e.type === 'user_data.done')!.data.outcome, 'cloud-init done');
  const all = types(events);
  assert.ok(all.lastIndexOf('provisioner.succeeded') < all.indexOf('user_data.wait.started'));
  assert.ok(all.indexOf('user_data.done') < all.indexOf('server.poweroff.requested'));
});

test('a user data script that fails stops the build with cloud-init\'s report; nothing is left', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ user_data: { 'cloud-init': '#!/bin/sh\necho cannot reach the mirror\nexit 4\n' } }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'user_data.wait');
  const message = outcome!.failure!.error.message;
  assert.match(message, /cloud-init reported an error/);
  assert.match(message, /status: error/);
  assert.match(message, /\('scripts_user', RuntimeError\('Runparts: 1 failures \(part-001\) in 1 attempted commands'\)\)/);
  assert.match(message, /cannot reach the mirror/);
  assert.equal(outcome!.cleanedUp, true);
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});

test('user data still running at user_data_timeout fails the build with the last status; nothing is left', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ user_data: { 'cloud-init': '#!/bin/sh\nsleep 60\n' }, user_data_timeout: '2s' }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'user_data.wait');
  assert.match(outcome!.failure!.error.message, /cloud-init did not finish within 2s \(user_data_timeout\)[\s\S]*status: running/);
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});

test('an image without cloud-init: nothing to wait for', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  // A first build removes cloud-init from its image; a second build from that image has user data.
  const [first] = await h.build(h.template(template({ image_name: 'no-cloud-init', snapshot_name: 'no-cloud-init' }, [{ type: 'shell', inline: ['rm -rf /opt/kiln-sim'] }])));
  assert.equal(first!.status, 'succeeded', JSON.stringify(first));
  const [second] = await h.build(h.template(template({ image: first!.artifact!.imageId, user_data: { 'cloud-init': SLOW_SCRIPT } })));
  assert.equal(second!.status, 'succeeded', JSON.stringify(second));
  assert.match(String(h.events(second!.buildId).find((e) => e.type === 'user_data.done')!.data.outcome), /no cloud-init on the server/);
  assert.ok(!existsSync(join(h.sim.diskPathOfSnapshot(second!.artifact!.snapshotId)!, 'etc/from-user-data')));
});

test('without SSH (communicator none), kiln waits user_data_timeout, as the plugin does', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ communicator: 'none', ssh_username: undefined, user_data: { 'cloud-init': SLOW_SCRIPT }, user_data_timeout: '3s' }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const events = h.events(outcome!.buildId);
  const started = events.find((e) => e.type === 'user_data.wait.started')!;
  const done = events.find((e) => e.type === 'user_data.done')!;
  assert.equal(started.data.mode, 'timeout');
  assert.ok(Date.parse(done.at) - Date.parse(started.at) >= 3000, 'the wait lasted user_data_timeout');
  // The plugin's "wait" is all there is without SSH: the script had time to finish.
  assert.equal(readFileSync(join(h.sim.diskPathOfSnapshot(outcome!.artifact!.snapshotId)!, 'etc/from-user-data'), 'utf8'), 'written-by-user-data\n');
});
