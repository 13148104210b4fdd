// `kiln resume`: what a resumed build shows (timeline), faults and a restarted simulator during a
// crash, provisioners run once, leases, a changed template, servers deleted by hand, signals.
// Every kill point is in the crash matrix (crash-matrix.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { timeline } from '../../src/view/index.js';
import { EventStore } from '../../src/store/index.js';
import { template as templateOf } from '../engine/harness.js';
import { runKiln, spawnKiln, startedBuildId, type KilnResult } from '../helpers/cli.js';
import { cloudOfBuild, terminateServerByHand } from '../helpers/cloud.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

let sim: Simulator;
let dir: string;
let client: ScalewayClient;

before(async () => {
  sim = await startTestSimulator();
  dir = mkdtempSync(join(tmpdir(), 'kiln-resume-'));
  client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
}, { timeout: 60_000 });
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

let n = 0;
function writeTemplate(extra: Record<string, unknown> = {}, provisioners?: unknown[]): string {
  const path = join(dir, `t${++n}.json`);
  writeFileSync(
    path,
    JSON.stringify(
      templateOf({ ssh_port: sim.sshPort, image_name: `crash-${n}`, snapshot_name: `crash-${n}`, ...extra }, provisioners ?? [
        { type: 'shell', inline: ['echo first >> /root/runs'] },
        { type: 'shell', inline: ['echo second >> /root/runs'] },
      ]),
    ),
  );
  return path;
}

function kiln(args: string[], env: Record<string, string> = {}, db: string): Promise<KilnResult> {
  return runKiln([...args, '--db', db], {
    env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, ...env },
  });
}

async function assertExactlyOneOfEverything(id: string): Promise<void> {
  const { servers, volumes, snapshots, images } = await cloudOfBuild(client, id);
  assert.deepEqual(
    { servers: servers.length, volumes: volumes.length, snapshots: snapshots.length, images: images.length },
    { servers: 0, volumes: 0, snapshots: 1, images: 1 },
    `build ${id}`,
  );
  assert.equal(images[0]!.root_volume?.id, snapshots[0]!.id);
}

