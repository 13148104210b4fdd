// `kiln build`, `kiln ls`, `kiln show` as a user runs them: child processes, the embedded simulator (--sim).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventStore } from '../../src/store/index.js';
import { cliArgv, runKiln, spawnKiln } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

// The repository's example, from sources (test/cli-build) or from dist (dist/test/cli-build).
const examplePath = [new URL('../../examples/basic.json', import.meta.url), new URL('../../../examples/basic.json', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p))!;

function tempDb(t: { after: (fn: () => void) => void }): { dir: string; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, db: join(dir, 'kiln.db') };
}

/** Writes a one-builder template whose single shell provisioner runs `inline`; returns its path. */
function shellTemplate(dir: string, name: string, inline: string[], extra: Record<string, unknown> = {}): string {
  const path = join(dir, name);
  const builder = { type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ...extra };
  writeFileSync(path, JSON.stringify({ builders: [builder], provisioners: [{ type: 'shell', inline }] }));
  return path;
}

test('kiln build --sim examples/basic.json: the build id first, then progress, then the artifact; ls and show agree', { timeout: 120_000 }, async (t) => {
  const { db } = tempDb(t);
  const r = await runKiln(['build', '--sim', '--db', db, examplePath]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const lines = r.stdout.trim().split('\n');
  const id = /Build (\S+) started/.exec(lines[0]!)?.[1];
  assert.ok(id, `first line names the build: ${lines[0]}`);
  assert.match(r.stdout, /==> Builds finished\. The artifacts of successful builds are:\n--> scaleway: An image was created: '[^']+' \(ID: [0-9a-f-]{36}\) in zone 'fr-par-1' based on snapshot '[^']+' \(ID: [0-9a-f-]{36}\)/);
  const imageId = /An image was created: '[^']+' \(ID: ([0-9a-f-]{36})\)/.exec(r.stdout)![1];

  const ls = await runKiln(['ls', '--json', '--db', db]);
  assert.equal(ls.code, 0, ls.stderr);
  const builds = JSON.parse(ls.stdout) as { id: string; status: string; imageId: string }[];
  assert.deepEqual(builds.map((b) => [b.id, b.status, b.imageId]), [[id, 'succeeded', imageId]]);

  const show = await runKiln(['show', id!, '--json', '--db', db]);
  const body = JSON.parse(show.stdout) as { timeline: { name: string; status: string }[]; resources: { kind: string; fate: string }[] };
  assert.ok(body.timeline.filter((e) => e.name === 'provision').length === 2);
  assert.deepEqual(
    body.resources.map((x) => `${x.kind}:${x.fate}`).sort(),
    ['image:kept', 'server:deleted', 'snapshot:kept', 'volume:deleted'],
  );
  const human = await runKiln(['show', id!, '--db', db]);
  assert.match(human.stdout, /Timeline[\s\S]*server\.wait_running[\s\S]*Resources[\s\S]*Artifact/);
});

test('kiln build --json prints one JSON object per event, then the artifact', { timeout: 120_000 }, async (t) => {
  const { db } = tempDb(t);
  const r = await runKiln(['build', '--sim', '--json', '--db', db, examplePath]);
  assert.equal(r.code, 0, r.stderr);
  const objects = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(objects[0]!.type, 'build.started');
  const id = objects[0]!.buildId;
  const events = objects.slice(0, -1);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'every event, in order');
  assert.ok(events.every((e) => e.buildId === id && typeof e.at === 'string' && 'phase' in e));
  const artifact = objects.at(-1)!;
  assert.equal(artifact.type, 'artifact');
  assert.match(String(artifact.imageId), /^[0-9a-f-]{36}$/);
  assert.equal(artifact.zone, 'fr-par-1');
  // The simulator's token is the template's sensitive default: it must not be printed.
  assert.ok(!r.stdout.includes('00000000-0000-4000-8000-000000000000'));
});

