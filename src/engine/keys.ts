// The temporary SSH key pair of a build lives in the state directory, not the event log: it is
// needed to reach the server again after a crash, and it is a secret. Deleted when the build ends.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../ssh/index.js';

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
  const pair = generateKeyPair(`kiln-${buildId}`);
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
