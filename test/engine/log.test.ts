// The engine's build log (src/engine/log.ts): one ordered writer per build over either store.
// SQLite answers at once and the log adds no tick; PostgreSQL's appends are chained in order,
// reads wait for them, a dropped connection is ridden out, and an append whose answer was lost
// after it committed is not recorded twice. A store that refuses an append stops the build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BuildLog } from '../../src/engine/log.js';
import { EventStore, isStoreUnavailable, LogMovedError, openDatabase, StoreUnavailableError, type BuildStore, type NewEvent } from '../../src/store/index.js';
import { PgEventStore } from '../../src/store/postgres.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';
import { startHarness, template } from './harness.js';

const skip = postgresUnavailableReason();
const output = (i: number): NewEvent => ({ type: 'provision.output', phase: 'provision', data: { index: 0, lines: [{ stream: 'stdout', line: `line ${i}` }] } });

async function newBuild(store: BuildStore, id: string): Promise<void> {
  await store.createBuild({ id, templatePath: 't.json', templateHash: 'h', builderName: 'b', spec: {}, onError: 'cleanup' }, { type: 'build.started', data: {} });
}

test('on SQLite an idle log appends in the caller’s turn and reads answer at once', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = EventStore.open(join(dir, 'kiln.db'));
  t.after(() => store.close());
  store.createBuild({ id: 'b1', templatePath: 't.json', templateHash: 'h', builderName: 'b', spec: {}, onError: 'cleanup' }, { type: 'build.started', data: {} });
  const log = new BuildLog({ store, buildId: 'b1', lastSeq: 1 });
  void log.append([output(1)]);
  // Committed before append returned: nothing waits on a tick.
  assert.equal(store.getBuild('b1')!.lastSeq, 2);
  const last = log.read((s) => s.lastEvent('b1', 'provision.output'));
  assert.ok(!(last instanceof Promise), 'a read of an idle log on SQLite is not deferred');
  assert.equal((last as { seq: number }).seq, 2);
});

test('on PostgreSQL appends keep their order, and a read sees every earlier append', { skip, timeout: 60_000 }, async (t) => {
  const store = await PgEventStore.open(await testDatabase(t));
  t.after(() => store.close());
  await newBuild(store, 'b1');
  const log = new BuildLog({ store, buildId: 'b1', lastSeq: 1 });
  // Not awaited one by one: the log chains them.
  const appends = Array.from({ length: 20 }, (_, i) => log.append([output(i)]));
  const last = await log.read((s) => s.lastEvent('b1', 'provision.output'));
  assert.equal(last?.seq, 21, 'the read waited for the appends before it');
  await Promise.all(appends);
  const events = await store.events('b1');
  assert.deepEqual(
    events.slice(1).map((e) => (e.data.lines as { line: string }[])[0]!.line),
    Array.from({ length: 20 }, (_, i) => `line ${i}`),
  );
});

test('on PostgreSQL a connection dropped under an append is ridden out: the append goes in once', { skip, timeout: 60_000 }, async (t) => {
  const url = await testDatabase(t);
  const store = await PgEventStore.open(url);
  t.after(() => store.close());
  await newBuild(store, 'b1');
  const log = new BuildLog({ store, buildId: 'b1', lastSeq: 1 });
  await log.append([output(1)]);
  // The build's row is held, so that the next append is in flight on its connection when that is cut.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let append: Promise<unknown>;
  try {
    await admin.query('BEGIN');
    await admin.query("SELECT 1 FROM builds WHERE id = 'b1' FOR UPDATE");
    append = log.append([output(2)]);
    let waiting: number | undefined;
    while (waiting === undefined) {
      const { rows } = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
      );
      waiting = rows[0]?.pid;
    }
    await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
    await admin.query('COMMIT');
  } finally {
    await admin.end();
  }
  await append;
  await log.append([output(3)]);
  assert.deepEqual((await store.events('b1')).map((e) => e.seq), [1, 2, 3, 4]);
  assert.equal(log.failed, undefined);
});

test('an append whose answer was lost after it committed is not recorded twice', { skip, timeout: 60_000 }, async (t) => {
  const store = await PgEventStore.open(await testDatabase(t));
  t.after(() => store.close());
  await newBuild(store, 'b1');
  // The store commits, then the connection drops before its answer arrives (injected: the answer is thrown away).
  let loseNextAnswer = true;
  const losing: BuildStore = Object.create(store, {
    appendMany: {
      value: async (id: string, events: NewEvent[], expect?: { afterSeq: number }) => {
        const appended = await store.appendMany(id, events, expect);
        if (loseNextAnswer) {
          loseNextAnswer = false;
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
        }
        return appended;
      },
    },
  }) as BuildStore;
  const log = new BuildLog({ store: losing, buildId: 'b1', lastSeq: 1 });
  const appended = await log.append([output(1), output(2)]);
  assert.deepEqual(appended.map((e) => e.seq), [2, 3], 'the events the first try committed');
  await log.append([output(3)]);
  assert.deepEqual((await store.events('b1')).map((e) => e.seq), [1, 2, 3, 4], 'nothing recorded twice');
});

