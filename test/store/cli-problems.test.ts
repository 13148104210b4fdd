// What a user reads when the event store is not what kiln needs (issue 31): a --db / KILN_DB of
// an unknown scheme, a damaged file, a read-only one, a full disk, a store locked by another
// process, and build ids that name no single build. kiln runs as a child process, as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EventStore, type NewBuild } from '../../src/store/index.js';
import { cliArgv, runKiln, spawnKiln, type KilnResult } from '../helpers/cli.js';

type TestContext = { after: (fn: () => void | Promise<void>) => void };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-store-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const record = (id: string): NewBuild => ({
  id,
  templatePath: '/tmp/t.json',
  templateHash: 'abc',
  builderName: 'scaleway',
  spec: { name: 'scaleway', zone: 'fr-par-1' },
  onError: 'cleanup',
});

/** A store holding builds with these ids (each with its start and an end), closed again. */
function storeWith(path: string, ids: string[]): void {
  const store = EventStore.open(path);
  for (const id of ids) {
    store.createBuild(record(id), { type: 'build.started', data: { zone: 'fr-par-1' } });
    store.append(id, { type: 'build.failed', data: { error: { name: 'Error', message: 'x', retryable: false }, cleanedUp: true } });
  }
  store.close();
}

/** No stack trace, no SQLite class name: a sentence for people. */
function assertNoTrace(r: KilnResult): void {
  assert.doesNotMatch(r.stderr, /\n\s+at |SqliteError|node:internal/, r.stderr);
}

const kiln = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  runKiln(args, { env: { PATH: process.env.PATH, HOME: cwd ?? tmpdir(), ...env }, ...(cwd ? { cwd } : {}) });

test('a --db or KILN_DB of another scheme is invalid input (exit 2) that names the schemes kiln knows; no file is made', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  for (const [args, env, said] of [
    [['ls'], { KILN_DB: 'mysql://x' }, /KILN_DB "mysql:\/\/x" is a mysql:\/\/ URL.*a SQLite file \(a path, or a file: URL\) or a postgres:\/\/ \(postgresql:\/\/\) URL/],
    [['ls'], { KILN_DB: 'postgress://team@db/kiln' }, /postgress:\/\/ URL \(did you mean postgres:\/\/\?\)/],
    [['show', 'abc', '--db', 'mysql://x'], {}, /--db "mysql:\/\/x" is a mysql:\/\/ URL/],
    [['gc', '--db', 'redis://x'], { SCW_SECRET_KEY: '7c0ffee0-1234-4abc-8def-0123456789ab' }, /--db "redis:\/\/x" is a redis:\/\/ URL/],
  ] as const) {
    const r = await kiln([...args], { ...env }, dir);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, said);
    assertNoTrace(r);
  }
  assert.deepEqual(readdirSync(dir), [], 'no SQLite file named after the URL');
  // A file: URL is a SQLite file.
  const r = await kiln(['ls'], { KILN_DB: `file://${join(dir, 'via-url.db')}` }, dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'via-url.db')));
});

test('a damaged store file: ls and build say which file, that it is damaged and what to do (exit 1, no trace)', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'kiln.db');
  storeWith(db, Array.from({ length: 300 }, (_, i) => `build-${String(i).padStart(4, '0')}-${'x'.repeat(40)}`));
  // Every page but the first (the schema) overwritten, as a failing disk or a bad copy leaves it.
  const pageSize = 4096;
  const pages = Math.floor(statSync(db).size / pageSize);
  assert.ok(pages > 4, `the store has ${pages} pages`);
  const fd = openSync(db, 'r+');
  for (let page = 1; page < pages; page++) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, page * pageSize);
  closeSync(fd);

  const template = join(dir, 't.json');
  writeFileSync(template, JSON.stringify({ builders: [{ type: 'scaleway', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'DEV1-S', communicator: 'none' }] }));
  for (const args of [['ls'], ['build', '--sim', template]]) {
    const r = await kiln([...args, '--db', db], {}, dir);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`the event store ${db} is (damaged \\(database disk image is malformed\\)|not a SQLite database).*sqlite3 ${db} \\.recover`));
    assertNoTrace(r);
  }
});

