// `kiln gc --force` as a newcomer runs it (issue 31): it prints each deletion as it ends with how
// far it is (n/total), and the first SIGINT stops it at a safe point — the deletions in flight
// finish, no new one starts — with a summary of what was removed and what is left, exit 130.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiPost, inventory, kilnTags, PROJECT, startGcWorld } from './fixtures.js';
import { spawnKiln } from '../helpers/cli.js';

const IPS = 40;

test('gc --force prints its progress, and SIGINT stops it with a summary of what is left', { timeout: 240_000 }, async (t) => {
  // Every IP deletion takes 5 s: with 8 in flight, 40 take five rounds, time enough for the signal.
  const world = await startGcWorld({ faults: { 'DELETE /ips/{id}': { slow: 1, slow_ms: 5_000 } } });
  t.after(() => world.close());
  const build = `gone-${randomUUID().slice(0, 8)}`; // a build this store never saw: its IPs are orphans
  for (let i = 0; i < IPS; i++) await apiPost(world, 'fr-par-1', '/ips', { project: PROJECT, tags: kilnTags(build, 'server.create') });

  const child = spawnKiln(['gc', '--force', '--older-than', '0'], { env: world.env });
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const firstProgress = new Promise<void>((resolve) =>
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (new RegExp(`removed ip \\S+ \\(1/${IPS}\\)`).test(stderr)) resolve();
    }),
  );
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await Promise.race([firstProgress, closed]);
  child.kill('SIGINT');
  const code = await closed;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT received: finishing the deletions in flight, starting no more/);
  const summary = new RegExp(`stopped by SIGINT: removed (\\d+) of ${IPS}; (\\d+) left untouched`).exec(stderr);
  assert.ok(summary, stderr);
  const [removed, left] = [Number(summary[1]), Number(summary[2])];
  assert.ok(left > 0 && removed + left === IPS, stderr);
  // What it says is what the cloud holds, and the table on stdout lists what was skipped.
  assert.equal((await inventory(world.client())).ips.length, left);
  assert.match(stdout, /skipped/);
});
