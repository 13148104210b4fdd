// The simulator is honest about SSH keys, as a real Scaleway image is: the boot puts the keys of
// the server's AUTHORIZED_KEY tags into root's authorized_keys on its disk, SSH lets in what that
// file holds, and a key taken out of it before a snapshot opens no server made from it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { connect, exec, generateKeyPair, launchServer, simApi, SIM_PROJECT, SIM_ZONE } from '../fixtures/sim-ssh/harness.js';

const zone = `/instance/v1/zones/${SIM_ZONE}`;
const keyTag = (line: string) => `AUTHORIZED_KEY=${line.trim().replace(/ /g, '_')}`;

interface ServerBody {
  id: string;
  state: string;
  public_ip: { address: string } | null;
  volumes: Record<string, { id: string }>;
}

async function waitState(sim: Simulator, id: string, state: string): Promise<ServerBody> {
  for (;;) {
    const { server } = await simApi<{ server: ServerBody }>(sim, 'GET', `${zone}/servers/${id}`);
    if (server.state === state && (state !== 'running' || server.public_ip)) return server;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the boot installs the tag keys; SSH honours only the disk', () => {
  let sim: Simulator;
  const oldKey = generateKeyPair();
  const newKey = generateKeyPair();

  before(async () => {
    sim = await startSimulator({ port: 0, sshPort: 0, latency: 'fast' });
  }, { timeout: 60_000 });
  after(() => sim?.close(), { timeout: 60_000 });

  it('a key taken out of authorized_keys before the snapshot does not open a server made from it; the new server\'s own key does', { timeout: 120_000 }, async () => {
    const server = await launchServer(sim, oldKey.publicLine);
    const disk = sim.diskPathOfVolume(server.rootVolumeId)!;
    const file = path.join(disk, 'root', '.ssh', 'authorized_keys');
    assert.equal(await fs.readFile(file, 'utf8'), `${oldKey.publicLine.trim()}\n`, 'the boot wrote the tag key');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);

    const ssh = await connect(server.address, sim.sshPort, oldKey.privateKey);
    const body = oldKey.publicLine.split(' ')[1]!;
    await exec(ssh, `grep -vF '${body}' /root/.ssh/authorized_keys > /tmp/k || true; cat /tmp/k > /root/.ssh/authorized_keys; echo kept > /root/state`);
    ssh.end();
    await assert.rejects(connect(server.address, sim.sshPort, oldKey.privateKey), /authentication/i, 'out of the file: refused at once');

    await simApi(sim, 'POST', `${zone}/servers/${server.id}/action`, { action: 'poweroff' });
    await waitState(sim, server.id, 'stopped');
    const { snapshot } = await simApi<{ snapshot: { id: string } }>(sim, 'POST', `${zone}/snapshots`, { name: 'keys', volume_id: server.rootVolumeId, project: SIM_PROJECT });
    const { image } = await simApi<{ image: { id: string } }>(sim, 'POST', `${zone}/images`, { name: 'keys', root_volume: snapshot.id, arch: 'x86_64', project: SIM_PROJECT });
    for (;;) {
      const { image: now } = await simApi<{ image: { state: string } }>(sim, 'GET', `${zone}/images/${image.id}`);
      if (now.state === 'available') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { server: fresh } = await simApi<{ server: ServerBody }>(sim, 'POST', `${zone}/servers`, {
      name: 'from-the-image',
      commercial_type: 'DEV1-S',
      image: image.id,
      project: SIM_PROJECT,
      tags: [keyTag(newKey.publicLine)],
    });
    await simApi(sim, 'POST', `${zone}/servers/${fresh.id}/action`, { action: 'poweron' });
    const running = await waitState(sim, fresh.id, 'running');
    await assert.rejects(connect(running.public_ip!.address, sim.sshPort, oldKey.privateKey), /authentication/i);
    const inside = await connect(running.public_ip!.address, sim.sshPort, newKey.privateKey);
    assert.equal((await exec(inside, 'cat /root/state')).stdout, 'kept\n', 'the image holds the disk as it was');
    inside.end();

    // Each boot puts the tag keys back (the key Scaleway hands over during the boot process).
    await simApi(sim, 'POST', `${zone}/servers/${server.id}/action`, { action: 'poweron' });
    const again = await waitState(sim, server.id, 'running');
    const back = await connect(again.public_ip!.address, sim.sshPort, oldKey.privateKey);
    back.end();
  });
});
