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
// A sealed key read from the store decides the cost, so what it may ask for is bounded before any
// derivation: scrypt's memory (128 · N · r bytes) to twice today's, its work (N · r · p) to four
// times today's. An altered blob can then cost at most a fraction of a second, never gigabytes.
const MAX_SCRYPT_MEMORY = 2 * 128 * PARAMS.N * PARAMS.r;
const MAX_SCRYPT_WORK = 4 * PARAMS.N * PARAMS.r * PARAMS.p;
/** AES-GCM's lengths as sealPrivateKey writes them: a 96-bit IV, a 128-bit tag (a shorter tag is weaker), a 128-bit salt. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 16;

/** The shortest passphrase accepted (it is all that protects the key in a shared store). */
export const MIN_PASSPHRASE_LENGTH = 12;

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 2 * 128 * params.N * params.r };
  return new Promise((resolve, reject) => scrypt(passphrase, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Seals `privateKey` under `passphrase`; `context` (the build id) is bound to it, so a key sealed for one build does not open for another. */
export async function sealPrivateKey(privateKey: string, passphrase: string, context: string): Promise<SealedKey> {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(passphrase, salt, PARAMS), iv, { authTagLength: TAG_BYTES });
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

/** scrypt's parameters as a sealed key may state them: N a power of two, and the cost within the bounds above. */
function boundedScryptParams(s: SealedKey): boolean {
  const powerOfTwo = s.N >= 2 && (s.N & (s.N - 1)) === 0;
  return powerOfTwo && 128 * s.N * s.r <= MAX_SCRYPT_MEMORY && s.N * s.r * s.p <= MAX_SCRYPT_WORK;
}

/** `text` as base64 of exactly `bytes` bytes, or undefined (Buffer.from skips what is not base64: check both ways). */
function base64Of(text: string, bytes?: number): Buffer | undefined {
  const buf = Buffer.from(text, 'base64');
  if (buf.toString('base64') !== text || (bytes !== undefined && buf.length !== bytes)) return undefined;
  return buf;
}

/**
 * The private key sealed in `sealed`; anything else throws KeyUnsealError: a blob that is not a
 * sealed key of this version (lengths, parameters), a wrong passphrase, or an altered blob (GCM
 * authenticates the ciphertext, the build id and, through the derived key, the salt and parameters).
 */
export async function unsealPrivateKey(sealed: unknown, passphrase: string, context: string): Promise<string> {
  const notOurs = new KeyUnsealError('the sealed key is not in a format this version of kiln reads');
  if (!isSealedKey(sealed) || !boundedScryptParams(sealed)) throw notOurs;
  const salt = base64Of(sealed.salt, SALT_BYTES);
  const iv = base64Of(sealed.iv, IV_BYTES);
  const tag = base64Of(sealed.tag, TAG_BYTES);
  const ciphertext = base64Of(sealed.ciphertext);
  if (!salt || !iv || !tag || !ciphertext) throw notOurs;
  let key: Buffer;
  try {
    key = await deriveKey(passphrase, salt, sealed);
  } catch {
    throw notOurs;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
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