test('a retried append is taken as committed only when the log holds exactly its events, not others of the same types', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = EventStore.open(join(dir, 'kiln.db'));
  t.after(() => store.close());
  store.createBuild({ id: 'b1', templatePath: 't.json', templateHash: 'h', builderName: 'b', spec: {}, onError: 'cleanup' }, { type: 'build.started', data: {} });
  // The first try is lost on the way; meanwhile another writer appends two events of the same types with other data.
  let first = true;
  const racing: BuildStore = Object.create(store, {
    appendMany: {
      value: (id: string, events: NewEvent[], expect?: { afterSeq: number }) => {
        if (first) {
          first = false;
          store.appendMany(id, [output(100), output(101)]);
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
        }
        return store.appendMany(id, events, expect);
      },
    },
  }) as BuildStore;
  const log = new BuildLog({ store: racing, buildId: 'b1', lastSeq: 1, retryMs: 5_000 });
  return assert.rejects(log.append([output(1), output(2)]), LogMovedError, 'another writer’s events are not this append’s');
});

/** A loopback TCP relay to PostgreSQL that can go silent: bytes are then dropped both ways, as by a network partition. */
async function relay(target: URL): Promise<{ url: string; silence(): void; close(): Promise<void> }> {
  let silent = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => (client.destroy(), upstream.destroy()));
    }
    client.on('data', (chunk) => void (silent || upstream.write(chunk)));
    upstream.on('data', (chunk) => void (silent || client.write(chunk)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    silence: () => void (silent = true),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('a store that goes silent (packets dropped) fails the log within the bound; nothing is sent again', { skip, timeout: 60_000 }, async (t) => {
  const path = await relay(new URL(await testDatabase(t)));
  const store = await PgEventStore.open(path.url);
  // The relay closes first: the silent connections then end, and the store can close.
  t.after(async () => {
    await path.close();
    await store.close();
  });
  await newBuild(store, 'b1');
  const failures: unknown[] = [];
  const log = new BuildLog({ store, buildId: 'b1', lastSeq: 1, retryMs: 1_500, onFailure: (error) => failures.push(error) });
  await log.append([output(1)]);
  path.silence();
  await assert.rejects(log.append([output(2)]), StoreUnavailableError);
  assert.equal(failures.length, 1);
  assert.ok(failures[0] instanceof StoreUnavailableError && /unreachable/.test(failures[0].message), String(failures[0]));
  // Failed for good: later appends and reads are refused at once, without asking the store.
  await assert.rejects(log.append([output(3)]), StoreUnavailableError);
  assert.throws(() => log.read((s) => s.getBuild('b1')), StoreUnavailableError);
});

test('connection-class errors are retried, refusals are not', () => {
  assert.equal(isStoreUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isStoreUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
  assert.equal(isStoreUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isStoreUnavailable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })), false);
  assert.equal(isStoreUnavailable(new Error('no build with id x')), false);
});

test('a store that refuses an intent stops the build as on a signal: the call it announces is not made', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  // The database refuses the image's intent (as a full disk would), through a second connection.
  const db = openDatabase(h.dbPath);
  db.exec(`CREATE TRIGGER refuse_image BEFORE INSERT ON events WHEN NEW.type = 'image.create.requested' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END`);
  db.close();
  const [outcome] = await h.build(h.template(template({ image_name: 'refused', snapshot_name: 'refused' })));
  assert.equal(outcome!.status, 'interrupted', JSON.stringify(outcome));
  assert.equal(outcome!.phase, 'image.create');
  assert.match(outcome!.logFailure?.message ?? '', /disk full \(test\)/);
  assert.equal(outcome!.logFailure?.storeUnavailable, false);
  const inv = await h.inventory(outcome!.buildId);
  assert.deepEqual(inv.images, [], 'no image was asked for without its intent in the log');
  assert.equal(inv.snapshots.length, 1, 'what was recorded is kept for resume');
  assert.equal(h.events(outcome!.buildId).at(-1)!.type, 'phase.started', 'nothing recorded after the refused intent');
});

test('an unreachable store is tried again only while the run’s lease is sure to hold, whatever the retry window', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const real = EventStore.open(join(dir, 'kiln.db'));
  t.after(() => real.close());
  await newBuild(real, 'b1');
  // A store that has gone away: every append is refused at the connection.
  const gone = new Proxy(real, {
    get: (target, name, receiver) =>
      name === 'appendMany'
        ? () => {
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
          }
        : (Reflect.get(target, name, receiver) as unknown),
  });
  let failure: unknown;
  const heldUntil = Date.now() + 300;
  // Ten minutes of retries allowed, but the lease may lapse in 0.3 s: the log gives up then, not
  // after the window (this test's timeout is far shorter than the window).
  const log = new BuildLog({ store: gone, buildId: 'b1', lastSeq: 1, retryMs: 10 * 60_000, leaseHeldUntil: () => heldUntil, onFailure: (e) => (failure = e) });
  await assert.rejects(log.append([output(1)]), StoreUnavailableError);
  assert.ok(failure instanceof StoreUnavailableError, 'and the build is told to stop');
  assert.equal(real.getBuild('b1')!.lastSeq, 1, 'nothing was written');
});
