// `kiln resume` of builds using the plugin's keys (issue 12), killed (SIGKILL) at each of their new
// events, and between the NIC create call and its result: the resumed build ends with one image
// and one snapshot and nothing else. With a private NIC: exactly one NIC was ever made and none is
// left (its private network can be deleted). With user data: the wait resumes (same deadline) and
// what cloud-init did is in the image; with cleanup_machine_related_data: the machine id is empty.
// Scenario → template and kill points, for the crash matrix's table (issue 19). One case at a time:
// this file runs beside resume.test.ts, whose whole file must stay within the runner's 5 minutes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, type BuildEvent } from '../../src/store/index.js';
import { runKiln, type KilnResult } from '../helpers/cli.js';
import { simulatedCloudForFile } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const cloud = simulatedCloudForFile('kiln-resume-nic-', { secretKey: SECRET, projectId: PROJECT });

let n = 0;
async function createPrivateNetwork(): Promise<string> {
  return String((await cloud.client.callApi({ method: 'POST', path: '/vpc/v2/regions/fr-par/private-networks', json: { name: `pn-${n}`, project_id: PROJECT }, kind: 'create' })).id);
}

function writeTemplate(extra: Record<string, unknown>): string {
  const path = join(cloud.dir, `plugin-${++n}.json`);
  const builder = { type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: cloud.sim.sshPort, image_name: `plugin-${n}`, snapshot_name: `plugin-${n}`, ...extra };
  writeFileSync(path, JSON.stringify({ builders: [builder], provisioners: [{ type: 'shell', inline: ['echo provisioned >> /root/runs'] }] }));
  return path;
}

function kiln(args: string[], env: Record<string, string>, db: string): Promise<KilnResult> {
  return runKiln([...args, '--db', db], {
    env: { PATH: process.env.PATH, HOME: cloud.dir, SCW_API_URL: cloud.sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, ...env },
  });
}

interface Scenario {
  name: string;
  /** Builder keys, and what the scenario needs made first (a private network). */
  setUp: () => Promise<{ extra: Record<string, unknown>; network?: string }>;
  killPoints: Record<string, string>[];
  /** What must hold after the resume, beyond "one image, one snapshot, nothing else". */
  check: (id: string, events: BuildEvent[], snapshotDisk: string, network?: string) => Promise<void>;
}

const scenarios: Scenario[] = [
  {
    name: 'a private NIC',
    setUp: async () => {
      const network = await createPrivateNetwork();
      return { extra: { private_network_ids: [network] }, network };
    },
    killPoints: [
      ...['private_nic.create.requested', 'private_nic.created', 'private_nic.available', 'private_nic.delete.requested', 'private_nic.deleted'].map((at) => ({ KILN_CRASH_AT: at })),
      { KILN_CRASH_AFTER_CALL: 'private_nic.created' },
    ],
    async check(_id, events, _disk, network) {
      const nicIds = new Set(events.filter((e) => e.type === 'private_nic.created').map((e) => e.data.nicId));
      assert.equal(nicIds.size, 1, 'one NIC, whatever the kill point');
      assert.ok(events.some((e) => e.type === 'private_nic.available'));
      // No NIC is left in the network: it can be deleted.
      await cloud.client.callApi({ method: 'DELETE', path: `/vpc/v2/regions/fr-par/private-networks/${network}`, kind: 'delete' });
    },
  },
  {
    name: 'user data and cleanup_machine_related_data',
    setUp: async () => ({
      extra: { user_data: { 'cloud-init': '#!/bin/sh\nsleep 2\necho by-cloud-init > /etc/from-user-data\n' }, cleanup_machine_related_data: 'true' },
    }),
    killPoints: [{ KILN_CRASH_AT: 'user_data.wait.started' }, { KILN_CRASH_AT: 'user_data.done' }, { KILN_CRASH_AT: 'machine.cleaned' }],
    async check(_id, events, disk) {
      const starts = events.filter((e) => e.type === 'user_data.wait.started');
      assert.equal(starts.length, 1, 'the resumed wait keeps the deadline recorded when it began');
      assert.equal(readFileSync(join(disk, 'etc/from-user-data'), 'utf8'), 'by-cloud-init\n');
      assert.equal(statSync(join(disk, 'etc/machine-id')).size, 0);
    },
  },
];

for (const scenario of scenarios) {
  describe(`crash and resume with ${scenario.name}`, { concurrency: 1 }, () => {
    for (const crashEnv of scenario.killPoints) {
      const [how, where] = Object.entries(crashEnv)[0]!;
      const name = how === 'KILN_CRASH_AT' ? `killed right after ${where}` : `killed after the ${where} call, before its result`;
      test(`${name}: one image, one snapshot, nothing else`, { timeout: 90_000 }, async () => {
        const db = join(cloud.dir, `${scenario.name}-${name}`.replace(/\W+/g, '_') + '.db');
        const { extra, network } = await scenario.setUp();
        const crashed = await kiln(['build', '--json', writeTemplate(extra)], crashEnv, db);
        assert.equal(crashed.signal, 'SIGKILL', `the build should have been killed: ${crashed.stderr}`);
        const id = (JSON.parse(crashed.stdout.split('\n')[0]!) as { buildId: string }).buildId;
        const resumed = await kiln(['resume', id, '--json'], {}, db);
        assert.equal(resumed.code, 0, resumed.stderr);

        const tags = [`kiln-build=${id}`];
        const [servers, volumes, snapshots, images] = await Promise.all([cloud.client.listServers({ tags }), cloud.client.listVolumes({ tags }), cloud.client.listSnapshots({ tags }), cloud.client.listImages({ tags })]);
        assert.deepEqual([servers.length, volumes.length, snapshots.length, images.length], [0, 0, 1, 1]);
        const store = EventStore.open(db);
        let events: BuildEvent[];
        try {
          events = store.events(id);
          assert.equal(store.getBuild(id)!.status, 'succeeded');
        } finally {
          store.close();
        }
        await scenario.check(id, events, cloud.sim.diskPathOfSnapshot(snapshots[0]!.id)!, network);
      });
    }
  });
}
