// Reading an image back, as a user would: a server started from it with a key of one's own, then
// logged into over SSH; and the disk trees of two images compared, file by file.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ScalewayClient } from '../../src/scaleway/index.js';
import { sleep } from '../../src/shared/sleep.js';
import { authorizedKeyTag, connect, generateKeyPair, type Communicator } from '../../src/ssh/index.js';

/** A server made from `imageId` with a fresh key in its tags, running; `login(key)` tries a key on it (one handshake). */
export async function serverFromImage(client: ScalewayClient, imageId: string, sshPort: number, commercialType = 'DEV1-S') {
  const own = generateKeyPair('kiln-test');
  const created = await client.createServer({ name: `read-back-${imageId.slice(0, 8)}`, commercial_type: commercialType, image: imageId, tags: ['read-back', authorizedKeyTag(own.publicKey)] });
  await client.serverAction(created.id, 'poweron');
  let address: string | undefined;
  while (!address) {
    const s = await client.getServer(created.id);
    if (s.state === 'running' && s.public_ip?.address) address = s.public_ip.address;
    else await sleep(20);
  }
  const login = (privateKey: string): Promise<Communicator> =>
    connect({ host: address, port: sshPort, username: 'root', privateKey, timeoutMs: 20_000, handshakeAttempts: 1 });
  return { id: created.id, address, ownKey: own.privateKey, login };
}

/** Runs `command` and returns what it printed (stdout and stderr, in order). */
export async function run(communicator: Communicator, command: string): Promise<string> {
  const lines: string[] = [];
  await communicator.exec(command, { onLine: (_stream, line) => lines.push(line) });
  return lines.join('\n');
}

/**
 * A disk's files: path → kind, mode and content hash (or link target). What differs between two
 * servers by nature — the machine's id, cloud-init's record of its instance and its log — is left out.
 */
export function diskTree(dir: string, skip: readonly string[] = ['etc/machine-id', 'var/lib/cloud', 'var/log/cloud-init-output.log']): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) return;
    const full = join(dir, rel);
    const stats = lstatSync(full);
    if (stats.isSymbolicLink()) out.set(rel, `link ${readlinkSync(full)}`);
    else if (stats.isDirectory()) {
      if (rel !== '') out.set(rel, `dir ${(stats.mode & 0o7777).toString(8)}`);
      for (const name of readdirSync(full).sort()) walk(rel === '' ? name : `${rel}/${name}`);
    } else out.set(rel, `file ${(stats.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16)}`);
  };
  walk('');
  return out;
}