test('an invalid template exits 2 and says what is wrong, where', { timeout: 60_000 }, async (t) => {
  const { dir, db } = tempDb(t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ builders: [{ type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1' }] }));
  const r = await runKiln(['build', '--sim', '--db', db, bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /commercial_type/);
});

test('--on-error abort: a failed build exits 1, keeps its resources and names resume and gc', { timeout: 120_000 }, async (t) => {
  const { dir, db } = tempDb(t);
  // A simulator of its own: what an embedded one (--sim) keeps ends with the command.
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const failing = shellTemplate(dir, 'failing.json', ['echo broken on purpose >&2', 'exit 7'], { ssh_port: sim.sshPort });
  const env = { ...process.env, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: '7c0ffee0-1234-4abc-8def-0123456789ab', SCW_DEFAULT_PROJECT_ID: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' };
  const r = await runKiln(['build', '--on-error', 'abort', '--db', db, failing], { env });
  assert.equal(r.code, 1, r.stderr);
  const id = /Build (\S+) started/.exec(r.stdout)![1]!;
  assert.match(r.stderr, new RegExp(`failed in provision`));
  assert.match(r.stderr, new RegExp(`kiln resume ${id}`));
  assert.match(r.stderr, new RegExp(`kiln gc --build ${id} --force`));
  assert.match(r.stdout, /broken on purpose/, 'provisioner output is streamed');
  const ls = JSON.parse((await runKiln(['ls', '--json', '--status', 'failed', '--db', db], { env })).stdout) as { id: string }[];
  assert.deepEqual(ls.map((b) => b.id), [id]);
});

test('the first SIGINT stops at a safe point: exit 130; a --sim build ends with its simulator and offers only what works', { timeout: 120_000 }, async (t) => {
  const { dir, db } = tempDb(t);
  const slow = shellTemplate(dir, 'slow.json', ['echo provisioning-started', 'sleep 30']);
  const child = spawnKiln(['build', '--sim', '--db', db, slow]);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  await new Promise<void>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (stdout.includes('provisioning-started')) resolve();
    });
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 130, stderr);
  const id = /Build (\S+) started/.exec(stdout)![1]!;
  assert.match(stderr, /interrupted during provision/);
  // Its cloud died with the process: no `kiln resume` or `kiln gc` that would reach another API.
  assert.match(stderr, /ran against the simulator embedded in `kiln build --sim`, which ended with that command[\s\S]*`kiln sim --state-dir <dir>`/);
  assert.doesNotMatch(stderr, new RegExp(`kiln resume ${id}|kiln gc --build`));
  const show = JSON.parse((await runKiln(['show', id, '--json', '--db', db])).stdout) as { build: { status: string; phase: string } };
  assert.equal(show.build.status, 'cleaned', 'a final state, not interrupted forever');
  assert.equal(show.build.phase, 'provision');
});

test('--on-error ask without a terminal cleans up, and says so', { timeout: 120_000 }, async (t) => {
  const { dir, db } = tempDb(t);
  const failing = shellTemplate(dir, 'failing.json', ['exit 9']);
  const r = await runKiln(['build', '--sim', '--on-error', 'ask', '--db', db, failing]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--on-error ask needs a terminal; cleaning up on failure instead/);
  assert.match(r.stderr, /Everything the build created was removed/);
});

// util-linux `script` runs kiln on a pseudo-terminal, so the prompt is the one a user sees.
const noScript = existsSync('/usr/bin/script') ? false : '/usr/bin/script (util-linux) is not installed: no pseudo-terminal to run kiln on';

test('--on-error ask on a terminal: retry runs the failed phase again, abort keeps everything (until the embedded simulator ends)', { timeout: 120_000, skip: noScript }, async (t) => {
  const { dir, db } = tempDb(t);
  const failing = shellTemplate(dir, 'failing.json', ['echo attempt', 'exit 9']);
  const command = [process.execPath, ...cliArgv(['build', '--sim', '--on-error', 'ask', '--db', db, failing])].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let screen = '';
  const answers = ['r', 'a'];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    const prompts = screen.split('[r]etry the phase, [c]lean up, or [a]bort').length - 1;
    // One answer per prompt, in order: retry the first time, abort the second.
    while (answers.length > 0 && prompts > 2 - answers.length) child.stdin!.write(`${answers.shift()}\n`);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 1, screen.slice(-2000));
  // --sim: what abort kept ends with the command, which says so rather than offer a resume.
  const id = /build (\S+) ran against the simulator embedded in `kiln build --sim`/.exec(screen)![1]!;
  const events = JSON.parse((await runKiln(['show', id, '--json', '--events', '--db', db])).stdout) as { events: { type: string }[] };
  const types = events.events.map((e) => e.type);
  assert.equal(types.filter((type) => type === 'provisioner.started').length, 2, 'the failed provisioner ran twice');
  assert.ok(!types.includes('cleanup.started'), 'abort cleaned nothing up');
});

test('--parallel-builds N runs at most N builds at once, and N do run at once', { timeout: 180_000 }, async (t) => {
  const { dir } = tempDb(t);
  const path = join(dir, 'three.json');
  const builder = { type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root' };
  writeFileSync(
    path,
    JSON.stringify({
      builders: ['a', 'b', 'c'].map((name) => ({ ...builder, name, image_name: `par-${name}-{{timestamp}}`, snapshot_name: `par-${name}-{{timestamp}}` })),
      provisioners: [{ type: 'shell', inline: ['echo building'] }],
    }),
  );
  /** The most builds running at once, from the store's global append order (first phase → end). */
  const mostAtOnce = (db: string): number => {
    const opened = EventStore.open(db);
    try {
      const rows = opened.db.prepare('SELECT build_id, type FROM events ORDER BY rowid').all() as { build_id: string; type: string }[];
      const running = new Set<string>();
      let most = 0;
      for (const row of rows) {
        if (row.type === 'phase.started') running.add(row.build_id);
        if (row.type === 'build.succeeded' || row.type === 'build.failed') running.delete(row.build_id);
        most = Math.max(most, running.size);
      }
      return most;
    } finally {
      opened.close();
    }
  };
  for (const n of [2, 1]) {
    const db = join(dir, `parallel-${n}.db`);
    const r = await runKiln(['build', '--sim', '--json', '--parallel-builds', String(n), '--db', db, path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.includes('"type":"artifact"')).length, 3, 'three artifacts');
    assert.equal(mostAtOnce(db), n, `--parallel-builds ${n}`);
  }
});
