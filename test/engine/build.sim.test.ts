// Builds against the simulator (fast latency): after each, the simulator holds exactly what
// should remain, and the event log tells the same story as the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT, SECRET, startHarness, template, types } from './harness.js';

test('a successful build leaves exactly an image and its snapshot; the log names them; no secret in the database', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template({
    variables: { password: 'hunter2-sensitive-value' },
    'sensitive-variables': ['password'],
    ...template({ image_name: 'kiln-test-image', snapshot_name: 'kiln-test-snap' }, [
      { type: 'shell', inline: ['echo "provisioning with {{user `password`}}"', 'echo hello from kiln > /root/hello'] },
    ]),
  });
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const inv = await h.inventory(outcome!.buildId);
  assert.deepEqual(inv.servers, []);
  assert.deepEqual(inv.volumes, []);
  assert.deepEqual(inv.images, [outcome!.artifact!.imageId]);
  assert.deepEqual(inv.snapshots, [outcome!.artifact!.snapshotId]);
  const image = await h.client.getImage(outcome!.artifact!.imageId);
  assert.equal(image.root_volume?.id, outcome!.artifact!.snapshotId, 'the image is made from the snapshot');
  assert.equal(image.name, 'kiln-test-image');
  assert.ok(image.tags.includes('kiln') && image.tags.includes(`kiln-build=${outcome!.buildId}`));

  const events = h.events(outcome!.buildId);
  const of = (type: string) => events.filter((e) => e.type === type);
  assert.equal(of('image.created')[0]!.data.imageId, outcome!.artifact!.imageId);
  assert.equal(of('snapshot.created')[0]!.data.snapshotId, outcome!.artifact!.snapshotId);
  assert.equal(of('server.created').length, 1);
  assert.equal(of('server.deleted')[0]!.data.serverId, of('server.created')[0]!.data.serverId);
  assert.equal(events.at(-1)!.type, 'build.succeeded');
  // Each intent is followed by its result, and each phase starts before its own events.
  const seq = (type: string) => of(type)[0]!.seq;
  assert.ok(seq('server.create.requested') < seq('server.created'));
  assert.ok(of('phase.started').find((e) => e.phase === 'server.create')!.seq < seq('server.create.requested'));
  // Provisioner output is in the log, the sensitive variable's value is not.
  const output = of('provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  assert.ok(output.includes('provisioning with <sensitive>'), output.join('\n'));
  const record = h.store.getBuild(outcome!.buildId)!;
  assert.equal(record.status, 'succeeded');
  assert.equal(record.artifact?.imageId, outcome!.artifact!.imageId);
  // No secret anywhere in the database files (token, sensitive variable, private key).
  h.store.db.pragma('wal_checkpoint(TRUNCATE)');
  const stateDir = join(h.dir, 'state');
  for (const file of readdirSync(stateDir).filter((f) => f.startsWith('kiln.db'))) {
    const bytes = readFileSync(join(stateDir, file)).toString('latin1');
    for (const secret of [SECRET, 'hunter2-sensitive-value', 'PRIVATE KEY']) assert.ok(!bytes.includes(secret), `${secret} found in ${file}`);
  }
  // The temporary key pair was removed at the end.
  assert.deepEqual(readdirSync(join(stateDir, 'keys')), []);
  void PROJECT;
});

test('a failing provisioner with --on-error cleanup leaves nothing behind', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({}, [{ type: 'shell', inline: ['echo about to fail', 'exit 3'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'provision');
  // The message names the exit code and the script's last output.
  assert.match(outcome!.failure!.error.message, /exited with code 3 \(valid: 0\)/);
  assert.match(outcome!.failure!.error.message, /last output:\n {2}\| about to fail$/);
  assert.equal(outcome!.cleanedUp, true);
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
  const t2 = types(h.events(outcome!.buildId));
  for (const type of ['phase.failed', 'cleanup.started', 'server.deleted', 'build.failed']) assert.ok(t2.includes(type as never), type);
  assert.ok(t2.indexOf('phase.failed') < t2.indexOf('cleanup.started'));
});

test('--on-error abort keeps the resources for inspection', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({}, [{ type: 'shell', inline: ['exit 1'] }]));
  const [outcome] = await h.build(path, { onError: 'abort' });
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.cleanedUp, false);
  const inv = await h.inventory(outcome!.buildId);
  assert.equal(inv.servers.length, 1);
  assert.equal(inv.volumes.length, 1);
  const server = await h.client.getServer(inv.servers[0]!);
  assert.equal(server.state, 'running');
  assert.ok(!types(h.events(outcome!.buildId)).includes('cleanup.started'));
  // The key pair stays too, so that `kiln resume` can reach the server.
  assert.equal(readdirSync(join(h.dir, 'state', 'keys')).length, 2);
});

test('a phase that outlives its deadline fails with PhaseTimeout and is cleaned up', { timeout: 60_000 }, async (t) => {
  // The server takes 3 s to boot; the wait for it may take 500 ms.
  const h = await startHarness({ latency: { boot: 3000 } });
  t.after(() => h.close());
  const path = h.template(template({ kiln_phase_policy: { 'server.wait_running': { phase_timeout: '500ms' } } }));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'failed');
  assert.equal(outcome!.failure?.phase, 'server.wait_running');
  assert.equal(outcome!.failure?.error.name, 'PhaseTimeout');
  assert.equal(outcome!.cleanedUp, true, JSON.stringify(h.events(outcome!.buildId).slice(-5)));
  assert.deepEqual(await h.inventory(outcome!.buildId), { servers: [], volumes: [], snapshots: [], images: [] });
});

