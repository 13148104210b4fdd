// kiln build, resume and gc against a shared PostgreSQL store (issue 16): a build end to end, a
// build killed and resumed, a build killed "on host A" and resumed "on host B" (other process,
// state directory and home, sharing only the database URL and the credentials), and PostgreSQL
// stopped mid-build: briefly (the build carries on) and for longer than the engine waits (the
// build stops safely and `kiln resume` continues once the store is back).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { PgEventStore } from '../../src/store/postgres.js';
import type { BuildEvent } from '../../src/store/index.js';
import { startPostgres, type PgCluster } from '../../scripts/lib/postgres-cluster.js';
import { template as templateOf } from '../engine/harness.js';
import { runKiln, spawnKiln, startedBuildId, type KilnResult } from '../helpers/cli.js';
import { cloudOfBuild } from '../helpers/cloud.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const skip = postgresUnavailableReason();
const outageSkip = postgresUnavailableReason({ ownCluster: true });

let sim: Simulator;
let dir: string;
let client: ScalewayClient;

before(async () => {
  if (skip) return;
  sim = await startTestSimulator();
  dir = mkdtempSync(join(tmpdir(), 'kiln-pg-build-'));
  client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
}, { timeout: 60_000 });
after(async () => {
  if (skip) return;
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

let n = 0;
function writeTemplate(provisioners: unknown[] = [{ type: 'shell', inline: ['echo provisioned >> /root/runs'] }]): string {
  const path = join(dir, `t${++n}.json`);
  writeFileSync(path, JSON.stringify(templateOf({ ssh_port: sim.sshPort, image_name: `pg-${n}`, snapshot_name: `pg-${n}` }, provisioners)));
  return path;
}

/** A machine of its own: its home and state directory; only the store URL and the credentials are shared. */
function host(name: string): Record<string, string> {
  const home = join(dir, `host-${name}-${++n}`);
  mkdirSync(home, { recursive: true });
  return { HOME: home, XDG_STATE_HOME: join(home, 'state') };
}

function kilnEnv(db: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, KILN_DB: db, ...env };
}

function kiln(args: string[], db: string, env: Record<string, string>): Promise<KilnResult> {
  return runKiln(args, { env: kilnEnv(db, env) });
}

async function logOf(db: string, id: string): Promise<{ status: string; events: BuildEvent[] }> {
  const store = await PgEventStore.open(db);
  try {
    return { status: (await store.getBuild(id))!.status, events: await store.events(id) };
  } finally {
    await store.close();
  }
}

/** One image and its snapshot left, nothing else; the log succeeded, without an event recorded twice. */
async function assertOneImageNothingLeaked(db: string, id: string): Promise<BuildEvent[]> {
  const { servers, volumes, snapshots, images } = await cloudOfBuild(client, id);
  assert.deepEqual(
    { servers: servers.length, volumes: volumes.length, snapshots: snapshots.length, images: images.length },
    { servers: 0, volumes: 0, snapshots: 1, images: 1 },
    `build ${id}`,
  );
  const { status, events } = await logOf(db, id);
  assert.equal(status, 'succeeded');
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    'the log is numbered without gaps',
  );
  for (const once of ['server.create.requested', 'server.created', 'snapshot.created', 'image.created', 'build.succeeded']) {
    assert.equal(events.filter((e) => e.type === once).length, 1, `${once} recorded once`);
  }
  return events;
}

test('kiln build --db postgres://… builds end to end; ls and gc read the same store', { skip, timeout: 120_000 }, async (t) => {
  const db = await testDatabase(t);
  const a = host('a');
  const built = await kiln(['build', '--json', '--db', db, writeTemplate()], db, a);
  assert.equal(built.code, 0, built.stderr);
  const id = startedBuildId(built);
  await assertOneImageNothingLeaked(db, id);
  const ls = await kiln(['ls'], db, host('other'));
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, new RegExp(id));
  // gc, from another machine, sees the build's image as its artifact: nothing to remove.
  const gc = await kiln(['gc', '--json', '--older-than', '0s', '--build', id], db, host('gc'));
  assert.equal(gc.code, 0, gc.stderr);
  const report = JSON.parse(gc.stdout) as { summary: { orphans: number }; resources: { type: string; action: string; reason: string }[] };
  assert.equal(report.summary.orphans, 0, gc.stdout);
  const image = report.resources.find((r) => r.type === 'image');
  assert.equal(image?.reason, `artifact of build ${id}: the user's`, 'gc knows the build from the shared store');
});

