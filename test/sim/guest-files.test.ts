// The simulator boots a server by writing into its disk as root (its machine-id, cloud-init's
// records). A guest that planted links there must not make those writes land on the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bootCloudInit, CLOUD_INIT_PATH } from '../../src/sim/cloud-init.js';
import { GuestPathError, readGuestFile, writeGuestFile } from '../../src/sim/guest-files.js';
import { authorizedKeysOnDisk, installAuthorizedKeys } from '../../src/sim/authorized-keys.js';

function guestAndHost(t: { after: (fn: () => void) => void }): { disk: string; host: string } {
  const root = mkdtempSync(join(tmpdir(), 'kiln-guest-files-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const disk = join(root, 'disk');
  const host = join(root, 'host');
  mkdirSync(join(disk, 'etc'), { recursive: true });
  mkdirSync(host);
  writeFileSync(join(host, 'precious'), 'the host file\n');
  return { disk, host };
}

test('a machine-id the guest made a link to a host file is neither read nor written through', (t) => {
  const { disk, host } = guestAndHost(t);
  symlinkSync(join(host, 'precious'), join(disk, 'etc', 'machine-id'));
  return (async () => {
    assert.equal(await readGuestFile(disk, 'etc/machine-id'), undefined);
    await assert.rejects(writeGuestFile(disk, 'etc/machine-id', 'new id\n'), GuestPathError);
    assert.equal(readFileSync(join(host, 'precious'), 'utf8'), 'the host file\n');
  })();
});

test('a directory on the way that is a link to the host stops the write', async (t) => {
  const { disk, host } = guestAndHost(t);
  mkdirSync(join(disk, 'var', 'lib'), { recursive: true });
  symlinkSync(host, join(disk, 'var', 'lib', 'cloud'));
  mkdirSync(dirname(join(disk, CLOUD_INIT_PATH)), { recursive: true });
  writeFileSync(join(disk, CLOUD_INIT_PATH), '#!/bin/sh\n');
  await assert.rejects(bootCloudInit(disk, 'server-1', '#!/bin/sh\necho hi\n'), GuestPathError);
  assert.deepEqual(readdirSync(host), ['precious'], 'nothing was made in the host directory');
  assert.equal(readFileSync(join(host, 'precious'), 'utf8'), 'the host file\n');
});

test('on a disk without links the boot records are written as before', async (t) => {
  const { disk } = guestAndHost(t);
  mkdirSync(dirname(join(disk, CLOUD_INIT_PATH)), { recursive: true });
  writeFileSync(join(disk, CLOUD_INIT_PATH), '#!/bin/sh\n');
  assert.equal(await bootCloudInit(disk, 'server-1', '#!/bin/sh\necho hi\n'), true);
  assert.equal(readFileSync(join(disk, 'var/lib/cloud/data/instance-id'), 'utf8'), 'server-1\n');
  assert.equal(readFileSync(join(disk, 'var/lib/cloud/data/status'), 'utf8'), 'running\n');
  assert.ok(existsSync(join(disk, 'var/lib/cloud/instance/user-data.txt')));
  await writeGuestFile(disk, 'etc/machine-id', 'abc\n', 0o444);
  assert.equal(await readGuestFile(disk, 'etc/machine-id'), 'abc\n');
});

test("the boot's SSH keys never go through a root/.ssh the guest made a link to the host's", async (t) => {
  const { disk, host } = guestAndHost(t);
  mkdirSync(join(disk, 'root'));
  symlinkSync(host, join(disk, 'root', '.ssh'));
  writeFileSync(join(host, 'authorized_keys'), 'ssh-ed25519 AAAAhost host@machine\n');
  await assert.rejects(installAuthorizedKeys(disk, ['ssh-ed25519 AAAAguest tag-key']), GuestPathError);
  assert.equal(readFileSync(join(host, 'authorized_keys'), 'utf8'), 'ssh-ed25519 AAAAhost host@machine\n');
  assert.deepEqual(authorizedKeysOnDisk(disk), [], "the host's keys are not read as the server's");
});