// A store this user cannot write: as root, the command runs as `nobody` (root writes anything).
const asOtherUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

test('a read-only store says which path and why', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const db = join(dir, 'kiln.db');
  storeWith(db, ['one']);
  chmodSync(db, 0o444);
  const other = join(dir, 'locked-folder');
  mkdirSync(other, { mode: 0o555 });
  for (const [path, why] of [
    [db, /the file is read-only: permission denied for this user/],
    [join(other, 'kiln.db'), new RegExp(`its folder ${other} is read-only \\(permission denied for this user\\)`)],
  ] as const) {
    const r = await runKiln(['ls', '--db', path], { env: { PATH: process.env.PATH, HOME: tmpdir() }, ...asOtherUser });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write the event store ${path}: `));
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /^kiln ls: (cannot open the event store: )?(unable to open database file|attempt to write a readonly database)$/m);
    assertNoTrace(r);
  }
});

const noUnshare = (() => {
  if (process.getuid?.() !== 0) return 'mounting a small file system needs root';
  const probe = spawnSync('unshare', ['-m', 'true']);
  return probe.status === 0 ? false : `unshare -m does not work here: ${probe.stderr}`;
})();

test('a store on a full disk says which path and that the disk is full', { timeout: 180_000, skip: noUnshare }, async (t) => {
  const dir = tempDir(t);
  const mount = join(dir, 'small');
  mkdirSync(mount);
  // A 48 KiB file system of its own (a mount namespace of the child's): too small for a new store.
  const db = join(mount, 'kiln.db');
  const script = `mount -t tmpfs -o size=48k tmpfs "$1" && shift && exec "$@"`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', mount, process.execPath, ...cliArgv(['ls', '--db', db])], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: tmpdir() },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot write the event store ${db}: the disk holding it is full`));
  assert.doesNotMatch(r.stderr, /disk I\/O error|SqliteError|\n\s+at /);
});

test('a store locked by another process: kiln says it is waiting, then goes on once the lock is released', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'kiln.db');
  storeWith(db, ['one']);
  const template = join(dir, 't.json');
  writeFileSync(template, JSON.stringify({ builders: [{ type: 'scaleway', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'DEV1-S', communicator: 'none' }] }));
  // Another process (here, this one) holds a write transaction open.
  const holder = new Database(db);
  holder.exec('BEGIN IMMEDIATE');
  holder.prepare("UPDATE builds SET updated_at = updated_at WHERE id = 'one'").run();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    holder.exec('COMMIT');
    holder.close();
  };
  t.after(release);

  const child = spawnKiln(['build', '--sim', '--db', db, template], { env: { PATH: process.env.PATH, HOME: dir } });
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (/is locked by another process; waiting for it/.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`kiln ended without saying it waits:\n${stderr}`)));
  });
  assert.match(stderr, new RegExp(`kiln build: the event store ${db} is locked by another process; waiting for it`));
  release();
  const code = await exited;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Builds finished/);
});

test('resume, show and gc resolve build ids one way: an empty id or an ambiguous prefix is a message (exit 2), never a trace', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'kiln.db');
  storeWith(db, ['mxa1b2-000001', 'mxa1b3-000002', 'zz0000-000003']);
  const env = { SCW_SECRET_KEY: '7c0ffee0-1234-4abc-8def-0123456789ab' };
  for (const args of [['resume', 'mx'], ['show', 'mx'], ['gc', '--build', 'mx']]) {
    const r = await kiln([...args, '--db', db], env, dir);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /the build id prefix "mx" matches several builds \(mxa1b2-000001, mxa1b3-000002\); give more characters/);
    assertNoTrace(r);
  }
  for (const args of [['resume', ''], ['show', ''], ['gc', '--build', '']]) {
    const r = await kiln([...args, '--db', db], env, dir);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /no build id given: name a build \(or the start of its id\); `kiln ls` lists them/);
    assertNoTrace(r);
  }
  // An unknown id: resume and show refuse it; gc takes it as given (its resources may come from another machine).
  const unknown = await kiln(['resume', 'nope', '--db', db], env, dir);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /no build with id nope/);
});
