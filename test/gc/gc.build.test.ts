// The command `kiln build --on-error abort` suggests after a failure, on a real build's leftovers:
// `kiln gc --build <id> --force` removes its server and volume, marks it cleaned, removes its key;
// and on a build killed with SIGKILL, whose lease names a process that is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { runKiln, spawnKiln } from '../helpers/cli.js';
import { inventory, keyExists, startGcWorld, writeShellTemplate } from './fixtures.js';

test('kiln gc --build <id> --force cleans what an --on-error abort build kept', { timeout: 120_000 }, async (t) => {
  const world = await startGcWorld();
  t.after(() => world.close());
  const file = writeShellTemplate(world, 'fails.json', ['exit 3']);
  const build = await runKiln(['build', file, '--on-error', 'abort'], { env: world.env });
  assert.equal(build.code, 1, build.stderr);
  const store = world.openStore();
  const buildId = store.listBuilds()[0]!.id;
  store.close();
  assert.match(build.stdout + build.stderr, new RegExp(`kiln gc --build ${buildId} --force`));
  const kept = await inventory(world.client());
  assert.equal(kept.servers.length, 1, 'abort kept the server');
  assert.ok(keyExists(world, buildId), 'abort kept the key for resume');

  const gc = await world.gc('--build', buildId, '--force');
  assert.equal(gc.code, 0, gc.stderr + gc.stdout);
  assert.match(gc.stdout, new RegExp(`removed 2 of 2 \\(1 server, 1 volume\\), 0 failed, 0 skipped, 0 kept\\. Builds marked cleaned: ${buildId}\\.`));
  const left = await inventory(world.client());
  assert.deepEqual([left.servers, left.volumes, left.snapshots, left.images], [[], [], [], []]);
  assert.equal(keyExists(world, buildId), false);
  const after = world.openStore();
  try {
    assert.equal(after.getBuild(buildId)?.status, 'cleaned');
    const last = after.events(buildId).at(-1);
    assert.equal(last?.type, 'build.cleaned', 'the event log tells who cleaned the build');
  } finally {
    after.close();
  }
  const again = await world.gc('--build', buildId, '--force');
  assert.equal(again.code, 0);
  assert.match(again.stdout, /Found 0 kiln resources in fr-par-1: nothing to remove, 0 kept\./);
});

test('kiln gc --force cleans up after a build killed with SIGKILL mid-provisioning', { timeout: 120_000 }, async (t) => {
  const world = await startGcWorld();
  t.after(() => world.close());
  const file = writeShellTemplate(world, 'slow.json', ['echo provisioning', 'sleep 60']);
  const child = spawnKiln(['build', file], { env: world.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  // The provisioner's first line of output means the server runs and the build is mid-provisioning.
  let output = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    output += chunk as string;
    if (output.includes('provisioning')) break;
  }
  child.kill('SIGKILL');
  await exited;
  const store = world.openStore();
  const killed = store.listBuilds()[0]!;
  store.close();
  assert.equal(killed.status, 'running', 'a SIGKILLed build could not record its end');
  assert.equal(killed.lease?.pid, child.pid);

  const gc = await world.gc('--older-than', '0', '--force');
  assert.equal(gc.code, 0, gc.stderr + gc.stdout);
  assert.match(gc.stdout, new RegExp(`server .*running\\s+removed\\s+build ${killed.id} was killed: its process \\(pid ${child.pid} on this host\\) is gone`));
  assert.match(gc.stdout, /removed 2 of 2 \(1 server, 1 volume\)/);
  const left = await inventory(world.client());
  assert.deepEqual([left.servers, left.volumes], [[], []]);
  assert.equal(keyExists(world, killed.id), false);
});
