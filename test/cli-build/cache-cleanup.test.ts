// The build cache's cleanup as a user runs it (issue 24): `kiln cache ls` (this store's checkpoints,
// and a teammate's found by tag), `kiln cache rm` (dry run, then the image and every snapshot gone),
// `kiln gc --cache --keep N` and --older-than, a checkpoint a live build started from never
// removed, plain `kiln gc` leaving checkpoints alone; on SQLite, and once on PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, ScalewayClient } from '../../src/scaleway/index.js';
import { openStore, resolveStoreLocation } from '../../src/store/index.js';
import { template } from '../engine/harness.js';
import { runKiln, spawnKiln, startedBuildId, type KilnResult } from '../helpers/cli.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '0c1ea4ed-1234-4abc-8def-0123456789ab';
const PROJECT = '2b3c4d5e-6f70-4a81-9c0d-1e2f3a4b5c6d';

interface Listed {
  key: string;
  imageId: string | null;
  snapshots: { id: string; api?: string }[];
  template: string | null;
  provisionerIndex: number | null;
  hits: number;
  savedMs: number | null;
  foundIn: string;
  status: string;
  usedBy: string[];
}

describe('kiln cache ls / rm, kiln gc --cache', () => {
  let sim: Simulator;
  let dir: string;
  let client: ScalewayClient;
  let n = 0;
  before(async () => {
    sim = await startTestSimulator();
    dir = mkdtempSync(join(tmpdir(), 'kiln-cache-cleanup-'));
    client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  }, { timeout: 60_000 });
  after(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  const env = (db: string) => ({ PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, SCW_CONFIG_PATH: join(dir, 'none.yaml'), KILN_DB: db });
  const kilnOn = (db: string) => (args: string[]) => runKiln(args, { env: env(db) });
  const templateOf = (first: string, last: string) => {
    const path = join(dir, `t${++n}.json`);
    const provisioners = [{ type: 'shell', inline: [`echo ${first} >> /root/counter`] }, { type: 'shell', inline: [last] }];
    writeFileSync(path, JSON.stringify(template({ ssh_port: sim.sshPort, image_name: `cleanup-${n}` }, provisioners)));
    return path;
  };
  const json = <T>(r: KilnResult): T => {
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const checkpointMade = (r: KilnResult) => {
    assert.equal(r.code, 0, r.stderr);
    const made = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> }).find((e) => e.type === 'checkpoint.made');
    assert.ok(made, 'the build made a checkpoint');
    return { key: String(made.data.key), imageId: String(made.data.imageId), snapshots: made.data.snapshots as { id: string }[] };
  };
  const gone = async (look: () => Promise<unknown>) => {
    try {
      await look();
      return false;
    } catch (error) {
      if (error instanceof NotFoundError) return true;
      throw error;
    }
  };
  const exists = async (c: { imageId: string; snapshots: { id: string }[] }) => {
    const image = !(await gone(() => client.getImage(c.imageId)));
    const snapshots = await Promise.all(c.snapshots.map(async (s) => !(await gone(() => client.getSnapshot(s.id)))));
    return { image, snapshots };
  };

  test('cache ls shows the checkpoint, its hits and a teammate sees it by tag; rm is a dry run, then removes image and snapshots; plain gc leaves it', { timeout: 300_000 }, async () => {
    const db = join(dir, 'ls.db');
    const kiln = kilnOn(db);
    const made = checkpointMade(await kiln(['build', '--json', '--checkpoint-after', '0', templateOf('a', 'echo one > /root/last')]));
    const hit = await kiln(['build', '--json', templateOf('a', 'echo two > /root/last')]);
    assert.equal(hit.code, 0, hit.stderr);

    const listed = json<Listed[]>(await kiln(['cache', 'ls', '--json']));
    assert.equal(listed.length, 1, JSON.stringify(listed));
    const entry = listed[0]!;
    assert.equal(entry.key, made.key);
    assert.equal(entry.imageId, made.imageId);
    assert.deepEqual(entry.snapshots.map((s) => s.id).sort(), made.snapshots.map((s) => s.id).sort());
    assert.equal(entry.provisionerIndex, 0);
    assert.match(String(entry.template), /t1\.json$/);
    assert.equal(entry.hits, 1);
    assert.equal(entry.foundIn, 'both');
    assert.equal(typeof entry.savedMs, 'number');
    const table = await kiln(['cache', 'ls']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /KEY\s+TEMPLATE\s+PROVISIONER\s+AGE\s+SIZE\s+HITS\s+SAVED/);
    assert.match(table.stdout, new RegExp(`${made.key.slice(0, 12)}\\s+t1\\.json \\(\\S+\\)\\s+0 \\(shell\\).*\\s1\\s.*${made.imageId}\\s+available`));

    // A teammate with an empty store sees it by its tags.
    const teammate = json<Listed[]>(await kilnOn(join(dir, 'teammate.db'))(['cache', 'ls', '--json']));
    assert.deepEqual(teammate.map((e) => [e.key, e.imageId, e.foundIn]), [[made.key, made.imageId, 'cloud']]);

    // Plain gc never takes a checkpoint for an orphan.
    const gc = await kiln(['gc', '--older-than', '0', '--force']);
    assert.equal(gc.code, 0, gc.stdout + gc.stderr);
    assert.deepEqual(await exists(made), { image: true, snapshots: made.snapshots.map(() => true) });

    // rm: a name that matches nothing is refused; a dry run changes nothing; --force removes the image and its snapshots.
    const unknown = await kiln(['cache', 'rm', 'no-such-key']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /"no-such-key" names no checkpoint: give a key .* or an image id from `kiln cache ls`/);
    const dry = await kiln(['cache', 'rm', made.imageId]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /1 checkpoint would be removed with 1 snapshot\(s\), 0 kept\. Nothing was changed; run again with --force/);
    assert.deepEqual(await exists(made), { image: true, snapshots: made.snapshots.map(() => true) });
    const removed = json<{ resources: { type: string; id: string; result: { status: string } }[] }>(await kiln(['cache', 'rm', made.key.slice(0, 12), '--force', '--json']));
    assert.deepEqual(removed.resources.map((r) => [r.type, r.result.status]).sort(), [['image', 'removed'], ...made.snapshots.map(() => ['snapshot', 'removed'])].sort());
    assert.deepEqual(await exists(made), { image: false, snapshots: made.snapshots.map(() => false) });
    assert.deepEqual(json<Listed[]>(await kiln(['cache', 'ls', '--json'])), []);
    // Recorded as a gc run, as every removal kiln gc makes.
    const store = await openStore(resolveStoreLocation(db));
    try {
      const runs = await store.gcRuns();
      assert.equal(runs.at(-1)?.removed.length, 1 + made.snapshots.length);
    } finally {
      await store.close();
    }
    // The next build does not start from it: a full build that says why.
    const after = await kiln(['build', '--color=false', '--explain-cache', templateOf('a', 'echo three > /root/last')]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stderr, /after provisioner 0: miss/);
  });

  test('gc --cache: --keep 1 keeps the newest per template and provisioner, a live build keeps the one it started from, --older-than spares the young', { timeout: 300_000 }, async () => {
    const db = join(dir, 'gc.db');
    const kiln = kilnOn(db);
    // One template file, edited between builds: two checkpoints after provisioner 0, of two keys.
    const path = join(dir, 'edited.json');
    const write = (first: string, last: string) =>
      writeFileSync(path, JSON.stringify(template({ ssh_port: sim.sshPort, image_name: 'edited-{{timestamp}}' }, [{ type: 'shell', inline: [`echo ${first} >> /root/counter`] }, { type: 'shell', inline: [last] }])));
    write('old', 'true');
    const older = checkpointMade(await kiln(['build', '--json', '--checkpoint-after', '0', path]));
    write('new', 'true');
    const newer = checkpointMade(await kiln(['build', '--json', '--checkpoint-after', '0', path]));

    const young = await kiln(['gc', '--cache']);
    assert.equal(young.code, 0, young.stderr);
    assert.match(young.stdout, /nothing to remove \(2 checkpoints kept\)/);

    const keep = json<{ checkpoints: { key: string; action: string; reason: string }[] }>(await kiln(['gc', '--cache', '--keep', '1', '--json']));
    assert.deepEqual(keep.checkpoints.map((c) => [c.key, c.action]), [[newer.key, 'keep'], [older.key, 'delete']]);

    // A build starts from the older checkpoint and is still running (a slow last provisioner).
    write('old', 'sleep 600');
    const live = spawnKiln(['build', '--json', path], { env: env(db) });
    try {
      await waitFor(async () => {
        const store = await openStore(resolveStoreLocation(db));
        try {
          const running = await store.listBuilds({ status: 'running' });
          return (await Promise.all(running.map((b) => store.lastEvent(b.id, 'provisioner.started')))).some((e) => e?.data.index === 1 || e?.data.provisionerIndex === 1);
        } finally {
          await store.close();
        }
      });
      const spared = await kiln(['gc', '--cache', '--older-than', '0', '--force']);
      assert.equal(spared.code, 0, spared.stdout + spared.stderr);
      assert.match(spared.stdout, /in use by live build \S+: never removed while it runs/);
      assert.deepEqual(await exists(older), { image: true, snapshots: older.snapshots.map(() => true) });
      assert.deepEqual(await exists(newer), { image: false, snapshots: newer.snapshots.map(() => false) });
    } finally {
      live.kill('SIGINT');
      await new Promise((resolve) => live.once('close', resolve));
    }
    // Once the build is over, nothing holds it.
    const rest = await kiln(['gc', '--cache', '--older-than', '0', '--force']);
    assert.equal(rest.code, 0, rest.stdout + rest.stderr);
    assert.deepEqual(await exists(older), { image: false, snapshots: older.snapshots.map(() => false) });
  });

  test('bad flags: exit 2 with what to give instead', { timeout: 120_000 }, async () => {
    const kiln = kilnOn(join(dir, 'flags.db'));
    const keepAlone = await kiln(['gc', '--keep', '2']);
    assert.equal(keepAlone.code, 2, keepAlone.stderr);
    assert.match(keepAlone.stderr, /--keep counts checkpoints: it goes with --cache/);
    const negative = await kiln(['gc', '--cache', '--keep', '-1']);
    assert.equal(negative.code, 2, negative.stderr);
    assert.match(negative.stderr, /--keep -1 is not a count/);
    const age = await kiln(['gc', '--cache', '--older-than', 'a week']);
    assert.equal(age.code, 2, age.stderr);
    assert.match(age.stderr, /--older-than "a week" is not a duration\. Use a number with a unit, such as 7d/);
    const noName = await kiln(['cache', 'rm']);
    assert.equal(noName.code, 2, noName.stderr);
    assert.match(noName.stderr, /name at least one checkpoint, by its key .* or its image id; `kiln cache ls` lists them/);
  });

  test('an SBS checkpoint: cache rm --force removes its image and both Block snapshots (root and extra volume)', { timeout: 300_000 }, async () => {
    const kiln = kilnOn(join(dir, 'sbs.db'));
    const path = join(dir, 'sbs.json');
    const builder = {
      ...(template({ ssh_port: sim.sshPort, image_name: 'sbs-{{timestamp}}' }, []) as { builders: Record<string, unknown>[] }).builders[0],
      commercial_type: 'PRO2-XXS',
      root_volume: { type: 'sbs_volume', size_in_gb: 20 },
      block_volume: [{ name: 'data', size_in_gb: 10 }],
    };
    writeFileSync(path, JSON.stringify({ builders: [builder], provisioners: [{ type: 'shell', inline: ['echo a > /root/a'] }, { type: 'shell', inline: ['true'] }] }));
    const made = checkpointMade(await kiln(['build', '--json', '--checkpoint-after', '0', path]));
    const listed = json<Listed[]>(await kiln(['cache', 'ls', '--json'])).find((e) => e.key === made.key);
    assert.deepEqual(listed?.snapshots.map((s) => s.api), ['block', 'block']);
    const removed = await kiln(['cache', 'rm', made.key, '--force']);
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.ok(await gone(() => client.getImage(made.imageId)), 'the checkpoint image is gone');
    for (const s of listed!.snapshots) assert.ok(await gone(() => client.block.getSnapshot(s.id)), `block snapshot ${s.id} is gone`);
  });

  test('PostgreSQL: cache ls and gc --cache --force', { timeout: 300_000, skip: postgresUnavailableReason() }, async (t) => {
    const db = await testDatabase(t);
    const kiln = kilnOn(db);
    const made = checkpointMade(await kiln(['build', '--json', '--checkpoint-after', '0', templateOf('pg', 'true')]));
    const listed = json<Listed[]>(await kiln(['cache', 'ls', '--json']));
    assert.ok(listed.some((e) => e.key === made.key && e.foundIn === 'both'), JSON.stringify(listed));
    const removed = await kiln(['gc', '--cache', '--older-than', '0', '--force']);
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.deepEqual(await exists(made), { image: false, snapshots: made.snapshots.map(() => false) });
    assert.ok(!json<Listed[]>(await kiln(['cache', 'ls', '--json'])).some((e) => e.key === made.key));
  });
});

async function waitFor(check: () => Promise<boolean>, limitMs = 200_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for the live build to reach its last provisioner');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