test('5xx and 429 answers are retried and ghost creates reconciled: one of everything', { timeout: 180_000 }, async (t) => {
  const h = await startHarness({
    seed: 7,
    faults: {
      '*': { '5xx': 0.15, '429': 0.1, '429_no_retry_after': 0.05, retry_after: 0 },
      'POST /servers': { ghost_create: 1 },
      'POST /snapshots': { ghost_create: 1 },
    },
  });
  t.after(() => h.close());
  const path = h.template(template({}, [{ type: 'shell', inline: ['echo ok'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const inv = await h.inventory(outcome!.buildId);
  assert.deepEqual(inv, { servers: [], volumes: [], snapshots: [outcome!.artifact!.snapshotId], images: [outcome!.artifact!.imageId] });
  const events = h.events(outcome!.buildId);
  const created = events.filter((e) => e.type === 'server.created');
  assert.equal(created.length, 1);
  assert.equal(created[0]!.data.reconciled, true, 'the server was found by its tags after the ambiguous create');
  assert.equal(events.find((e) => e.type === 'snapshot.created')!.data.reconciled, true);
  const counts = h.sim.requestCounts();
  assert.equal(counts['POST /servers'], 1, 'the create was not repeated');
});

test('communicator none skips SSH; shell-local provisioners still run', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ communicator: 'none', ssh_username: undefined }, [{ type: 'shell-local', inline: ['echo ran-locally'] }]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const events = h.events(outcome!.buildId);
  const phases = new Set(events.filter((e) => e.type === 'phase.started').map((e) => e.phase));
  for (const skipped of ['key', 'ssh.connect']) assert.ok(!phases.has(skipped as never), skipped);
  assert.ok(!events.some((e) => e.type === 'ssh.connected'));
  const lines = events.filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  assert.deepEqual(lines, ['ran-locally']);
  assert.ok(phases.has('snapshot.create'));
  assert.equal((await h.inventory(outcome!.buildId)).images.length, 1);
});

test('two builders run in parallel, each to its own image', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template({
    builders: ['a', 'b'].map((name) => ({
      ...(template().builders as object[])[0],
      name,
      image_name: `parallel-${name}`,
      snapshot_name: `parallel-${name}`,
    })),
    provisioners: [{ type: 'shell', inline: ['echo building $PACKER_BUILD_NAME'] }],
  });
  const outcomes = await h.build(path);
  assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'succeeded']);
  assert.notEqual(outcomes[0]!.buildId, outcomes[1]!.buildId);
  // They overlapped: in the store's global append order, each started its first phase before
  // the other one finished (run one after the other, the second would start after the first ended).
  const order = (h.store.db.prepare('SELECT build_id, type FROM events ORDER BY rowid').all() as { build_id: string; type: string }[]);
  const at = (id: string, type: string) => order.findIndex((e) => e.build_id === id && e.type === type);
  const [a, b] = outcomes.map((o) => o.buildId) as [string, string];
  assert.ok(at(a, 'phase.started') < at(b, 'build.succeeded') && at(b, 'phase.started') < at(a, 'build.succeeded'), 'the two builds ran at the same time');
  for (const o of outcomes) {
    const inv = await h.inventory(o.buildId);
    assert.deepEqual(inv.images, [o.artifact!.imageId]);
    assert.equal(inv.servers.length + inv.volumes.length, 0);
    const lines = h.events(o.buildId).filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
    assert.deepEqual(lines, [`building ${o.builderName}`]);
  }
});

test('what a provisioner writes is in the image: a second build from it reads the file back', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const first = h.template(template({ image_name: 'with-marker' }, [{ type: 'shell', inline: ['echo baked-by-first-build > /etc/kiln-marker'] }]));
  const [one] = await h.build(first);
  assert.equal(one!.status, 'succeeded');
  const second = h.template(
    template({ image: one!.artifact!.imageId, image_name: 'from-marker' }, [{ type: 'shell', inline: ['cat /etc/kiln-marker'] }]),
  );
  const [two] = await h.build(second);
  assert.equal(two!.status, 'succeeded', JSON.stringify(two));
  const lines = h.events(two!.buildId).filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  assert.deepEqual(lines, ['baked-by-first-build']);
});

test('the checks that need the API fail the prepare phase before any server exists', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const cases: Array<{ builder: Record<string, unknown>; env?: Record<string, string | undefined>; message: RegExp }> = [
    { builder: {}, env: { SCW_DEFAULT_PROJECT_ID: undefined }, message: /no Scaleway project is set.*SCW_DEFAULT_PROJECT_ID/ },
    { builder: { commercial_type: 'GP9-HUGE' }, message: /commercial_type GP9-HUGE is not offered in fr-par-1; the zone offers .*DEV1-S/ },
    { builder: { image: 'ubuntu_nonexistent' }, message: /ubuntu_nonexistent/ },
  ];
  for (const { builder, env, message } of cases) {
    const [outcome] = await h.build(h.template(template(builder)), { env });
    assert.equal(outcome!.status, 'failed');
    assert.equal(outcome!.failure?.phase, 'prepare');
    assert.match(outcome!.failure!.error.message, message);
    assert.ok(!types(h.events(outcome!.buildId)).includes('server.create.requested'), 'no server was asked for');
  }
  assert.deepEqual((await h.client.listServers({})).length, 0);
});

test('an image name that is taken stops the next build in prepare, as Packer does', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ image_name: 'golden', snapshot_name: 'golden-snap', communicator: 'none' }));
  const [first] = await h.build(path);
  assert.equal(first!.status, 'succeeded');
  const [second] = await h.build(path);
  assert.equal(second!.status, 'failed');
  assert.equal(second!.failure?.phase, 'prepare');
  assert.match(second!.failure!.error.message, /an image named "golden" already exists .*pass --force/);
  assert.equal((await h.client.listImages({ name: 'golden' })).length, 1);
});