test('a build killed -9 on PostgreSQL resumes to exactly one image, nothing leaked', { skip, timeout: 120_000 }, async (t) => {
  const db = await testDatabase(t);
  const a = host('a');
  // Killed after the server was created in the cloud, before the log knew it: resume reconciles by tags.
  const crashed = await kiln(['build', '--json', writeTemplate()], db, { ...a, KILN_CRASH_AFTER_CALL: 'server.created' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);
  const resumed = await kiln(['resume', id, '--json'], db, a);
  assert.equal(resumed.code, 0, resumed.stderr);
  const events = await assertOneImageNothingLeaked(db, id);
  assert.ok(events.some((e) => e.type === 'server.created' && e.data.reconciled === true), 'the server was found by its tags, not created again');
});

test('killed on host A after provisioning, resumed on host B sharing only the store URL and the credentials', { skip, timeout: 120_000 }, async (t) => {
  const db = await testDatabase(t);
  // Killed once the snapshot was asked for, before the log knew it was created.
  const crashed = await kiln(['build', '--json', writeTemplate()], db, { ...host('a'), KILN_CRASH_AFTER_CALL: 'snapshot.created' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);
  const resumed = await kiln(['resume', id, '--json'], db, host('b'));
  assert.equal(resumed.code, 0, resumed.stderr);
  const events = await assertOneImageNothingLeaked(db, id);
  assert.ok(events.some((e) => e.type === 'snapshot.created' && e.data.reconciled === true), 'the snapshot was found by its tags, not created again');
  assert.equal(events.filter((e) => e.type === 'provisioner.succeeded').length, 1, 'provisioning was not run again');
});

test('killed on host A while provisioning, resumed on host B with KILN_KEY_PASSPHRASE: the sealed key reaches the same server', { skip, timeout: 180_000 }, async (t) => {
  const db = await testDatabase(t);
  const passphrase = { KILN_KEY_PASSPHRASE: 'a passphrase every runner of the team has' };
  const template = writeTemplate([
    { type: 'shell', inline: ['echo first >> /root/runs'] },
    { type: 'shell', inline: ['grep -qx first /root/runs', 'echo second >> /root/runs'] },
  ]);
  const crashed = await kiln(['build', '--json', template], db, { ...host('a'), ...passphrase, KILN_CRASH_AT: 'provisioner.started:2' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);
  // Host B needs the key to log in: it is in the shared store, sealed, and nowhere else B can reach.
  const resumed = await kiln(['resume', id, '--json'], db, { ...host('b'), ...passphrase });
  assert.equal(resumed.code, 0, resumed.stderr);
  const events = await assertOneImageNothingLeaked(db, id);
  assert.deepEqual(events.filter((e) => e.type === 'provisioner.succeeded').map((e) => e.data.index), [0, 1], 'the second provisioner ran on the server the first one provisioned');
  const created = events.find((e) => e.type === 'key.created')!;
  assert.ok(created.data.sealed, 'the key was sealed into the store');
  assert.doesNotMatch(JSON.stringify(events), /PRIVATE KEY/, 'no private key in clear in the shared store');
});

test('kiln gc on another machine removes what a build killed on host A left, knowing it from the shared store', { skip, timeout: 120_000 }, async (t) => {
  const db = await testDatabase(t);
  const crashed = await kiln(['build', '--json', writeTemplate()], db, { ...host('a'), KILN_CRASH_AT: 'server.running' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);
  const gc = await kiln(['gc', '--json', '--force', '--build', id], db, host('gc'));
  assert.equal(gc.code, 0, gc.stdout + gc.stderr);
  const report = JSON.parse(gc.stdout) as { resources: { type: string; reason: string }[]; cleanedBuilds: string[] };
  assert.ok(report.resources.length > 0 && report.resources.every((r) => !/unknown to this store/.test(r.reason)), gc.stdout);
  const { servers, volumes, snapshots, images } = await cloudOfBuild(client, id);
  assert.deepEqual([servers.length, volumes.length, snapshots.length, images.length], [0, 0, 0, 0]);
  assert.equal((await logOf(db, id)).status, 'cleaned', 'the shared log says gc cleaned it');
});

/**
 * A build whose provisioner (shell-local, on this machine) waits for `gate` to exist; `during`
 * runs once the provisioner started (PostgreSQL is stopped there), then the gate opens.
 */
async function buildThroughOutage(db: string, env: Record<string, string>, during: () => void): Promise<KilnResult> {
  const gate = join(dir, `gate-${++n}`);
  const template = writeTemplate([{ type: 'shell-local', inline: [`while [ ! -e ${gate} ]; do sleep 0.05; done`, 'echo through'] }]);
  const child = spawnKiln(['build', '--json', template], { env: kilnEnv(db, env) });
  let stdout = '';
  let stderr = '';
  let opened = false;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (!opened && /"type":"provisioner\.started"/.test(stdout)) {
      opened = true;
      during();
      writeFileSync(gate, '');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test('PostgreSQL stopped mid-build: a short outage is ridden out; a long one stops the build safely and resume continues', { skip: outageSkip, timeout: 240_000 }, async (t) => {
  const cluster: PgCluster = await startPostgres();
  t.after(() => cluster.stop());
  const db = cluster.adminUrl;

  // Short: the store is back within the bound; the appends made meanwhile go in once each.
  const short = await buildThroughOutage(db, { ...host('a'), KILN_STORE_RETRY_MS: '60000' }, () => {
    cluster.down();
    setTimeout(() => cluster.up(), 1_000);
  });
  assert.equal(short.code, 0, short.stderr);
  await assertOneImageNothingLeaked(db, startedBuildId(short));

  // Long: the store stays down past the bound. The build stops as on a signal and says what to do.
  const a = host('a');
  const long = await buildThroughOutage(db, { ...a, KILN_STORE_RETRY_MS: '1500' }, () => cluster.down());
  assert.equal(long.code, 130, long.stderr);
  const id = startedBuildId(long);
  assert.match(long.stderr, /event store postgres:\/\/kiln@127\.0\.0\.1:\d+\/postgres was unreachable/);
  assert.match(long.stderr, new RegExp(`once the store is back, continue: +kiln resume ${id}`));
  cluster.up();
  // Nothing was done that the log does not know of: the provisioner never recorded its end.
  const stopped = await logOf(db, id);
  assert.equal(stopped.events.filter((e) => e.type === 'provisioner.succeeded').length, 0);
  assert.ok(!stopped.events.some((e) => e.type.startsWith('server.poweroff')), 'no step after the outage began');
  const resumed = await kiln(['resume', id, '--json'], db, a);
  assert.equal(resumed.code, 0, resumed.stderr);
  await assertOneImageNothingLeaked(db, id);
});
