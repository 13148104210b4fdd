// `kiln gc` end to end, as a user runs it, against the simulator (fast latency): the leftovers
// of a killed build, of an `--on-error abort` build and of a build another machine ran are found
// and removed; a live build, a succeeded build's artifact and untagged look-alikes are left
// alone; a dry run changes nothing; `--older-than` is honoured; a second run finds nothing.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  apiPost,
  deadPid,
  inventory,
  keyExists,
  kilnTags,
  PROJECT,
  makeLeftovers,
  recordBuild,
  startGcWorld,
  waitForSnapshot,
} from './fixtures.js';
import { runKiln } from '../helpers/cli.js';

interface Row {
  type: string;
  id: string;
  build: string | null;
  action: string;
  reason: string;
  result: { status: string; reason?: string } | null;
}
interface JsonReport {
  dryRun: boolean;
  resources: Row[];
  summary: { found: number; orphans: number; kept: number; removed: number; failed: number; skipped: number; untaggedIgnored: number };
  cleanedBuilds: string[];
  exitCode: number;
}

function parseReport(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

describe('kiln gc against the simulator', () => {
  const killed = `killed-${randomUUID().slice(0, 8)}`;
  const aborted = `aborted-${randomUUID().slice(0, 8)}`;
  const foreign = `foreign-${randomUUID().slice(0, 8)}`;
  const live = `live-${randomUUID().slice(0, 8)}`;
  const succeeded = `ok-${randomUUID().slice(0, 8)}`;

  /** A world of its own for each test (so that each passes or fails alone): every kind of leftover. */
  async function leftoversWorld(t: TestContext) {
    const world = await startGcWorld();
    t.after(() => world.close());
    const client = world.client();
    // A build killed while its server ran: status running, its lease held by a pid that is gone.
    const k = await makeLeftovers(client, killed, { running: true });
    recordBuild(world, killed, 'killed', { pid: await deadPid() });
    // `--on-error abort` after the image step failed: server stopped, snapshot and image kept.
    const a = await makeLeftovers(client, aborted, { snapshot: true, image: true });
    recordBuild(world, aborted, 'failed');
    // A build this store never saw: another machine's tags, a detached volume and an IP too.
    const f = await makeLeftovers(client, foreign, { running: true, snapshot: true });
    const foreignVolume = (await apiPost(world, 'fr-par-1', '/volumes', { name: `vol-${foreign}`, size: 10_000_000_000, volume_type: 'b_ssd', project: PROJECT, tags: kilnTags(foreign, 'server.create') })).volume!.id;
    const foreignIp = (await apiPost(world, 'fr-par-1', '/ips', { project: PROJECT, tags: kilnTags(foreign, 'server.create') })).ip!.id;
    // A live build: its lease is held by this very process.
    const l = await makeLeftovers(client, live, { running: true, snapshot: true });
    recordBuild(world, live, 'live');
    // A succeeded build whose artifact (snapshot and image) is the user's; its server is gone.
    const s = await makeLeftovers(client, succeeded, { snapshot: true, image: true });
    await client.deleteServer(s.serverId);
    await client.deleteVolume(s.rootVolumeId);
    recordBuild(world, succeeded, 'succeeded', { artifact: { imageId: s.imageId!, snapshotId: s.snapshotId! } });
    // Untagged look-alikes (a server, its volume, a snapshot): Packer-style names, no kiln tag.
    const look = await makeLeftovers(client, 'lookalike', { running: true, name: 'packer-6123abcd' });
    await client.updateServer(look.serverId, { tags: [] });
    await client.updateVolume(look.rootVolumeId, { name: 'packer-6123abcd-vol', tags: [] });
    const untaggedSnapshot = (await client.createSnapshot({ name: 'packer-6123abcd-snap', volume_id: look.rootVolumeId, tags: [] })).id;
    await waitForSnapshot(client, untaggedSnapshot);
    return { world, k, a, f, l, s, look, foreignVolume, foreignIp, untaggedSnapshot };
  }

  test('a dry run lists each orphan and why, keeps the rest, and changes nothing', { timeout: 240_000 }, async (t) => {
    const { world, k, a, f, l, s, look, untaggedSnapshot } = await leftoversWorld(t);
    const client = world.client();
    const before = await inventory(client);
    const statuses = () => {
      const store = world.openStore();
      try {
        return store.listBuilds().map((b) => `${b.id}:${b.status}`).sort();
      } finally {
        store.close();
      }
    };
    const statusesBefore = statuses();

    const run = await world.gc('--older-than', '0');
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.match(lines[0]!, /^TYPE\s+ID\s+NAME\s+BUILD\s+AGE\s+STATE\s+ACTION\s+REASON$/);
    const row = (id: string) => lines.find((line) => line.includes(id)) ?? '';
    assert.match(row(k.serverId), /running\s+delete\s+build killed-\S+ was killed: its process \(pid \d+ on this host\) is gone/);
    assert.match(row(k.rootVolumeId), /with server\s+goes with orphan server/);
    assert.match(row(a.imageId!), /delete\s+build aborted-\S+ failed/);
    assert.match(row(f.serverId), /delete\s+build foreign-\S+ is unknown to this store/);
    assert.match(row(f.snapshotId!), /keep\s+.*remove it with --build foreign-/);
    assert.match(row(l.serverId), /keep\s+live build: its lease is held by pid \d+ on this host/);
    assert.match(row(s.imageId!), /keep\s+artifact of build ok-/);
    for (const id of [look.serverId, look.rootVolumeId, untaggedSnapshot]) assert.equal(row(id), '', `untagged ${id} must not be listed`);
    assert.match(run.stdout, /Found 16 kiln resources in fr-par-1: 10 would be removed \(3 servers, 4 volumes, 1 snapshot, 1 image, 1 IP\), 6 kept\. Nothing was changed; run again with --force to remove them\./);

    assert.deepEqual(await inventory(client), before);
    assert.deepEqual(statuses(), statusesBefore);
    assert.ok(keyExists(world, killed) && keyExists(world, aborted));
  });

  test('--older-than is honoured: with the default 1h, resources made just now are all kept', { timeout: 240_000 }, async (t) => {
    const { world, k, look, untaggedSnapshot } = await leftoversWorld(t);
    const run = await world.gc('--json');
    assert.equal(run.code, 0, run.stderr);
    const report = parseReport(run.stdout);
    assert.equal(report.summary.orphans, 0);
    assert.equal(report.summary.found, 16);
    const killedServer = report.resources.find((r) => r.id === k.serverId)!;
    assert.equal(killedServer.action, 'keep');
    assert.match(killedServer.reason, /younger than --older-than 1h/);
    // Servers are listed by the kiln tag, so the untagged look-alike server is never seen; its
    // volume and the snapshot are, and are ignored.
    assert.equal(report.summary.untaggedIgnored, 2, 'the untagged volume and snapshot were seen and ignored');
    assert.ok(!report.resources.some((r) => [look.serverId, look.rootVolumeId, untaggedSnapshot].includes(r.id)));

    const bad = await world.gc('--older-than', 'soon');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--older-than "soon" is not a duration\. Use .* 90s, 30m, 2h/);
  });

  test('--force removes exactly the orphans, marks their builds cleaned and removes their keys', { timeout: 240_000 }, async (t) => {
    const { world, k, a, f, l, s, look, foreignVolume, foreignIp, untaggedSnapshot } = await leftoversWorld(t);
    const client = world.client();
    assert.equal((await world.gc('--older-than', '0')).code, 0, 'a dry run first');
    const run = await world.gc('--older-than', '0', '--force', '--json');
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = parseReport(run.stdout);
    assert.equal(report.dryRun, false);
    assert.deepEqual(
      { removed: report.summary.removed, failed: report.summary.failed, skipped: report.summary.skipped },
      { removed: 10, failed: 0, skipped: 0 },
    );
    for (const row of report.resources) {
      assert.equal(row.result?.status ?? 'kept', row.action === 'keep' ? 'kept' : 'removed', `${row.type} ${row.id}`);
    }
    assert.deepEqual([...report.cleanedBuilds].sort(), [aborted, killed].sort());

    const left = await inventory(client);
    const present = (id: string) => Object.values(left).some((list) => list.some((entry) => entry.startsWith(`${id}:`)));
    for (const id of [k.serverId, k.rootVolumeId, a.serverId, a.rootVolumeId, a.snapshotId!, a.imageId!, f.serverId, f.rootVolumeId, foreignVolume, foreignIp]) {
      assert.equal(present(id), false, `${id} should be gone`);
    }
    for (const id of [l.serverId, l.rootVolumeId, l.snapshotId!, s.snapshotId!, s.imageId!, f.snapshotId!, look.serverId, look.rootVolumeId, untaggedSnapshot]) {
      assert.equal(present(id), true, `${id} should remain`);
    }
    // The live server is still running: gc did not power it off.
    assert.equal((await client.getServer(l.serverId)).state, 'running');

    const store = world.openStore();
    try {
      assert.equal(store.getBuild(killed)?.status, 'cleaned');
      assert.equal(store.getBuild(aborted)?.status, 'cleaned');
      assert.equal(store.getBuild(live)?.status, 'running');
      assert.equal(store.getBuild(succeeded)?.status, 'succeeded');
      // gc gave back the leases it took while cleaning.
      assert.equal(store.getBuild(killed)?.lease, null);
      const runs = store.db.prepare('SELECT dry_run, found, removed, not_removed, cleaned_builds, exit_code, finished_at FROM gc_runs ORDER BY id').all() as {
        dry_run: number; found: string; removed: string; not_removed: string; cleaned_builds: string; exit_code: number; finished_at: string | null;
      }[];
      const last = runs.at(-1)!;
      assert.equal(last.dry_run, 0);
      assert.equal(last.exit_code, 0);
      assert.ok(last.finished_at);
      assert.equal((JSON.parse(last.found) as unknown[]).length, 16);
      const removed = JSON.parse(last.removed) as { id: string; build: string }[];
      assert.equal(removed.length, 10);
      assert.ok(removed.some((r) => r.id === a.imageId && r.build === aborted));
      assert.deepEqual(JSON.parse(last.not_removed), []);
      assert.ok(runs.some((r) => r.dry_run === 1), 'dry runs are recorded too');
    } finally {
      store.close();
    }
    assert.equal(keyExists(world, killed), false);
    assert.equal(keyExists(world, aborted), false);
    assert.equal(keyExists(world, live), true);
  });

  test('a second gc --force finds nothing to remove', { timeout: 240_000 }, async (t) => {
    const { world } = await leftoversWorld(t);
    const first = await world.gc('--older-than', '0', '--force');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /removed 10 of 10/);
    const run = await world.gc('--older-than', '0', '--force');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Found 6 kiln resources in fr-par-1: nothing to remove, 6 kept\./);
  });

  test('--build names a foreign build: its snapshot may then go, and nothing else is touched', { timeout: 240_000 }, async (t) => {
    const { world, f } = await leftoversWorld(t);
    // A gc of every orphan first: it keeps the foreign build's snapshot (an unknown build's may be an artifact).
    const first = await world.gc('--older-than', '0', '--force');
    assert.equal(first.code, 0, first.stderr);
    const dry = await world.gc('--build', foreign, '--json');
    assert.equal(dry.code, 0, dry.stderr);
    const plan = parseReport(dry.stdout);
    assert.deepEqual(plan.resources.map((r) => [r.id, r.action]), [[f.snapshotId, 'delete']]);
    const run = await world.gc('--build', foreign, '--force');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /removed 1 of 1 \(1 snapshot\), 0 failed, 0 skipped, 0 kept/);
    const after = await world.gc('--older-than', '0', '--json');
    assert.deepEqual(parseReport(after.stdout).resources.map((r) => r.build).sort(), [live, live, live, succeeded, succeeded].sort());
  });
});

