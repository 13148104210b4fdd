import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, authorizedKeyTag, generateKeyPair, shellAssignments } from '../../src/ssh/index.js';
import ssh2 from 'ssh2';

test('LineSplitter joins partial chunks, splits CRLF and multi-byte characters safely, flushes the last line', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const text = Buffer.from('first\r\nsecond ünïcødé\nthird\n\nlast without newline', 'utf8');
  // Feed byte by byte: every chunk boundary, including inside a UTF-8 sequence, is exercised.
  for (const byte of text) splitter.push(Buffer.from([byte]));
  splitter.flush();
  assert.deepEqual(lines, ['first', 'second ünïcødé', 'third', '', 'last without newline']);
});

test('generateKeyPair makes an ed25519 pair that ssh2 can parse, with an authorized_keys line', () => {
  const pair = generateKeyPair('kiln-build-1');
  assert.match(pair.publicKey, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ kiln-build-1$/);
  assert.match(pair.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
  const parsed = ssh2.utils.parseKey(pair.privateKey);
  assert.ok(!(parsed instanceof Error), 'private key parses');
  const publicOfPrivate = (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH().toString('base64');
  assert.equal(pair.publicKey.split(' ')[1], publicOfPrivate, 'the two halves match');
  assert.notEqual(generateKeyPair().privateKey, pair.privateKey, 'fresh keys every time');
});

test('every generated key pair is usable (ssh2 1.17 alone makes a malformed ed25519 key about 1 time in 200)', () => {
  for (let i = 0; i < 1500; i++) {
    const pair = generateKeyPair();
    assert.ok(!(ssh2.utils.parseKey(pair.privateKey) instanceof Error), `key ${i}: the private key parses`);
    assert.ok(!(ssh2.utils.parseKey(pair.publicKey) instanceof Error), `key ${i}: the public key parses`);
  }
});

test('authorizedKeyTag replaces spaces with underscores and rejects what is not a public key', () => {
  assert.equal(authorizedKeyTag('ssh-ed25519 AAAAC3Nz kiln\n'), 'AUTHORIZED_KEY=ssh-ed25519_AAAAC3Nz_kiln');
  assert.throws(() => authorizedKeyTag('-----BEGIN OPENSSH PRIVATE KEY-----'), /authorized_keys line/);
});

test('shellAssignments quotes values for a POSIX shell and rejects bad names', () => {
  assert.equal(shellAssignments({ A: "it's", B: 'x y $HOME' }), `A='it'"'"'s' B='x y $HOME'`);
  assert.throws(() => shellAssignments({ 'BAD-NAME': '1' }), /not a valid environment variable name/);
});
