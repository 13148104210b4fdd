// A cleanup after the API stopped answering (issue 31): it is bounded by the template's timeouts,
// and every retry — the client's own included — is said as it happens, with what it waits for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKiln } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';
import { template } from '../engine/harness.js';

const SECRET = '3d5f7a9c-1b2d-4e6f-8a0c-2e4f6a8c0e1f';
const PROJECT = 'c3d5e7f9-1a2b-4c4d-9e6f-8a0b2c4d6e8f';

test('the API fails every delete of the cleanup: each retry is printed with what it waits for, and the template timeouts end it', { timeout: 240_000 }, async (t) => {
  const sim = await startTestSimulator({ seed: 31, faults: { 'DELETE /servers/{id}': { '5xx': 1 } } });
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cleanup-retries-'));
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, 't.json');
  writeFileSync(path, JSON.stringify(template({ communicator: 'none', ssh_username: undefined, state_timeout: '6s', server_shutdown_timeout: '6s' })));
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const r = await runKiln(['build', '--db', join(dir, 'kiln.db'), path], { env });
  const lines = r.stdout.split('\n');
  // The client's own retries: each one names the call, what it got, and when it tries again.
  const clientRetries = lines.filter((l) => /^==> scaleway: DELETE \/instance\/v1\/zones\/fr-par-1\/servers\/\S+: attempt \d+ answered 50\d; the client tries again in \S+$/.test(l));
  assert.ok(clientRetries.length >= 1, r.stdout);
  // And the phase's: attempt after attempt, with the time left before its deadline.
  assert.match(r.stdout, /==> scaleway: cleanup: attempt \d+ failed \(.*\); retrying in \S+, \S+ left before its deadline/);
  // The cleanup's deadline comes from the template's timeouts (6 s + 6 s), not the default 15 minutes.
  assert.match(r.stderr, /failed in cleanup: .*deadline of 12 seconds/, r.stderr);
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /kiln gc/, 'says how to remove what is left');
});
