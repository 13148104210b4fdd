// The temporary SSH key sealed into the store for a resume on another machine (issue 16): what
// only the right passphrase opens, what a resume elsewhere is told when it cannot get the key, and
// when `kiln build` warns that the key stays on this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPassphraseFromEnv, KeyUnsealError, sealPrivateKey, unsealPrivateKey, type SealedKey } from '../../src/engine/key-seal.js';
import { KeyUnavailableError, keyPath, loadOrCreateKeyPair, temporaryPrivateKey, unsharedKeyNotice } from '../../src/engine/keys.js';
import { needsTemporaryKey } from '../../src/engine/resume.js';
import { hostStateDir, type BuildEvent } from '../../src/store/index.js';
import type { BuildSpec } from '../../src/template/spec.js';

const PASSPHRASE = 'correct horse battery staple';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-seal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function keyCreated(buildId: string, data: Record<string, unknown>): BuildEvent {
  return { buildId, seq: 3, at: new Date().toISOString(), type: 'key.created', phase: 'key', attempt: 1, data };
}

test('a sealed key opens with its passphrase and build id, and holds no trace of the key in clear', async (t) => {
  const { pair } = loadOrCreateKeyPair(tempDir(t), 'b1');
  const sealed = await sealPrivateKey(pair.privateKey, PASSPHRASE, 'b1');
  assert.equal(await unsealPrivateKey(sealed, PASSPHRASE, 'b1'), pair.privateKey);
  const json = JSON.stringify(sealed);
  assert.doesNotMatch(json, /PRIVATE KEY/);
  for (const line of pair.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!json.includes(line), 'no line of the key body');
  assert.ok(!json.includes(PASSPHRASE));
  // Random salt and IV: sealing the same key twice gives two different blobs.
  const again = await sealPrivateKey(pair.privateKey, PASSPHRASE, 'b1');
  assert.notEqual(again.ciphertext, sealed.ciphertext);
  assert.notEqual(again.salt, sealed.salt);
});

test('a wrong passphrase, another build id, or an altered blob does not open a sealed key', async () => {
  const sealed = await sealPrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n', PASSPHRASE, 'b1');
  await assert.rejects(unsealPrivateKey(sealed, 'wrong horse battery staple', 'b1'), KeyUnsealError);
  await assert.rejects(unsealPrivateKey(sealed, PASSPHRASE, 'b2'), KeyUnsealError);
  const flip = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    return bytes.toString('base64');
  };
  for (const field of ['ciphertext', 'tag', 'iv', 'salt'] as const) {
    await assert.rejects(unsealPrivateKey({ ...sealed, [field]: flip(sealed[field]) }, PASSPHRASE, 'b1'), KeyUnsealError, field);
  }
  // Not a sealed key, or one asking scrypt for more than a sane amount of memory.
  await assert.rejects(unsealPrivateKey({ v: 2 }, PASSPHRASE, 'b1'), /not in a format/);
  await assert.rejects(unsealPrivateKey({ ...sealed, N: 2 ** 30 } satisfies SealedKey, PASSPHRASE, 'b1'), /not in a format/);
});

