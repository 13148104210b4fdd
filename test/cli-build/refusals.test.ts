// What `kiln build` does when Scaleway refuses the account (issue 30): out of stock, a quota, a
// missing permission, a refused key, a locked project. The simulator answers each in Scaleway's
// shape (a fault kind, or a quota it enforces); kiln runs as a child process, as a user runs it.
// A refusal is not waited out: the build stops at its first answer, says what was refused and what
// to do, exits 1, and leaves nothing behind — or, with --on-error abort, keeps what it made for a
// `kiln resume` once the cause is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { runKiln, type KilnResult } from '../helpers/cli.js';
import { cloudOfBuild } from '../helpers/cloud.js';
import { startTestSimulator, type SimulatorOptions } from '../helpers/sim.js';
import { template } from '../engine/harness.js';

const SECRET = '5e1f0c3a-8b7d-4e2f-9a6c-1d0b3e5f7a9c';
const PROJECT = 'b2c4d6e8-0a1b-4c3d-8e5f-7a9b1c3d5e7f';

/** A simulator answering as `options` say, a scratch folder, and `kiln build` against them. */
async function cloud(t: { after: (fn: () => Promise<void>) => void }, options: SimulatorOptions) {
  const sim = await startTestSimulator(options);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-refusals-'));
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  const templatePath = join(dir, 'template.json');
  // No SSH: the refusals are all in the API calls around it. Deadlines well inside the test's time
  // limit: a refusal wrongly retried ends the build with its retries on show, not the test by timeout.
  const policy = { initial_backoff: '100ms', max_backoff: '2s', phase_timeout: '90s' };
  const kiln_phase_policy = Object.fromEntries(['prepare', 'server.create', 'server.start', 'snapshot.create', 'image.create'].map((phase) => [phase, policy]));
  writeFileSync(templatePath, JSON.stringify(template({ communicator: 'none', ssh_username: undefined, kiln_phase_policy })));
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const db = join(dir, 'kiln.db');
  const kiln = (args: string[]) => runKiln([...args, '--db', db], { env });
  return { sim, client, kiln, build: (...flags: string[]) => kiln(['build', ...flags, templatePath]) };
}

const buildIdOf = (r: KilnResult) => {
  const id = /Build (\S+) \(scaleway\) failed/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  return id;
};

/** What the build left in the cloud, counted by kind. */
async function leftBy(client: ScalewayClient, id: string) {
  const { servers, volumes, snapshots, images } = await cloudOfBuild(client, id);
  return { servers: servers.length, volumes: volumes.length, snapshots: snapshots.length, images: images.length };
}

async function nothingLeft(client: ScalewayClient, id: string): Promise<void> {
  assert.deepEqual(await leftBy(client, id), { servers: 0, volumes: 0, snapshots: 0, images: 0 }, `build ${id}`);
}

/** One refusal on one route: what the user must read, and the phase it stops. */
interface Case {
  name: string;
  route: string;
  kind: string;
  phase: string;
  says: RegExp[];
}

