// gc re-checks every build's lease when it acts, not only when it plans: a build that came back
// to life between the plan and the removal (a real `kiln resume` process took its lease) keeps
// everything, and gc says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { resolveGcOptions } from '../../src/gc/options.js';
import { runGc } from '../../src/gc/index.js';
import { runKiln, spawnKiln } from '../helpers/cli.js';
import { inventory, startGcWorld, writeShellTemplate } from './fixtures.js';

/** Blocks this thread for `ms` (gc's lease claim is synchronous; the resume is another process). */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test('gc --force skips a build that a live kiln resume took over after the plan was made', { timeout: 120_000 }, async (t) => {
  const world = await startGcWorld();
  t.after(() => world.close());
  // Long enough that the resume is still provisioning (holding the lease) when gc acts.
  const file = writeShellTemplate(world, 'slow.json', ['echo provisioning', 'sleep 60']);
  const killed = await runKiln(['build', file], { env: { ...world.env, KILN_CRASH_AT: 'provisioner.started' } });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const store = world.openStore();
  t.after(() => store.close());
  const id = store.listBuilds()[0]!.id;
  const before = await inventory(world.client());
  assert.equal(before.servers!.length, 1);

  // The moment gc first claims the build to remove its resources — its plan made while the
  // build's process was gone — a `kiln resume` starts and takes the lease (its first step).
  let resume: ReturnType<typeof spawnKiln> | undefined;
  t.after(async () => {
    if (resume && resume.exitCode === null && resume.signalCode === null) {
      const exited = once(resume, 'exit');
      resume.kill('SIGKILL');
      await exited;
    }
  });
  const acquire = store.acquireLease.bind(store);
  store.acquireLease = (...args) => {
    if (!resume) {
      resume = spawnKiln(['resume', id], { env: world.env, stdio: 'ignore' });
      const deadline = Date.now() + 60_000;
      while (store.getBuild(id)?.lease?.pid !== resume.pid) {
        if (Date.now() > deadline) throw new Error('the resume did not take the lease within 60 s');
        pause(25);
      }
    }
    return acquire(...args);
  };
  const report = await runGc({ ...(await resolveGcOptions({ build: id, force: true }, world.env)), store });

  assert.ok(resume, 'gc claimed the build');
  assert.ok(report.items.length >= 2 && report.items.every((item) => item.action !== 'keep'), 'the plan was to remove the build’s server and volume');
  for (const result of report.results) {
    assert.equal(result?.status, 'skipped');
    assert.match(result!.reason ?? '', new RegExp(`build ${id} became live again since the plan was made \\(\\S+ pid ${resume.pid}\\)`));
  }
  assert.equal(report.exitCode, 1);
  assert.deepEqual(report.cleanedBuilds, []);
  assert.deepEqual(await inventory(world.client()), before, 'nothing was removed');
  assert.equal(store.getBuild(id)?.lease?.pid, resume.pid, 'the resume still holds its build');
});
