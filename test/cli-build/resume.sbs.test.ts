// `kiln resume` of an SBS build (PRO2, an SBS root with chosen size and IOPS, one extra block
// volume) killed with SIGKILL at each of the SBS build's intent and result events, and between
// each SBS API call that succeeded and the recording of its result: the resumed build ends with
// exactly one image, one block snapshot per volume, and no server or volume left.
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
  dir = mkdtempSync(join(tmpdir(), 'kiln-resume-sbs-'));
  client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
});
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** The SBS build of the crash matrix's scenario table: PRO2, SBS root of 15 GB at 15k IOPS, one block volume. */
export function sbsTemplate(sshPort: number, name: string): Record<string, unknown> {
  return {
    builders: [
      {
        type: 'scaleway',
        image: 'ubuntu_jammy',
        zone: 'fr-par-1',
        commercial_type: 'PRO2-XXS',
        ssh_username: 'root',
        ssh_port: sshPort,
        image_name: name,
        snapshot_name: name,
        root_volume: { type: 'sbs_volume', size_in_gb: 15, iops: 15000 },
        block_volume: [{ name: `${name}-data`, size_in_gb: 10 }],
      },
    ],
    provisioners: [{ type: 'shell', inline: ['echo root >> /root/runs', 'echo data >> /mnt/vol1/runs'] }],
  };
}

function kiln(args: string[], env: Record<string, string>, db: string): Promise<KilnResult> {
  return runKiln([...args, '--db', db], {
    env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, ...env },
  });
}

async function assertOneImageOneSnapshotPerVolume(id: string): Promise<void> {
  const tags = [`kiln-build=${id}`];
  const [servers, volumes, blockVolumes, snapshots, blockSnapshots, images] = await Promise.all([
    client.listServers({ tags }),
    client.listVolumes({ tags }),
    client.block.listVolumes({ tags }),
    client.listSnapshots({ tags }),
    client.block.listSnapshots({ tags }),
    client.listImages({ tags }),
  ]);
  assert.deepEqual(
    { servers: servers.length, volumes: volumes.length + blockVolumes.length, instanceSnapshots: snapshots.length, blockSnapshots: blockSnapshots.length, images: images.length },
    { servers: 0, volumes: 0, instanceSnapshots: 0, blockSnapshots: 2, images: 1 },
    `build ${id}`,
  );
  const image = images[0]!;
  const used = [image.root_volume?.id, ...Object.values(image.extra_volumes).map((v) => (v as { id: string }).id)].sort();
  assert.deepEqual(used, blockSnapshots.map((s) => s.id).sort(), 'the image is made of exactly these snapshots');
  // One snapshot per volume, each with its own name (the parent volumes themselves are gone).
  assert.equal(new Set(blockSnapshots.map((s) => s.name)).size, 2);
}

// The SBS build's own intent and result events (the n-th occurrence where one repeats).
const CRASH_AT = [
  'block_volume.create.requested',
  'block_volume.created',
  'server.create.requested',
  'server.created',
  'volume.iops.requested',
  'volume.iops.updated',
  'snapshot.create.requested',
  'snapshot.created',
  'volume_snapshot.create.requested',
  'volume_snapshot.created',
  'volume_snapshot.available',
  'image.create.requested',
  'image.created',
  'volume.delete.requested',
  'volume.deleted',
  'volume.delete.requested:2',
];
// Between an SBS API call that succeeded and the recording of its result.
const CRASH_AFTER_CALL = ['volumes.create', 'server.create', 'volumes.iops', 'snapshot.create', 'volume_snapshots.create', 'image.create'];

const cases = [
  ...CRASH_AT.map((at) => ({ name: `killed right after ${at}`, env: { KILN_CRASH_AT: at } })),
  ...CRASH_AFTER_CALL.map((phase) => ({ name: `killed after the ${phase} call, before its result`, env: { KILN_CRASH_AFTER_CALL: phase } })),
];

describe('SBS crash matrix', { concurrency: 2 }, () => {
  for (const c of cases) {
    test(`${c.name}: resume ends with one image and one snapshot per volume`, { timeout: 120_000 }, async () => {
      const db = join(dir, `${c.name.replace(/\W+/g, '_')}.db`);
      const path = join(dir, `sbs-${++n}.json`);
      writeFileSync(path, JSON.stringify(sbsTemplate(sim.sshPort, `sbs-crash-${n}`)));
      const crashed = await kiln(['build', '--json', path], c.env, db);
      assert.equal(crashed.signal, 'SIGKILL', `the build should have been killed: ${crashed.stderr}`);
      const first = JSON.parse(crashed.stdout.split('\n')[0]!) as { build_id: string };
      const id = first.build_id;
      const resumed = await kiln(['resume', id, '--json'], {}, db);
      assert.equal(resumed.code, 0, resumed.stdout.slice(-2000) + resumed.stderr);
      await assertOneImageOneSnapshotPerVolume(id);
      const store = EventStore.open(db);
      try {
        const events = store.events(id);
        assert.equal(store.getBuild(id)!.status, 'succeeded');
        assert.equal(events.filter((e) => e.type === 'server.created').length, 1, 'one server, whatever the kill point');
        assert.equal(events.filter((e) => e.type === 'block_volume.created').length, 1, 'one block volume, whatever the kill point');
        assert.equal(events.filter((e) => e.type === 'image.created').length, 1);
        assert.equal(store.getBuild(id)!.artifact?.snapshots?.length, 2);
      } finally {
        store.close();
      }
    });
  }
});
