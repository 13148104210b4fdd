// The temporary SSH key pair of a build lives in this host's state directory: it is needed to
// reach the server again after a crash, and it is a secret. Deleted when the build ends. The event
// log holds its public half and, when the user gave KILN_KEY_PASSPHRASE, the private half sealed
// with it (key-seal.ts), so that another machine sharing the store can resume the build.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../ssh/index.js';
import type { BuildEvent } from '../store/index.js';
import type { BuildSpec } from '../template/spec.js';
import { isSealedKey, KeyUnsealError, unsealPrivateKey } from './key-seal.js';

export function keyDir(stateDir: string): string {
  return join(stateDir, 'keys');
}

export function keyPath(stateDir: string, buildId: string): string {
  return join(keyDir(stateDir), `${buildId}.key`);
}

function writeKeyPair(stateDir: string, buildId: string, pair: KeyPair): string {
  const path = keyPath(stateDir, buildId);
  mkdirSync(keyDir(stateDir), { recursive: true, mode: 0o700 });
  // Written with its final mode: there is no moment where the private key is readable by others.
  writeFileSync(path, pair.privateKey, { mode: 0o600, flag: 'w' });
  writeFileSync(`${path}.pub`, pair.publicKey + '\n', { mode: 0o600, flag: 'w' });
  return path;
}

/** The build's key pair: the stored one (resume), or a new one written 0600. */
export function loadOrCreateKeyPair(stateDir: string, buildId: string): { pair: KeyPair; created: boolean; path: string } {
  const path = keyPath(stateDir, buildId);
  if (existsSync(path) && existsSync(`${path}.pub`)) {
    return { pair: { privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() }, created: false, path };
  }
  const pair = generateKeyPair(`kiln-${buildId}`);
  return { pair, created: true, path: writeKeyPair(stateDir, buildId, pair) };
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

/** The build's temporary private key is neither on this host nor recoverable from the store; the message says what to do. */
export class KeyUnavailableError extends Error {
  override readonly name = 'KeyUnavailableError';
}

export interface TemporaryKeyQuery {
  stateDir: string;
  buildId: string;
  /** KILN_KEY_PASSPHRASE, when given. */
  passphrase: string | undefined;
  /** The build's last `key.created` event. */
  created: BuildEvent | undefined;
}

/**
 * The build's temporary private key on this host: the local copy, else the one sealed in its
 * `key.created` event, unsealed with the passphrase and written here (0600) for the phases and
 * resumes that follow (the cleanup deletes it as any other).
 */
export async function temporaryPrivateKey(q: TemporaryKeyQuery): Promise<string> {
  const local = readPrivateKey(q.stateDir, q.buildId);
  if (local !== undefined) return local;
  const data = q.created?.data ?? {};
  const owner = typeof data.host === 'string' ? data.host : 'the machine that started the build';
  const here = `${keyDir(q.stateDir)} on this machine (${hostname()})`;
  const cleanup = `\`kiln gc --build ${q.buildId} --force\` removes what the build created`;
  if (!q.created || typeof data.publicKey !== 'string') {
    throw new KeyUnavailableError(`the temporary SSH key of build ${q.buildId} is not in ${here} and the build has no record of it; the server cannot be reached. ${cleanup}.`);
  }
  if (!isSealedKey(data.sealed)) {
    throw new KeyUnavailableError(
      `the temporary SSH key of build ${q.buildId} is not in ${here}: it was made on ${owner} and, as KILN_KEY_PASSPHRASE was not set when the build started, kept only there. ` +
        `Resume the build on ${owner}, or ${cleanup}. For builds that must resume on another machine, set KILN_KEY_PASSPHRASE (the same on every machine) before \`kiln build\`.`,
    );
  }
  if (!q.passphrase) {
    throw new KeyUnavailableError(
      `the temporary SSH key of build ${q.buildId} is not in ${here}; the store holds it sealed with a passphrase. ` +
        `Set KILN_KEY_PASSPHRASE to the passphrase the build started with (on ${owner}), or resume the build there.`,
    );
  }
  let privateKey: string;
  try {
    privateKey = await unsealPrivateKey(data.sealed, q.passphrase, q.buildId);
  } catch (error) {
    if (!(error instanceof KeyUnsealError)) throw error;
    throw new KeyUnavailableError(
      `KILN_KEY_PASSPHRASE does not open the temporary SSH key of build ${q.buildId} sealed in the store: ${error.message}. ` +
        `Set it to the passphrase the build started with (on ${owner}), resume the build on ${owner}, or ${cleanup}.`,
    );
  }
  writeKeyPair(q.stateDir, q.buildId, { privateKey, publicKey: data.publicKey });
  return privateKey;
}

/** Whether a build of `spec` reaches its server with its temporary key pair only (no key file, password or agent of the user's). */
export function usesTemporaryKeyOnly(spec: Pick<BuildSpec, 'communicator'>): boolean {
  const c = spec.communicator;
  return c.type === 'ssh' && !c.privateKeyFile && !c.password && !c.agentAuth;
}

/**
 * The notice printed when a build starts against a shared store (PostgreSQL) with a temporary key
 * and no passphrase: the key stays on this machine, so no other machine can resume the build.
 */
export function unsharedKeyNotice(o: { sharedStore: boolean; spec: Pick<BuildSpec, 'communicator'>; passphrase: string | undefined; stateDir: string }): string | undefined {
  if (!o.sharedStore || o.passphrase || !usesTemporaryKeyOnly(o.spec)) return undefined;
  return (
    `kiln: notice: the build's temporary SSH key stays in ${keyDir(o.stateDir)} on this machine (${hostname()}): ` +
    'a `kiln resume` on another machine sharing this store could not reach its server. To make builds resumable elsewhere, ' +
    'set KILN_KEY_PASSPHRASE (at least 12 characters, the same on every machine): the key is then kept in the store, sealed with it.'
  );
}