test('a tampered blob is refused with the unseal error: a cut tag, other lengths, changed or unbounded scrypt parameters', async () => {
  const sealed = await sealPrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n', PASSPHRASE, 'b1');
  const cut = (b64: string, bytes: number) => Buffer.from(b64, 'base64').subarray(0, bytes).toString('base64');
  const tampered: Array<[string, unknown, RegExp]> = [
    // GCM accepts tags from 4 bytes on unless told the length: a 4-byte tag is 2^32 tries from a forgery.
    ['the tag cut to 4 bytes', { ...sealed, tag: cut(sealed.tag, 4) }, /not in a format/],
    ['the tag cut to 12 bytes', { ...sealed, tag: cut(sealed.tag, 12) }, /not in a format/],
    ['an 8-byte IV', { ...sealed, iv: cut(sealed.iv, 8) }, /not in a format/],
    ['a 4-byte salt', { ...sealed, salt: cut(sealed.salt, 4) }, /not in a format/],
    ['a tag that is not base64', { ...sealed, tag: `${sealed.tag.slice(0, -4)}!!!!` }, /not in a format/],
    ['N halved', { ...sealed, N: sealed.N / 2 }, /does not open/],
    ['r changed', { ...sealed, r: 4 }, /does not open/],
    ['N not a power of two', { ...sealed, N: 3 * 2 ** 13 }, /not in a format/],
    ['N = 1', { ...sealed, N: 1 }, /not in a format/],
    // The old bound let these ask scrypt for 4 GiB (N = 2^20, r = 32) or a minute of work (p = 16).
    ['4 GiB of memory', { ...sealed, N: 2 ** 20, r: 32 }, /not in a format/],
    ['sixteen times the work', { ...sealed, p: 16 }, /not in a format/],
  ];
  for (const [what, blob, message] of tampered) {
    await assert.rejects(unsealPrivateKey(blob, PASSPHRASE, 'b1'), (error: unknown) => {
      assert.ok(error instanceof KeyUnsealError, `${what}: ${String(error)}`);
      assert.match(error.message, message, what);
      return true;
    });
  }
  // Untouched, it still opens; another build's id and a wrong passphrase do not.
  assert.match(await unsealPrivateKey(sealed, PASSPHRASE, 'b1'), /abc/);
  await assert.rejects(unsealPrivateKey(sealed, PASSPHRASE, 'another-build'), /does not open/);
  await assert.rejects(unsealPrivateKey(sealed, `${PASSPHRASE}!`, 'b1'), /does not open/);
});

test('KILN_KEY_PASSPHRASE: unset or empty means none; too short is refused with the reason', () => {
  assert.deepEqual(keyPassphraseFromEnv({}), {});
  assert.deepEqual(keyPassphraseFromEnv({ KILN_KEY_PASSPHRASE: '' }), {});
  assert.deepEqual(keyPassphraseFromEnv({ KILN_KEY_PASSPHRASE: PASSPHRASE }), { passphrase: PASSPHRASE });
  const short = keyPassphraseFromEnv({ KILN_KEY_PASSPHRASE: 'short' });
  assert.equal(short.passphrase, undefined);
  assert.match(short.problem ?? '', /5 characters; give at least 12/);
});

test('on another machine the key is unsealed from key.created and kept there 0600 with its public half', async (t) => {
  const hostA = tempDir(t);
  const hostB = tempDir(t);
  const { pair } = loadOrCreateKeyPair(hostA, 'b1');
  const created = keyCreated('b1', { publicKey: pair.publicKey, host: 'runner-a', sealed: await sealPrivateKey(pair.privateKey, PASSPHRASE, 'b1') });
  assert.equal(await temporaryPrivateKey({ stateDir: hostB, buildId: 'b1', passphrase: PASSPHRASE, created }), pair.privateKey);
  assert.equal(readFileSync(keyPath(hostB, 'b1'), 'utf8'), pair.privateKey);
  assert.equal(statSync(keyPath(hostB, 'b1')).mode & 0o777, 0o600);
  assert.equal(readFileSync(`${keyPath(hostB, 'b1')}.pub`, 'utf8').trim(), pair.publicKey);
  // From then on the local copy is used: no passphrase needed.
  assert.equal(await temporaryPrivateKey({ stateDir: hostB, buildId: 'b1', passphrase: undefined, created: undefined }), pair.privateKey);
});

