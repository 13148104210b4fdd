// A build's zone and API URL are facts of the build (issue 31): `kiln resume` and `kiln gc --build`
// work where the build ran, not where the shell they run in points. A template without a zone,
// built with SCW_DEFAULT_ZONE=fr-par-2 and killed with its server up, then met from shells that
// name another zone, another API URL, or none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { EventStore } from '../../src/store/index.js';
import { template as templateOf } from '../engine/harness.js';
import { runKiln, startedBuildId, type KilnResult } from '../helpers/cli.js';
import { cloudOfBuild } from '../helpers/cloud.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

let sim: Simulator;
let dir: string;
let par2: ScalewayClient;

before(async () => {
  sim = await startTestSimulator();
  dir = mkdtempSync(join(tmpdir(), 'kiln-resume-target-'));
  par2 = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-2', secretKey: SECRET, projectId: PROJECT });
}, { timeout: 60_000 });
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

/** kiln with credentials only, plus what `env` adds: no zone, no API URL unless given. */
function kiln(args: string[], env: Record<string, string>, db: string): Promise<KilnResult> {
  return runKiln([...args, '--db', db], { env: { PATH: process.env.PATH, HOME: dir, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, ...env } });
}

/** A build of a template with no zone, run in fr-par-2 against the simulator, killed after its server came up. */
async function killedInParis2(name: string): Promise<{ id: string; db: string }> {
  const path = join(dir, `${name}.json`);
  const t = templateOf({ ssh_port: sim.sshPort, image_name: name, snapshot_name: name }, [{ type: 'shell', inline: ['echo provisioned'] }]);
  delete ((t.builders as Record<string, unknown>[])[0]!).zone;
  writeFileSync(path, JSON.stringify(t));
  const db = join(dir, `${name}.db`);
  const crashed = await kiln(['build', '--json', path], { SCW_API_URL: sim.apiUrl, SCW_DEFAULT_ZONE: 'fr-par-2', KILN_CRASH_AT: 'provisioner.started' }, db);
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = startedBuildId(crashed);
  assert.equal((await cloudOfBuild(par2, id)).servers.length, 1, 'the server is up in fr-par-2');
  return { id, db };
}

function statusOf(db: string, id: string): string | undefined {
  const store = EventStore.open(db);
  try {
    return store.getBuild(id)?.status;
  } finally {
    store.close();
  }
}

test('resume refuses a shell that names another zone or API URL, and without them continues where the build ran', { timeout: 240_000 }, async () => {
  const { id, db } = await killedInParis2('target-resume');

  const otherZone = await kiln(['resume', id], { SCW_API_URL: sim.apiUrl, SCW_DEFAULT_ZONE: 'fr-par-1' }, db);
  assert.equal(otherZone.code, 2, otherZone.stderr);
  assert.match(otherZone.stderr, /the build ran with zone fr-par-2, but this shell's SCW_DEFAULT_ZONE now names fr-par-1: unset SCW_DEFAULT_ZONE or set it to fr-par-2/);
  assert.doesNotMatch(otherZone.stderr, /deleted outside kiln/);

  const otherApi = await kiln(['resume', id], { SCW_API_URL: 'http://127.0.0.1:9', SCW_DEFAULT_ZONE: 'fr-par-2' }, db);
  assert.equal(otherApi.code, 2, otherApi.stderr);
  assert.match(otherApi.stderr, new RegExp(`the build ran with API URL ${sim.apiUrl.replace(/[.]/g, '\\.')}, but this shell's SCW_API_URL now names http://127\\.0\\.0\\.1:9`));

  // Neither refusal changed the build: it is not failed, and its server is still there.
  assert.notEqual(statusOf(db, id), 'failed');
  assert.equal((await cloudOfBuild(par2, id)).servers.length, 1);

  // A shell with no zone and no API URL: the build's own are used.
  const resumed = await kiln(['resume', id, '--json'], {}, db);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(statusOf(db, id), 'succeeded');
  const cloud = await cloudOfBuild(par2, id);
  assert.deepEqual({ servers: cloud.servers.length, volumes: cloud.volumes.length, images: cloud.images.length }, { servers: 0, volumes: 0, images: 1 });
});

test('gc --build looks where the build ran, whatever zone and API URL the shell names', { timeout: 240_000 }, async () => {
  const { id, db } = await killedInParis2('target-gc');
  const gc = await kiln(['gc', '--build', id, '--force', '--json'], { SCW_DEFAULT_ZONE: 'fr-par-1' }, db);
  assert.equal(gc.code, 0, gc.stderr);
  const report = JSON.parse(gc.stdout) as { zones: string[]; summary: { removed: number } };
  assert.deepEqual(report.zones, ['fr-par-2']);
  assert.ok(report.summary.removed >= 2, gc.stdout);
  const cloud = await cloudOfBuild(par2, id);
  assert.deepEqual({ servers: cloud.servers.length, volumes: cloud.volumes.length }, { servers: 0, volumes: 0 });
});
