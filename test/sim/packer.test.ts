// Packer 1.6.6's own scaleway builder, unchanged, builds an image against the simulator: the
// simulator's API and SSH side are faithful enough for a real third-party client.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { marketplaceImageId } from '../fixtures/sim-ssh/harness.js';
import { packerMissing as skip, runPacker } from '../helpers/packer.js';

const ZONE = 'fr-par-1';
const COMMERCIAL_TYPE = 'DEV1-S';
// Packer's Scaleway SDK checks the credentials' formats before any request.
const SECRET_KEY = '3b6c1ab2-7f35-4a2c-9b1e-5d0c7e0a9f11';
const ACCESS_KEY = 'SCWKILNSIMTEST000000';
const PROJECT_ID = '6a0c2d6e-2f4a-4c7e-8a3b-1f9e8d7c6b5a';

describe('Packer 1.6.6 builds an image against the simulator', { skip }, () => {
  let sim: Simulator;
  let workDir: string;

  before(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-sim-packer-test-'));
    sim = await startSimulator({ port: 0, sshPort: 0, latency: 'fast' });
  }, { timeout: 60_000 });

  after(async () => {
    await sim?.close();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  async function api<T>(route: string): Promise<T> {
    const response = await fetch(`${sim.apiUrl}${route}`, { headers: { 'X-Auth-Token': SECRET_KEY } });
    assert.equal(response.status, 200, `GET ${route}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  }

  it('runs shell and file provisioners over SSH and leaves the result in the image disk', { timeout: 180_000 }, async () => {
    const uploaded = path.join(workDir, 'motd.txt');
    await fs.writeFile(uploaded, 'uploaded by the file provisioner\n');
    const imageName = `kiln-packer-${path.basename(workDir)}`;
    const template = {
      builders: [
        {
          type: 'scaleway',
          api_url: sim.apiUrl,
          secret_key: SECRET_KEY,
          access_key: ACCESS_KEY,
          project_id: PROJECT_ID,
          image: await marketplaceImageId(sim, 'ubuntu_jammy', COMMERCIAL_TYPE, ZONE),
          zone: ZONE,
          commercial_type: COMMERCIAL_TYPE,
          ssh_username: 'root',
          ssh_port: sim.sshPort,
          image_name: imageName,
          snapshot_name: `${imageName}-snapshot`,
        },
      ],
      provisioners: [
        { type: 'shell', inline: ['. /etc/os-release', 'echo "provisioned on $ID" > /root/provisioned.txt'] },
        { type: 'file', source: uploaded, destination: '/root/motd.txt' },
      ],
    };
    const templateFile = path.join(workDir, 'template.json');
    await fs.writeFile(templateFile, JSON.stringify(template, null, 2));

    const build = await runPacker(['build', '-machine-readable', templateFile], workDir);
    assert.equal(build.code, 0, `packer build failed:\n${build.output}`);

    // Machine-readable lines: <time>,<build>,artifact,0,id,<zone>:<image id>
    const artifactId = /,artifact,0,id,([^\n]+)/.exec(build.output)?.[1];
    assert.ok(artifactId, `packer printed an artifact id:\n${build.output}`);
    const imageId = artifactId.split(':').pop()!;

    const { image } = await api<{ image: { id: string; name: string; state: string; root_volume: { id: string } } }>(
      `/instance/v1/zones/${ZONE}/images/${imageId}`,
    );
    assert.equal(image.name, imageName);
    const diskDir = sim.diskPathOfSnapshot(image.root_volume.id);
    assert.ok(diskDir, `the image's root snapshot ${image.root_volume.id} has a disk`);
    assert.equal(await fs.readFile(path.join(diskDir, 'root', 'provisioned.txt'), 'utf8'), 'provisioned on ubuntu\n');
    assert.equal(await fs.readFile(path.join(diskDir, 'root', 'motd.txt'), 'utf8'), 'uploaded by the file provisioner\n');

    const { servers } = await api<{ servers: unknown[] }>(`/instance/v1/zones/${ZONE}/servers`);
    assert.deepEqual(servers, [], 'Packer deleted its server');
  });
});