test('without the key, a resume elsewhere is told where the key is and what to do', async (t) => {
  const hostB = tempDir(t);
  const { pair } = loadOrCreateKeyPair(tempDir(t), 'b1');
  const ask = (passphrase: string | undefined, data: Record<string, unknown> | undefined) =>
    temporaryPrivateKey({ stateDir: hostB, buildId: 'b1', passphrase, created: data ? keyCreated('b1', data) : undefined });

  // Not sealed: the key is on the machine that started the build.
  await assert.rejects(ask(PASSPHRASE, { publicKey: pair.publicKey, host: 'runner-a' }), (e: Error) => {
    assert.ok(e instanceof KeyUnavailableError);
    assert.match(e.message, new RegExp(`not in ${join(hostB, 'keys')} on this machine \\(${hostname()}\\): it was made on runner-a`));
    assert.match(e.message, /Resume the build on runner-a, or `kiln gc --build b1 --force`/);
    assert.match(e.message, /set KILN_KEY_PASSPHRASE \(the same on every machine\) before `kiln build`/);
    return true;
  });
  const sealed = await sealPrivateKey(pair.privateKey, PASSPHRASE, 'b1');
  // Sealed, no passphrase given.
  await assert.rejects(ask(undefined, { publicKey: pair.publicKey, host: 'runner-a', sealed }), /sealed with a passphrase\. Set KILN_KEY_PASSPHRASE to the passphrase the build started with \(on runner-a\)/);
  // Sealed, the wrong passphrase.
  await assert.rejects(ask('not the right passphrase', { publicKey: pair.publicKey, host: 'runner-a', sealed }), (e: Error) => {
    assert.ok(e instanceof KeyUnavailableError);
    assert.match(e.message, /KILN_KEY_PASSPHRASE does not open the temporary SSH key of build b1 sealed in the store: the passphrase does not open/);
    assert.match(e.message, /resume the build on runner-a, or `kiln gc --build b1 --force`/);
    return true;
  });
  // No record at all.
  await assert.rejects(ask(PASSPHRASE, undefined), /the build has no record of it/);
  assert.equal(existsSync(keyPath(hostB, 'b1')), false, 'nothing written on a failure');
});

const ssh = (extra: Record<string, unknown> = {}) => ({ communicator: { type: 'ssh', ...extra } }) as unknown as Pick<BuildSpec, 'communicator'>;

test('a resume needs the existing key only between the key phase and machine.cleanup, and only for a temporary key', () => {
  const at = (phase: string, spec = ssh()) => needsTemporaryKey(spec, { phase: phase as never });
  assert.deepEqual(
    ['prepare', 'key', 'server.create', 'ssh.connect', 'provision', 'user_data.wait', 'machine.cleanup', 'server.stop', 'snapshot.wait', 'cleanup'].map((p) => at(p)),
    [false, false, true, true, true, true, true, false, false, false],
  );
  assert.equal(at('provision', ssh({ privateKeyFile: '/home/me/.ssh/id_ed25519' })), false);
  assert.equal(at('provision', ssh({ password: 'pw' })), false);
  assert.equal(at('provision', { communicator: { type: 'none' } } as unknown as Pick<BuildSpec, 'communicator'>), false);
});

test('kiln build notices that the key stays on this machine only with a shared store, a temporary key and no passphrase', () => {
  const notice = (o: { sharedStore: boolean; passphrase?: string; spec?: Pick<BuildSpec, 'communicator'> }) =>
    unsharedKeyNotice({ sharedStore: o.sharedStore, passphrase: o.passphrase, spec: o.spec ?? ssh(), stateDir: '/var/lib/kiln' });
  assert.match(notice({ sharedStore: true }) ?? '', /stays in \/var\/lib\/kiln\/keys on this machine .*set KILN_KEY_PASSPHRASE/);
  assert.equal(notice({ sharedStore: false }), undefined);
  assert.equal(notice({ sharedStore: true, passphrase: PASSPHRASE }), undefined);
  assert.equal(notice({ sharedStore: true, spec: ssh({ privateKeyFile: '/k' }) }), undefined);
  assert.equal(notice({ sharedStore: true, spec: { communicator: { type: 'none' } } as unknown as Pick<BuildSpec, 'communicator'> }), undefined);
});

test("a machine's state directory: KILN_STATE_DIR, else the SQLite file's folder, else (PostgreSQL) XDG_STATE_HOME/kiln", () => {
  const sqlite = { kind: 'sqlite', path: '/data/kiln.db' } as const;
  const pg = { kind: 'postgres', url: 'postgres://ci@db/kiln' } as const;
  assert.equal(hostStateDir(sqlite, {}), '/data');
  assert.equal(hostStateDir(pg, { XDG_STATE_HOME: '/home/ci/.state' }), '/home/ci/.state/kiln');
  assert.equal(hostStateDir(sqlite, { KILN_STATE_DIR: '/var/lib/kiln-local' }), '/var/lib/kiln-local');
  assert.equal(hostStateDir(pg, { KILN_STATE_DIR: '/var/lib/kiln-local', XDG_STATE_HOME: '/x' }), '/var/lib/kiln-local');
});
