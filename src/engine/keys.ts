// The temporary SSH key pair of a build lives in the state directory, not the event log: it is
// needed to reach the server again after a crash, and it is a secret. Deleted when the build ends.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateKeyPair, type KeyPair } from '../ssh/index.js';

/**
 * A key pair that ssh2 itself can read back. ssh2's ed25519 generator now and then (about 1 in
 * 100) drops a leading zero byte of the public key, giving a key that neither ssh2 nor the server
 * accepts; such a pair is thrown away and made again.
 */
function generateUsableKeyPair(comment: string): KeyPair {
  for (let attempt = 1; ; attempt++) {
    const pair = generateKeyPair(comment);
    const ok = !(ssh2.utils.parseKey(pair.privateKey) instanceof Error) && !(ssh2.utils.parseKey(pair.publicKey) instanceof Error);
    if (ok || attempt >= 20) return pair;
  }
}

export function keyDir(stateDir: string): string {
  return join(stateDir, 'keys');
}

export function keyPath(stateDir: string, buildId: string): string {
  return join(keyDir(stateDir), `${buildId}.key`);
}

/** The build's key pair: the stored one (resume), or a new one written 0600. */
export function loadOrCreateKeyPair(stateDir: string, buildId: string): { pair: KeyPair; created: boolean; path: string } {
  const path = keyPath(stateDir, buildId);
  if (existsSync(path) && existsSync(`${path}.pub`)) {
    return { pair: { privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() }, created: false, path };
  }
  mkdirSync(keyDir(stateDir), { recursive: true, mode: 0o700 });
  const pair = generateUsableKeyPair(`kiln-${buildId}`);
  // Written with its final mode: there is no moment where the private key is readable by others.
  writeFileSync(path, pair.privateKey, { mode: 0o600, flag: 'w' });
  writeFileSync(`${path}.pub`, pair.publicKey + '\n', { mode: 0o600, flag: 'w' });
  return { pair, created: true, path };
}

export function readPrivateKey(stateDir: string, buildId: string): string | undefined {
  const path = keyPath(stateDir, buildId);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Removes the build's key pair; true when there was one. */
export function deleteKeyPair(stateDir: string, buildId: string): boolean {
  const path = keyPath(stateDir, buildId);
  const existed = existsSync(path);
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  return existed;
}
