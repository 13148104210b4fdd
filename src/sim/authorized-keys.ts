// root's authorized_keys on a simulated server's disk. As on Scaleway's images, the keys of a
// server's AUTHORIZED_KEY tags are put there during its boot process (each boot: a key added to
// the tags is there after the next one); the SSH endpoint then lets in a key only if the disk's
// file holds it. So a key taken out of the file (kiln does before it snapshots a server) no longer
// opens the server, nor any server made from that snapshot — as on a real one.
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { makeGuestDir, readGuestFile, readGuestFileSync, writeGuestFile } from './guest-files.js';

const SSH_DIR = 'root/.ssh';
const KEYS_FILE = `${SSH_DIR}/authorized_keys`;

/** Where root's authorized keys live on a disk. */
export const authorizedKeysPath = (diskDir: string): string => join(diskDir, 'root', '.ssh', 'authorized_keys');

/** Adds each key (an authorized_keys line) the file does not hold yet; creates ~/.ssh 0700 and the file 0600. */
export async function installAuthorizedKeys(diskDir: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  // Through guest-files.ts: the guest owns its disk, and a link it planted at root/.ssh must not
  // lead the simulator (root on the host) to another authorized_keys.
  await makeGuestDir(diskDir, SSH_DIR);
  await chmod(join(diskDir, SSH_DIR), 0o700); // a real directory: makeGuestDir checked it
  const current = (await readGuestFile(diskDir, KEYS_FILE)) ?? '';
  const held = new Set(current.split('\n').map(keyBody).filter(Boolean));
  const missing = keys.filter((key) => !held.has(keyBody(key)));
  if (missing.length === 0) return;
  const text = (current === '' || current.endsWith('\n') ? current : `${current}\n`) + missing.map((key) => `${key.trim()}\n`).join('');
  await writeGuestFile(diskDir, KEYS_FILE, text, 0o600);
}

/** The lines of the disk's authorized_keys (none when there is no file, or it is a link), comments and blank lines left out. */
export function authorizedKeysOnDisk(diskDir: string): string[] {
  return (readGuestFileSync(diskDir, KEYS_FILE) ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A key line's type and base64 body, without its comment: what tells two lines of one key apart. */
function keyBody(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}
