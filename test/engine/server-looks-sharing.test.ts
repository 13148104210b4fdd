// Which builds of one process share their server looks (sharedServerLooks): those run side by
// side through one account; builds run one at a time, or through other accounts, do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedServerLooks } from '../../src/engine/index.js';

const account = { apiUrl: 'https://api.scaleway.com', zone: 'fr-par-1', secretKey: 'secret-1', projectId: 'project-1' };

test('builds side by side through one account share one ServerLooks; other accounts get their own', () => {
  const specs = [account, { ...account }, { ...account, zone: 'nl-ams-1' }, { ...account, secretKey: 'secret-2' }, { ...account, projectId: 'project-2' }];
  const looksOf = sharedServerLooks(specs, 0);
  const [a, b, otherZone, otherKey, otherProject] = specs.map(looksOf);
  assert.ok(a);
  assert.equal(a, b);
  assert.equal(new Set([a, otherZone, otherKey, otherProject]).size, 4);
  assert.equal(sharedServerLooks(specs, 3)(account) !== undefined, true, '--parallel-builds 3 runs builds side by side');
});

test('a lone build, or builds run one at a time (--parallel-builds 1), look on their own', () => {
  assert.equal(sharedServerLooks([account], 0)(account), undefined);
  assert.equal(sharedServerLooks([account, { ...account }], 1)(account), undefined);
});