const CASES: Case[] = [
  {
    // Scaleway takes a server's capacity at power-on: that is where a type runs out.
    name: 'out of stock at power-on',
    route: 'POST /servers/{id}/action',
    kind: 'out_of_stock',
    phase: 'server.start',
    says: [/OutOfStockError: Scaleway is out of stock of commercial type DEV1-S in fr-par-1 \(POST \S+\/action answered 412 out_of_stock\)/, /set another commercial_type \(or another zone\) in the template, or try again later/],
  },
  {
    name: 'out of stock at the create',
    route: 'POST /servers',
    kind: 'out_of_stock',
    phase: 'server.create',
    says: [/OutOfStockError: Scaleway is out of stock of commercial type DEV1-S in fr-par-1/, /set another commercial_type/],
  },
  {
    name: 'a missing permission, once the snapshot exists',
    route: 'POST /images',
    kind: 'permissions_denied',
    phase: 'image.create',
    says: [/PermissionDeniedError: The secret key is not allowed to create instance_image \(POST \S+\/images answered 403 permissions_denied\)/, /Add InstancesFullAccess to one of its IAM policies/],
  },
  {
    name: 'a key Scaleway no longer accepts',
    route: '*',
    kind: 'denied_authentication',
    phase: 'prepare',
    says: [/UnauthorizedError: Scaleway refused the secret key: the key has expired/, /Check SCW_SECRET_KEY .* create a new key in the Scaleway console/],
  },
  {
    // Scaleway's 412 `resource_still_in_use` (a volume a server still holds, a snapshot an image
    // uses): not waited out at the create of a snapshot, where nothing kiln does frees it.
    name: 'a resource still in use',
    route: 'POST /snapshots',
    kind: 'precondition_failed',
    phase: 'snapshot.create',
    says: [/PreconditionFailedError: Scaleway refused the call: the resource is still in use .*\(POST \S+\/snapshots answered 412 precondition_failed\)/, /Something still uses .*: detach or delete what uses it, then build again \(or `kiln resume` a kept build\)/],
  },
  {
    name: 'a locked project',
    route: 'POST /servers',
    kind: 'locked',
    phase: 'server.create',
    says: [/LockedError: Scaleway has locked the project/, /Scaleway's support can lift it/],
  },
];

// Five builds at once, each against its own simulator: a few seconds on an idle machine.
test('each refusal stops the build at its first answer with what was refused and what to do, exit 1, nothing left', { timeout: 360_000 }, async (t) => {
  // Every build runs to its end before any check, so that a failed check stops no build midway.
  const runs = await Promise.all(
    CASES.map(async (c) => {
      const { sim, client, build } = await cloud(t, { seed: 30, faults: { [c.route]: { [c.kind]: 1 } } });
      return { c, sim, client, r: await build() };
    }),
  );
  for (const { c, sim, client, r } of runs) {
    // Not taken for a transient failure: the refusal is never retried, nothing says to wait. (Other
    // calls may be retried on a loaded machine: a slow answer is transient.)
    assert.doesNotMatch(r.stdout, /attempt \d+ failed \((OutOfStock|QuotaExceeded|PermissionDenied|Unauthorized|Locked)Error/, c.name);
    assert.doesNotMatch(r.stderr, /TransientFailure|failure is transient/, c.name);
    assert.equal(r.code, 1, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`failed in ${c.phase.replace('.', '\\.')}: `), c.name);
    for (const says of c.says) assert.match(r.stderr, says, c.name);
    assert.match(r.stderr, /Everything the build created was removed\. Fix the cause and run `kiln build` again\./, c.name);
    if (c.route !== '*') assert.equal(sim.requestCounts()[c.route], 1, `${c.name}: ${c.route} asked once`);
    sim.setFaults({}); // so that the test's own look at the cloud is answered
    await nothingLeft(client, buildIdOf(r));
  }
});

test('a snapshot quota: the build says which quota and where to raise it; kept with --on-error abort, it ends once a snapshot is deleted', { timeout: 180_000 }, async (t) => {
  const { sim, client, kiln, build } = await cloud(t, { seed: 30, quotas: { snapshots: 1 } });
  // The account already holds the one snapshot its quota allows: the user's own, not kiln's.
  const image = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
  const theirs = await client.createServer({ name: 'their-server', commercial_type: 'DEV1-S', image: image.id });
  const old = await client.createSnapshot({ name: 'their-old-snapshot', volume_id: theirs.volumes['0']!.id });

  const failed = await build('--on-error', 'abort');
  assert.equal(failed.code, 1, failed.stderr);
  const id = buildIdOf(failed);
  assert.match(
    failed.stderr,
    /failed in snapshot\.create: QuotaExceededError: Scaleway quota reached: compute_snapshots_type_l_ssd_available in fr-par-1 \(POST \S+\/snapshots answered 403 invalid_request_error\)\. No more snapshots can be made until it allows: delete snapshots you no longer need .*raise the quota in the Scaleway console \(Organization → Quotas\)/,
  );
  assert.doesNotMatch(failed.stderr, /not allowed|IAM/, 'a quota is not a permission');
  assert.match(failed.stderr, new RegExp(`Its resources are kept for inspection\\.\\n  retry the failed phase after fixing the cause:  kiln resume ${id}\\n`));
  assert.equal(sim.requestCounts(`kiln-build=${id}`)['POST /snapshots'], 1, 'the snapshot was asked for once');
  const kept = await cloudOfBuild(client, id);
  assert.deepEqual([kept.servers.length, kept.snapshots.length, kept.images.length], [1, 0, 0], 'the stopped server is kept for the resume');

  // The cause removed as the message says: the old snapshot deleted. The resume goes on from the snapshot.
  await client.deleteSnapshot(old.id);
  const resumed = await kiln(['resume', id]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /An image was created/);
  assert.equal(sim.requestCounts(`kiln-build=${id}`)['POST /servers'], 1, 'the resume made no second server');
  assert.deepEqual(await leftBy(client, id), { servers: 0, volumes: 0, snapshots: 1, images: 1 });
});

test('out of stock at power-on with --on-error abort: the server is kept, and resumed once the type is back in stock the build ends with its image', { timeout: 180_000 }, async (t) => {
  const { sim, client, kiln, build } = await cloud(t, { seed: 30, faults: { 'POST /servers/{id}/action': { out_of_stock: 1 } } });
  const failed = await build('--on-error', 'abort');
  assert.equal(failed.code, 1, failed.stderr);
  const id = buildIdOf(failed);
  assert.match(failed.stderr, /failed in server\.start: OutOfStockError: Scaleway is out of stock of commercial type DEV1-S in fr-par-1/);
  assert.match(failed.stderr, new RegExp(`retry the failed phase after fixing the cause:  kiln resume ${id}\\n`));
  const kept = await cloudOfBuild(client, id);
  assert.deepEqual([kept.servers.length, kept.servers[0]?.state], [1, 'stopped'], 'the server is kept, never started');

  sim.setFaults({}); // the zone has DEV1-S again
  const resumed = await kiln(['resume', id]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(sim.requestCounts(`kiln-build=${id}`)['POST /servers'], 1, 'the resume started the kept server, made no second one');
  assert.deepEqual(await leftBy(client, id), { servers: 0, volumes: 0, snapshots: 1, images: 1 });
});

test('a resource still in use at the snapshot with --on-error abort: the stopped server is kept, and resumed once nothing holds it the build ends with its image', { timeout: 180_000 }, async (t) => {
  const { sim, client, kiln, build } = await cloud(t, { seed: 30, faults: { 'POST /snapshots': { precondition_failed: 1 } } });
  const failed = await build('--on-error', 'abort');
  assert.equal(failed.code, 1, failed.stderr);
  const id = buildIdOf(failed);
  assert.match(failed.stderr, /failed in snapshot\.create: PreconditionFailedError: Scaleway refused the call: the resource is still in use/);
  assert.doesNotMatch(failed.stdout, /attempt \d+ failed \(PreconditionFailedError/, 'not waited out');
  assert.equal(sim.requestCounts(`kiln-build=${id}`)['POST /snapshots'], 1, 'the snapshot was asked for once');
  assert.match(failed.stderr, new RegExp(`retry the failed phase after fixing the cause:  kiln resume ${id}\\n`));
  const kept = await cloudOfBuild(client, id);
  assert.deepEqual([kept.servers.length, kept.servers[0]?.state, kept.snapshots.length], [1, 'stopped', 0], 'the stopped server is kept for the resume');

  sim.setFaults({}); // what held the volume let it go
  const resumed = await kiln(['resume', id]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(sim.requestCounts(`kiln-build=${id}`)['POST /servers'], 1, 'the resume made no second server');
  assert.deepEqual(await leftBy(client, id), { servers: 0, volumes: 0, snapshots: 1, images: 1 });
});
