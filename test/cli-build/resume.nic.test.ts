// `kiln resume` of a build with a private NIC (issue 12), killed (SIGKILL) at each of the NIC's
// intent and result events and between the NIC create call and its result: the resumed build
// ends with one image and one snapshot, exactly one NIC was ever made, and none is left (the
// private network can be deleted). For the crash matrix's scenario table (issue 19).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { EventStore } from '../../src/store/index.js';
import { runKiln, type KilnResult } from '../helpers/cli.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

let sim: Simulator;
let dir: string;
let client: ScalewayClient;

before(async () => {
  sim = await startTestSimulator();
  dir = mkdtempSync(join(tmpdir(), 'kiln-resume-nic-'));
  client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
});
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function writeTemplate(): Promise<{ path: string; network: string }> {
  const network = String((await client.callApi({ method: 'POST', path: '/vpc/v2/regions/fr-par/private-networks', json: { name: `pn-${n}`, project_id: PROJECT }, kind: 'create' })).id);
  const path = join(dir, `nic-${++n}.json`);
  const builder = { type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: sim.sshPort, image_name: `nic-${n}`, snapshot_name: `nic-${n}`, private_network_ids: [network] };
  writeFileSync(path, JSON.stringify({ builders: [builder], provisioners: [{ type: 'shell', inline: ['echo provisioned >> /root/runs'] }] }));
  return { path, network };
}

function kiln(args: string[], env: Record<string, string>, db: string): Promise<KilnResult> {
  return runKiln([...args, '--db', db], {
    env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, ...env },
  });
}

const cases = [
  ...['private_nic.create.requested', 'private_nic.created', 'private_nic.available', 'private_nic.delete.requested', 'private_nic.deleted'].map((at) => ({
    name: `killed right after ${at}`,
    env: { KILN_CRASH_AT: at },
  })),
  { name: 'killed after the NIC create call, before its result', env: { KILN_CRASH_AFTER_CALL: 'network.attach' } },
];

describe('crash and resume with a private NIC', { concurrency: 2 }, () => {
  for (const c of cases) {
    test(`${c.name}: one image, one snapshot, exactly one NIC made and none left`, { timeout: 90_000 }, async () => {
      const db = join(dir, `${c.name.replace(/\W+/g, '_')}.db`);
      const { path, network } = await writeTemplate();
      const crashed = await kiln(['build', '--json', path], c.env, db);
      assert.equal(crashed.signal, 'SIGKILL', `the build should have been killed: ${crashed.stderr}`);
      const id = (JSON.parse(crashed.stdout.split('\n')[0]!) as { build_id: string }).build_id;
      const resumed = await kiln(['resume', id, '--json'], {}, db);
      assert.equal(resumed.code, 0, resumed.stderr);

      const tags = [`kiln-build=${id}`];
      const [servers, volumes, snapshots, images] = await Promise.all([client.listServers({ tags }), client.listVolumes({ tags }), client.listSnapshots({ tags }), client.listImages({ tags })]);
      assert.deepEqual([servers.length, volumes.length, snapshots.length, images.length], [0, 0, 1, 1]);
      const store = EventStore.open(db);
      try {
        const events = store.events(id);
        assert.equal(store.getBuild(id)!.status, 'succeeded');
        const nicIds = new Set(events.filter((e) => e.type === 'private_nic.created').map((e) => e.data.nicId));
        assert.equal(nicIds.size, 1, 'one NIC, whatever the kill point');
        assert.ok(events.some((e) => e.type === 'private_nic.available'));
        assert.deepEqual(store.getBuild(id)!.resources.privateNics?.map((nic) => nic.deleted), [true]);
      } finally {
        store.close();
      }
      // No NIC is left in the network: it can be deleted.
      await client.callApi({ method: 'DELETE', path: `/vpc/v2/regions/fr-par/private-networks/${network}`, kind: 'delete' });
    });
  }
});
