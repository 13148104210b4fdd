// The seed's Basic Example, verbatim with only its placeholders filled (a UUID access key, a
// token, an image UUID), builds against the simulator: its access key is the organization and
// that organization's default project, and its own ~/.ssh/id_rsa gets in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET, startHarness } from './harness.js';

const ORGANIZATION = '6b1e0c2d-3f4a-4b5c-9d6e-7f8091a2b3c4';

test("the seed's Basic Example builds as written: the access key is the organization and its default project", { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  // The user's own RSA key, where the example says it is.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  mkdirSync(join(h.dir, '.ssh'), { mode: 0o700 });
  writeFileSync(join(h.dir, '.ssh', 'id_rsa'), privateKey, { mode: 0o600 });
  // "UUID OF THE BASE IMAGE": the marketplace's Ubuntu for START1-S in par1, looked up as a user would.
  const { id: imageUuid } = await h.client.resolveMarketplaceImage('ubuntu_jammy', 'START1-S');

  // The seed's text, placeholders filled; nothing added, nothing removed.
  const example = {
    type: 'scaleway',
    api_access_key: ORGANIZATION,
    api_token: SECRET,
    image: imageUuid,
    region: 'par1',
    commercial_type: 'START1-S',
    ssh_username: 'root',
    ssh_private_key_file: '~/.ssh/id_rsa',
  };
  const path = h.template(example, 'basic-example.json');
  // No project and no secret in the environment: only the simulator's address.
  const [outcome] = await h.build(path, { env: { SCW_DEFAULT_PROJECT_ID: undefined, SCW_SECRET_KEY: undefined } });
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));

  const image = await h.client.getImage(outcome!.artifact!.imageId);
  assert.equal(image.project, ORGANIZATION, 'the image is in the organization\'s default project');
  const events = h.events(outcome!.buildId);
  assert.ok(events.some((e) => e.type === 'ssh.connected'), 'kiln got in with ~/.ssh/id_rsa');
  const created = events.find((e) => e.type === 'server.create.requested')!;
  assert.ok(!JSON.stringify(created.data).includes('PRIVATE KEY'));
  const inventory = await h.inventory(outcome!.buildId);
  assert.deepEqual([inventory.servers, inventory.volumes], [[], []], 'the server and its volume are gone');
});
