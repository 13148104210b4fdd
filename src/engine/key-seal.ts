// Sealing a build's temporary SSH private key for the event store (issue 16): with a shared store a
// build may resume on another machine, which must reach the server with the same key, and the key
// must never be in the store in plain text. The user gives every machine the same passphrase
// (KILN_KEY_PASSPHRASE); the key is stored encrypted with AES-256-GCM under a key derived from it
// with scrypt. node:crypto has both, built in and maintained with Node: a library would add a
// dependency for three calls.
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';

/** What `key.created` records of a sealed key (every byte string base64). */
export interface SealedKey {
  v: 1;
  kdf: 'scrypt';
  /** scrypt's cost parameters, recorded so that they can grow without breaking older builds. */
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** The sealed key could not be opened: a wrong passphrase, an altered blob, or not a sealed key. */
export class KeyUnsealError extends Error {
  override readonly name = 'KeyUnsealError';
}

// scrypt at N=2^15, r=8, p=1 costs 32 MiB and about 0.1 s: once per build and once per resume on
// another machine, and expensive for whoever tries passphrases against a copy of the store.
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
// A sealed key read from the store decides the cost: bounded, so an altered one cannot ask for gigabytes.
const MAX_N = 2 ** 20;

/** The shortest passphrase accepted (it is all that protects the key in a shared store). */
export const MIN_PASSPHRASE_LENGTH = 12;

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => scrypt(passphrase, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Seals `privateKey` under `passphrase`; `context` (the build id) is bound to it, so a key sealed for one build does not open for another. */
export async function sealPrivateKey(privateKey: string, passphrase: string, context: string): Promise<SealedKey> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(passphrase, salt, PARAMS), iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(privateKey, 'utf8'), cipher.final()]);
  const b64 = (b: Buffer) => b.toString('base64');
  return { v: 1, kdf: 'scrypt', ...PARAMS, salt: b64(salt), iv: b64(iv), tag: b64(cipher.getAuthTag()), ciphertext: b64(ciphertext) };
}

export function isSealedKey(value: unknown): value is SealedKey {
  const s = value as Partial<SealedKey> | null;
  const int = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;
  return (
    typeof s === 'object' &&
    s !== null &&
    s.v === 1 &&
    s.kdf === 'scrypt' &&
    int(s.N) &&
    int(s.r) &&
    int(s.p) &&
    [s.salt, s.iv, s.tag, s.ciphertext].every((x) => typeof x === 'string')
  );
}

/** The private key sealed in `sealed`; a wrong passphrase or an altered blob throws KeyUnsealError (GCM authenticates both). */
export async function unsealPrivateKey(sealed: unknown, passphrase: string, context: string): Promise<string> {
  if (!isSealedKey(sealed) || sealed.N > MAX_N || sealed.r > 32 || sealed.p > 16) {
    throw new KeyUnsealError('the sealed key is not in a format this version of kiln reads');
  }
  const buf = (s: string) => Buffer.from(s, 'base64');
  const key = await deriveKey(passphrase, buf(sealed.salt), sealed);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf(sealed.iv));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(buf(sealed.tag));
    return Buffer.concat([decipher.update(buf(sealed.ciphertext)), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyUnsealError('the passphrase does not open the sealed key (a wrong passphrase, or the sealed key was altered)');
  }
}

/**
 * KILN_KEY_PASSPHRASE (`passphrase` undefined when it is not set), or the `problem` that makes it
 * unusable: one shorter than MIN_PASSPHRASE_LENGTH would be guessed from a copy of the store.
 */
export function keyPassphraseFromEnv(env: NodeJS.ProcessEnv = process.env): { passphrase?: string; problem?: string } {
  const value = env.KILN_KEY_PASSPHRASE;
  if (value === undefined || value === '') return {};
  if (value.length < MIN_PASSPHRASE_LENGTH) {
    return {
      problem:
        `KILN_KEY_PASSPHRASE has ${value.length} characters; give at least ${MIN_PASSPHRASE_LENGTH} ` +
        "(it is all that protects the build's SSH key sealed in the store), or unset it to keep the key on this machine only",
    };
  }
  return { passphrase: value };
}

/** `secrets` with the key passphrase, if any: no output, event or log line may show it either. */
export function withKeyPassphrase(secrets: readonly string[], passphrase: string | undefined): string[] {
  return [...secrets, ...(passphrase ? [passphrase] : [])];
}