/** Builds with a crash point, checks the kill, resumes, and checks the cloud and the log. */
async function crashAndResume(db: string, crashEnv: Record<string, string>, extraEnv: Record<string, string> = {}, between?: () => Promise<void>): Promise<string> {
  const template = writeTemplate();
  const crashed = await kiln(['build', '--json', template], { ...crashEnv, ...extraEnv }, db);
  assert.equal(crashed.signal, 'SIGKILL', `the build should have been killed: ${crashed.stderr}`);
  const id = startedBuildId(crashed);
  await between?.();
  const resumed = await kiln(['resume', id, '--json'], extraEnv, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  await assertExactlyOneOfEverything(id);
  // The log, read as `kiln show` reads it: the crash and the resume are on the timeline.
  const store = EventStore.open(db);
  try {
    const events = store.events(id);
    assert.equal(store.getBuild(id)!.status, 'succeeded');
    const marks = timeline(events).map((e) => e.name);
    assert.ok(marks.includes('crashed') && marks.includes('resumed'), marks.join(','));
    assert.equal(events.filter((e) => e.type === 'server.created').length, 1, 'one server, whatever the kill point');
    assert.equal(events.filter((e) => e.type === 'image.created').length, 1);
  } finally {
    store.close();
  }
  return id;
}

test('kiln show tells the crash and the resume', { timeout: 90_000 }, async () => {
  const db = join(dir, 'show.db');
  const id = await crashAndResume(db, { KILN_CRASH_AT: 'snapshot.created' });
  const show = await kiln(['show', id], {}, db);
  assert.match(show.stdout, /\[crashed\][\s\S]*\[resumed\][\s\S]*\[succeeded\]/);
});

// Three crash-and-resume runs through retried 5xx/429 answers: about 30 s on an idle 2-core machine.
test('crashes with the fault injection on still end with exactly one of everything', { timeout: 300_000 }, async () => {
  const faulty = await startTestSimulator({
    seed: 11,
    faults: { '*': { '5xx': 0.1, '429': 0.1, retry_after: 0 }, 'POST /servers': { ghost_create: 0.5 }, 'POST /images': { ghost_create: 0.5 } },
  });
  const saved = { sim, client };
  sim = faulty;
  client = new ScalewayClient({ apiUrl: faulty.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  try {
    for (const at of ['server.create.requested', 'provisioner.started:2', 'image.create.requested']) {
      await crashAndResume(join(dir, `faulty-${at.replace(/\W+/g, '_')}.db`), { KILN_CRASH_AT: at });
    }
  } finally {
    ({ sim, client } = saved);
    await faulty.close();
  }
});

test('the simulator restarted from its state dir while the build was down', { timeout: 120_000 }, async () => {
  const stateDir = join(dir, 'sim-state');
  let restartable = await startTestSimulator({ stateDir });
  const saved = { sim, client };
  const use = (s: Simulator) => {
    sim = s;
    client = new ScalewayClient({ apiUrl: s.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  };
  use(restartable);
  try {
    const port = new URL(restartable.apiUrl).port;
    const sshPort = restartable.sshPort;
    await crashAndResume(join(dir, 'restart.db'), { KILN_CRASH_AT: 'provisioner.succeeded:1' }, {}, async () => {
      await restartable.close();
      restartable = await startTestSimulator({ stateDir, port: Number(port), sshPort });
      use(restartable);
    });
  } finally {
    ({ sim, client } = saved);
    await restartable.close();
  }
});

test('a finished provisioner does not run again; the unfinished one does', { timeout: 90_000 }, async () => {
  const db = join(dir, 'provisioners.db');
  const template = writeTemplate({}, [
    { type: 'shell', inline: ['echo first >> /root/runs'] },
    { type: 'shell', inline: ['echo second >> /root/runs'] },
    { type: 'shell', inline: ['cat /root/runs'] },
  ]);
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'provisioner.started:2' }, db);
  assert.equal(crashed.signal, 'SIGKILL');
  const id = startedBuildId(crashed);
  const resumed = await kiln(['resume', id, '--json'], {}, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  const output = resumed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data: { lines?: { line: string }[] } })
    .filter((e) => e.type === 'provision.output')
    .flatMap((e) => e.data.lines!.map((l) => l.line));
  assert.deepEqual(output, ['first', 'second']);
});

test('kiln resume --from-provisioner N runs provisioning again from N; a bad N is refused', { timeout: 90_000 }, async () => {
  const db = join(dir, 'from-provisioner.db');
  const template = writeTemplate({}, [
    { type: 'shell', inline: ['echo p0 >> /root/runs'] },
    { type: 'shell', inline: ['echo p1 >> /root/runs'] },
    { type: 'shell', inline: ['cat /root/runs'] },
  ]);
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'provisioner.started:3' }, db);
  assert.equal(crashed.signal, 'SIGKILL');
  const id = startedBuildId(crashed);
  const bad = await kiln(['resume', id, '--from-provisioner', '3'], {}, db);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--from-provisioner 3: the build has provisioners 0 to 2/);
  const resumed = await kiln(['resume', id, '--json', '--from-provisioner', '1'], {}, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  const events = resumed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data: { lines?: { line: string }[]; fromProvisioner?: number } });
  assert.equal(events.find((e) => e.type === 'build.resumed')?.data.fromProvisioner, 1);
  // Provisioner 1 ran a second time (without the flag, only the unfinished 2 would have run).
  const output = events.filter((e) => e.type === 'provision.output').flatMap((e) => e.data.lines!.map((l) => l.line));
  assert.deepEqual(output, ['p0', 'p1', 'p1']);
  await assertExactlyOneOfEverything(id);
});

