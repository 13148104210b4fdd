// `kiln resume --template <path>` (issue 31): on another runner the checkout path differs; the
// template is read where the user says, and it must still be the template the build started with —
// in meaning: a JSON template re-indented, with its keys in another order, is the same template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { template as templateOf } from '../engine/harness.js';
import { runKiln, startedBuildId } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** The same JSON value with every object's keys in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
  return value;
}

test('resume --template reads a moved, re-indented template; a template that says something else is refused', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-resume-template-'));
  const sim = await startTestSimulator();
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const db = join(dir, 'kiln.db');
  const template = templateOf({ ssh_port: sim.sshPort, image_name: 'moved', snapshot_name: 'moved' }, [{ type: 'shell', inline: ['echo provisioned'] }]);
  mkdirSync(join(dir, 'checkout-a'));
  const original = join(dir, 'checkout-a', 't.json');
  writeFileSync(original, JSON.stringify(template, null, 2));
  const crashed = await runKiln(['build', '--json', '--db', db, original], { env: { ...env, KILN_CRASH_AT: 'server.created' } });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);

  // Another checkout: the file elsewhere, laid out differently.
  mkdirSync(join(dir, 'checkout-b'));
  const moved = join(dir, 'checkout-b', 't.json');
  renameSync(original, moved);
  writeFileSync(moved, JSON.stringify(reversedKeys(template), null, '\t') + '\r\n');

  const lost = await runKiln(['resume', id, '--db', db], { env });
  assert.equal(lost.code, 2, lost.stderr);
  assert.match(lost.stderr, /the template file does not exist.*give its path with --template <path>/s);

  const other = join(dir, 'checkout-b', 'other.json');
  writeFileSync(other, JSON.stringify(templateOf({ ssh_port: sim.sshPort, image_name: 'something-else', snapshot_name: 'moved' }, [{ type: 'shell', inline: ['echo provisioned'] }])));
  const refused = await runKiln(['resume', id, '--template', other, '--db', db], { env });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, new RegExp(`other\\.json is not the template build ${id} started with`));

  const resumed = await runKiln(['resume', id, '--template', moved, '--db', db], { env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /An image was created: 'moved'/);
});
