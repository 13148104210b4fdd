// Failing fast where waiting cannot help (issue 31): an API URL where nothing listens (a wrong
// SCW_API_URL, `kiln sim` not started) fails the build in its prepare phase without phase retries,
// naming the URL; a resume whose API went away says so before it changes anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '../../src/store/index.js';
import { template as templateOf } from '../engine/harness.js';
import { runKiln, startedBuildId } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** A loopback URL where nothing listens: a port that was free a moment ago. */
async function refusedUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-unreachable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function eventTypes(db: string, id: string): string[] {
  const store = EventStore.open(db);
  try {
    return store.events(id).map((e) => e.type);
  } finally {
    store.close();
  }
}

// Broken, this test runs into its timeout: prepare retries a refused connection until its deadline (minutes).
test('nothing listening at the API URL: the build fails in prepare, naming the URL, without retrying the phase', { timeout: 120_000 }, async (t) => {
  const dir = scratch(t);
  const path = join(dir, 't.json');
  writeFileSync(path, JSON.stringify(templateOf()));
  const url = await refusedUrl();
  const db = join(dir, 'kiln.db');
  const r = await runKiln(['build', '--json', '--db', db, path], { env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: url, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`failed in prepare: .*nothing answers at ${url.replace(/[.]/g, '\\.')} \\(connection refused\\); nothing was created\\. Check the API URL \\(SCW_API_URL`));
  const types = eventTypes(db, startedBuildId(r));
  assert.ok(!types.includes('phase.retrying'), types.join(','));
  assert.ok(types.includes('build.failed'));
});

test('a resume whose API no longer answers says so and leaves the build as it was', { timeout: 180_000 }, async (t) => {
  const dir = scratch(t);
  const sim = await startTestSimulator();
  let closed = false;
  t.after(async () => {
    if (!closed) await sim.close();
  });
  const path = join(dir, 't.json');
  writeFileSync(path, JSON.stringify(templateOf({ ssh_port: sim.sshPort }, [{ type: 'shell', inline: ['echo provisioned'] }])));
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const db = join(dir, 'kiln.db');
  const crashed = await runKiln(['build', '--json', '--db', db, path], { env: { ...env, KILN_CRASH_AT: 'provisioner.started' } });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);
  await sim.close();
  closed = true;
  const before = eventTypes(db, id);
  const resumed = await runKiln(['resume', id, '--db', db], { env });
  assert.equal(resumed.code, 1, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`kiln resume: nothing answers at ${sim.apiUrl.replace(/[.]/g, '\\.')} .*build ${id} is unchanged`));
  assert.doesNotMatch(resumed.stderr, /\n\s+at /, 'a message, not a trace');
  assert.deepEqual(eventTypes(db, id), before, 'nothing recorded: not failed, not resumed');
});