describe('kiln gc usage errors', () => {
  test('exit 2 with a clear message', { timeout: 240_000 }, async () => {
    const world = await startGcWorld();
    after(() => world.close(), { timeout: 240_000 });
    const both = await world.gc('--zone', 'fr-par-1', '--all-zones');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--zone and --all-zones exclude each other/);
    const zone = await world.gc('--zone', 'mars-1');
    assert.equal(zone.code, 2);
    assert.match(zone.stderr, /"mars-1" is not a Scaleway zone/);
    const env = { ...world.env };
    delete env.SCW_SECRET_KEY;
    const noKey = await runKiln(['gc'], { env });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /no Scaleway secret key: set SCW_SECRET_KEY/);
  });
});

test('an API that refuses the key stops gc before any deletion, with exit 1 and the cause', { timeout: 240_000 }, async (t) => {
  const world = await startGcWorld({ token: 'a-different-token' });
  t.after(() => world.close());
  const run = await world.gc('--force', '--older-than', '0');
  assert.equal(run.code, 1);
  assert.match(run.stderr, /kiln gc: could not list the resources of fr-par-1: UnauthorizedError: .*Nothing was deleted\./);
  assert.equal(run.stderr.includes(world.env.SCW_SECRET_KEY!), false, 'the secret key is never printed');
  const store = world.openStore();
  try {
    const last = store.db.prepare('SELECT exit_code, finished_at FROM gc_runs ORDER BY id DESC LIMIT 1').get() as { exit_code: number; finished_at: string | null };
    assert.equal(last.exit_code, 1);
    assert.ok(last.finished_at);
  } finally {
    store.close();
  }
});
