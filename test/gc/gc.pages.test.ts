// Discovery reads every page of every list (the API gives at most 100 per page) and, with
// --all-zones, every zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiPost, kilnTags, PROJECT, startGcWorld } from './fixtures.js';

test('every page is read, and --all-zones reaches other zones', { timeout: 120_000 }, async (t) => {
  const world = await startGcWorld();
  t.after(() => world.close());
  const ips: string[] = [];
  // More than one page (100) of a build another machine ran; no creation date on IPs, so only
  // --older-than 0 takes them (their age is unknown).
  for (let i = 0; i < 130; i++) {
    ips.push((await apiPost(world, 'fr-par-1', '/ips', { project: PROJECT, tags: kilnTags('far-away', 'server.create') })).ip!.id);
  }
  const amsIp = (await apiPost(world, 'nl-ams-1', '/ips', { project: PROJECT, tags: kilnTags('far-away', 'server.create') })).ip!.id;
  await apiPost(world, 'fr-par-1', '/ips', { project: PROJECT, tags: ['packer'] });

  const cautious = JSON.parse((await world.gc('--json')).stdout) as { summary: { found: number; orphans: number } };
  assert.deepEqual([cautious.summary.found, cautious.summary.orphans], [130, 0]);

  const one = await world.gc('--older-than', '0', '--force');
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /Found 130 kiln resources in fr-par-1: removed 130 of 130 \(130 IPs\)/);
  const listed = await world.client().listIps();
  assert.deepEqual(listed.filter((ip) => ips.includes(ip.id)), []);
  assert.equal(listed.length, 1, 'the untagged IP stays');

  const all = await world.gc('--older-than', '0', '--force', '--all-zones');
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, new RegExp(`ip\\s+nl-ams-1\\s+${amsIp}\\s`));
  assert.match(all.stdout, /Found 1 kiln resource in 9 zones: removed 1 of 1 \(1 IP\)/);
  assert.deepEqual(await world.client('nl-ams-1').listIps(), []);
});
