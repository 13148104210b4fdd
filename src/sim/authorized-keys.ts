// root's authorized_keys on a simulated server's disk. As on Scaleway's images, the keys of a
// server's AUTHORIZED_KEY tags are put there during its boot process (each boot: a key added to
// the tags is there after the next one); the SSH endpoint then lets in a key only if the disk's
// file holds it. So a key taken out of the file (kiln does before it snapshots a server) no longer
// opens the server, nor any server made from that snapshot — as on a real one.
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where root's authorized keys live on a disk. */
export const authorizedKeysPath = (diskDir: string): string => join(diskDir, 'root', '.ssh', 'authorized_keys');

/** Adds each key (an authorized_keys line) the file does not hold yet; creates ~/.ssh 0700 and the file 0600. */
export async function installAuthorizedKeys(diskDir: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const file = authorizedKeysPath(diskDir);
  await mkdir(join(diskDir, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await chmod(join(diskDir, 'root', '.ssh'), 0o700);
  const current = await readFile(file, 'utf8').catch(() => '');
  const held = new Set(current.split('\n').map(keyBody).filter(Boolean));
  const missing = keys.filter((key) => !held.has(keyBody(key)));
  if (missing.length === 0) return;
  const text = (current === '' || current.endsWith('\n') ? current : `${current}\n`) + missing.map((key) => `${key.trim()}\n`).join('');
  await writeFile(file, text, { mode: 0o600 });
}

/** The lines of the disk's authorized_keys (none when there is no file), comments and blank lines left out. */
export function authorizedKeysOnDisk(diskDir: string): string[] {
  const file = authorizedKeysPath(diskDir);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A key line's type and base64 body, without its comment: what tells two lines of one key apart. */
function keyBody(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}
