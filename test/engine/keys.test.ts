// The temporary key pair: kept 0600 in the state directory, always usable, removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { deleteKeyPair, keyPath, loadOrCreateKeyPair } from '../../src/engine/keys.js';

test('the key pair is written 0600 in a 0700 keys directory, reused on resume, and deleted', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = loadOrCreateKeyPair(dir, 'b1');
  assert.equal(first.created, true);
  assert.equal(statSync(keyPath(dir, 'b1')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
  const again = loadOrCreateKeyPair(dir, 'b1');
  assert.equal(again.created, false);
  assert.equal(again.pair.privateKey, first.pair.privateKey);
  assert.equal(deleteKeyPair(dir, 'b1'), true);
  assert.equal(deleteKeyPair(dir, 'b1'), false);
});

test('every generated key pair can be parsed by ssh2 (a malformed one would make the server unreachable)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // ssh2's generator yields a malformed ed25519 key about once in 100: 300 pairs would show it.
  for (let i = 0; i < 300; i++) {
    const { pair } = loadOrCreateKeyPair(dir, `b${i}`);
    assert.ok(!(ssh2.utils.parseKey(pair.privateKey) instanceof Error), `pair ${i}`);
  }
});