test('two resumes at once: one wins, the other is refused with the holder pid and host', { timeout: 90_000 }, async () => {
  const db = join(dir, 'lease.db');
  const template = writeTemplate();
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'provisioner.started:1' }, db);
  const id = startedBuildId(crashed);
  // Before the resume, `kiln ls` tells a build whose process is gone from a live one.
  const ls = JSON.parse((await kiln(['ls', '--json'], {}, db)).stdout) as { id: string; status: string; alive?: boolean }[];
  assert.deepEqual(ls.map((b) => [b.id, b.status, b.alive]), [[id, 'running', false]]);
  assert.match((await kiln(['ls'], {}, db)).stdout, /running \(process gone: kiln resume\)/);
  const [a, b] = await Promise.all([kiln(['resume', id], {}, db), kiln(['resume', id], {}, db)]);
  const codes = [a.code, b.code].sort();
  assert.deepEqual(codes, [0, 1], a.stderr + b.stderr);
  const refused = a.code === 1 ? a : b;
  assert.match(refused.stderr, /is being run by process \d+ on \S+/);
  await assertExactlyOneOfEverything(id);
});

test('a changed template is refused unless --force', { timeout: 90_000 }, async () => {
  const db = join(dir, 'changed.db');
  const template = writeTemplate();
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'server.created' }, db);
  const id = startedBuildId(crashed);
  writeFileSync(template, JSON.stringify({ ...JSON.parse(String(await import('node:fs').then((fs) => fs.readFileSync(template)))), description: 'edited' }));
  const refused = await kiln(['resume', id], {}, db);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /changed since build .* started.*--force/);
  const forced = await kiln(['resume', id, '--force'], {}, db);
  assert.equal(forced.code, 0, forced.stderr);
  await assertExactlyOneOfEverything(id);
});

test('a server deleted by hand after provisioning began: the resume fails clearly and names gc', { timeout: 90_000 }, async () => {
  const db = join(dir, 'deleted.db');
  const template = writeTemplate();
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'provisioner.succeeded:1' }, db);
  const id = startedBuildId(crashed);
  const serverId = await terminateServerByHand(client, id);
  const resumed = await kiln(['resume', id], {}, db);
  assert.equal(resumed.code, 1);
  assert.match(resumed.stderr, new RegExp(`server ${serverId} was deleted outside kiln`));
  assert.match(resumed.stderr, new RegExp(`kiln gc --build ${id} --force`));
});

test('kiln resume redrives a build that failed with --on-error abort, once the cause is fixed', { timeout: 90_000 }, async () => {
  const db = join(dir, 'redrive.db');
  const path = join(dir, 'redrive.json');
  writeFileSync(
    path,
    JSON.stringify({
      variables: { code: '0' },
      builders: [{ type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: sim.sshPort, image_name: 'redrive', snapshot_name: 'redrive' }],
      provisioners: [{ type: 'shell', inline: ['echo exiting with {{user `code`}}', 'exit {{user `code`}}'] }],
    }),
  );
  const failed = await kiln(['build', path, '--json', '--on-error', 'abort', '--var', 'code=4'], {}, db);
  assert.equal(failed.code, 1, failed.stderr);
  const id = startedBuildId(failed);
  const resumed = await kiln(['resume', id, '--var', 'code=0'], {}, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /Build resumed at provision/);
  await assertExactlyOneOfEverything(id);
});

// Slow the first time only: the run is interrupted in it, and the next one gets through quickly.
const SLOW_ONCE = { type: 'shell', inline: ['if [ -f /root/once ]; then echo second-run; exit 0; fi', 'touch /root/once', 'echo first-run', 'sleep 30'] };

/** Runs kiln until its output shows `marker`, sends `signal`, and collects how it ended. */
async function interruptAt(args: string[], marker: string, signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnKiln(args, {
    env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT },
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  await new Promise<void>((resolve) =>
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (stdout.includes(marker)) resolve();
    }),
  );
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.kill(signal);
  return { code: await closed, stdout, stderr };
}

