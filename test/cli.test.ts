import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKiln } from './helpers/cli.js';

test('kiln --help lists the commands', async () => {
  const result = await runKiln(['--help']);
  assert.equal(result.code, 0, result.stderr);
  for (const command of ['build', 'resume', 'gc', 'ls', 'show', 'validate', 'sim']) {
    assert.match(result.stdout, new RegExp(`kiln ${command}`), `--help should list ${command}`);
  }
});

test('an unknown command exits 2 and points at --help', async () => {
  const result = await runKiln(['frobnicate']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /kiln --help/);
});
