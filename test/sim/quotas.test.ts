// `--quotas`: what the simulator accepts as the organization's quotas, and what it refuses (with
// the option's name first, which `kiln sim` turns into exit 2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuotas } from '../../src/sim/quotas.js';
import { runKiln } from '../helpers/cli.js';

test('quotas are a JSON object of kind → whole number; anything else is refused saying what was expected', () => {
  assert.deepEqual(parseQuotas('{"snapshots":2,"servers":0}'), { snapshots: 2, servers: 0 });
  assert.deepEqual(parseQuotas({ block_volumes: 1 }), { block_volumes: 1 });
  assert.deepEqual(parseQuotas(undefined), {});
  assert.throws(() => parseQuotas('{snapshots:2}'), /^Error: quotas: not valid JSON: \{snapshots:2\}\. Example: '\{"snapshots":2,"servers":1\}'$/);
  assert.throws(() => parseQuotas('[2]'), /quotas: expected an object of kind → maximum \(kinds: servers, snapshots, images, ips, block_volumes, block_snapshots\)/);
  assert.throws(() => parseQuotas('{"snapshot":2}'), /quotas: unknown kind "snapshot"; known: servers, snapshots/);
  assert.throws(() => parseQuotas('{"snapshots":1.5}'), /quotas: "snapshots" must be a whole number >= 0/);
});

test('kiln sim --quotas with a bad value exits 2 with the problem', { timeout: 60_000 }, async () => {
  const r = await runKiln(['sim', '--port', '0', '--ssh-port', '0', '--quotas', '{"snapshot":2}']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /kiln sim: quotas: unknown kind "snapshot"; known: servers, snapshots, images, ips, block_volumes, block_snapshots/);
});