test('Ctrl-C, then resume: the build continues from the interrupted provisioner', { timeout: 90_000 }, async () => {
  const db = join(dir, 'signals.db');
  const template = writeTemplate({}, [SLOW_ONCE]);
  const interrupted = await interruptAt(['build', '--db', db, template], 'first-run', 'SIGINT');
  assert.equal(interrupted.code, 130, interrupted.stderr);
  const id = /Build (\S+) started/.exec(interrupted.stdout)![1]!;
  const resumed = await kiln(['resume', id], {}, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /second-run/);
  await assertExactlyOneOfEverything(id);
});

test('an interrupted kiln resume exits 130 (SIGTERM), and resuming again finishes the build', { timeout: 90_000 }, async () => {
  const db = join(dir, 'resume-sigterm.db');
  const template = writeTemplate({}, [SLOW_ONCE]);
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'provisioner.started' }, db);
  assert.equal(crashed.signal, 'SIGKILL');
  const id = startedBuildId(crashed);
  const interrupted = await interruptAt(['resume', id, '--db', db], 'first-run', 'SIGTERM');
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.match(interrupted.stderr, /SIGTERM received: stopping at the next safe point/);
  assert.match(interrupted.stderr, new RegExp(`continue: +kiln resume ${id}`));
  const again = await kiln(['resume', id], {}, db);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /second-run/);
  await assertExactlyOneOfEverything(id);
});

test('a server deleted by hand before provisioning began is created anew on resume', { timeout: 90_000 }, async () => {
  const db = join(dir, 'recreate.db');
  const template = writeTemplate();
  const crashed = await kiln(['build', '--json', template], { KILN_CRASH_AT: 'server.running' }, db);
  assert.equal(crashed.signal, 'SIGKILL');
  const id = startedBuildId(crashed);
  const serverId = await terminateServerByHand(client, id);
  const resumed = await kiln(['resume', id], {}, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`server ${serverId} was deleted outside kiln before provisioning; creating a new one`));
  await assertExactlyOneOfEverything(id);
  const store = EventStore.open(db);
  try {
    const created = store.events(id).filter((e) => e.type === 'server.created').map((e) => e.data.serverId);
    assert.equal(created.length, 2);
    assert.equal(created[0], serverId);
    assert.notEqual(created[1], serverId);
  } finally {
    store.close();
  }
});

test('a second Ctrl-C exits at once, even mid-create; the create that lands afterwards is found, not repeated', { timeout: 90_000 }, async () => {
  // Every server create is answered 2.5 s late: the first Ctrl-C must wait for it (no safe point).
  const slow = await startTestSimulator({ faults: { 'POST /servers': { slow: 1, slow_ms: 2500 } } });
  const saved = { sim, client };
  sim = slow;
  client = new ScalewayClient({ apiUrl: slow.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  try {
    const db = join(dir, 'double-sigint.db');
    const template = writeTemplate();
    const child = spawnKiln(['build', '--json', '--db', db, template], {
      env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT },
    });
    let stdout = '';
    let stderr = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        if (stdout.includes('"server.create.requested"')) resolve();
      }),
    );
    const firstHandled = new Promise<void>((resolve) =>
      child.stderr!.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        if (stderr.includes('stopping at the next safe point')) resolve();
      }),
    );
    child.kill('SIGINT');
    await firstHandled;
    child.kill('SIGINT');
    assert.equal(await closed, 130, stderr);
    assert.match(stderr, /second SIGINT: exiting now/);
    const id = (JSON.parse(stdout.split('\n')[0]!) as { buildId: string }).buildId;
    assert.ok(!stdout.includes('"server.created"'), 'the process left before the create was answered');

    const resumed = await kiln(['resume', id, '--json'], {}, db);
    assert.equal(resumed.code, 0, resumed.stderr);
    await assertExactlyOneOfEverything(id);
    const created = resumed.stdout.split('\n').filter((l) => l.includes('"server.created"')).map((l) => JSON.parse(l) as { data: { reconciled?: boolean } });
    assert.equal(created.length, 1);
    assert.equal(created[0]!.data.reconciled, true, 'found by its tags once it landed');
    assert.equal(slow.requestCounts()['POST /servers'], 1, 'never created twice');
  } finally {
    ({ sim, client } = saved);
    await slow.close();
  }
});
