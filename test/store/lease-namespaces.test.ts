// Leases across containers (issue 25): processes in pid namespaces of their own, as CI containers
// on one machine are, sharing a host name or not, pid 1 each. A live lease is never taken from
// another container before it expires by the store's clock, whatever the pid and host name say; a
// dead holder's lease is taken once it has expired; only in the holder's own pid namespace does a
// dead pid free it at once. On a SQLite file and on a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeaseHeldError, openStore, resolveStoreLocation, thisProcess, type BuildStore, type Lease } from '../../src/store/index.js';
import { asContainer, containerUnavailableReason } from '../../scripts/lib/hostname.js';
import { sleep } from '../../src/shared/sleep.js';
import { cliArgv } from '../helpers/cli.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';

type TestContext = { after: (fn: () => void | Promise<void>) => void };

const here = fileURLToPath(import.meta.url);
const fixture = here.replace(/lease-namespaces\.test\.(ts|js)$/, 'lease-holder.$1');
const fixtureArgv = here.endsWith('.ts') ? ['--import', import.meta.resolve('tsx'), fixture] : [fixture];

/** What lease-holder printed. */
interface Said {
  pid: number;
  pidSpace: string | null;
  /** The store's clock just before the try. */
  clock: number;
  lease?: Lease;
  refused?: string;
  holder?: Lease;
}

interface Holder {
  said: Said;
  /** Ends the process without releasing its lease (as if killed), once it has exited. */
  die(): Promise<void>;
}

const noContainers = containerUnavailableReason();
const kinds: { name: string; skip: string | undefined; place(t: TestContext): Promise<string> }[] = [
  {
    name: 'SQLite',
    skip: noContainers,
    place: async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-lease-ns-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      return join(dir, 'kiln.db');
    },
  },
  { name: 'PostgreSQL', skip: noContainers ?? postgresUnavailableReason(), place: (t) => testDatabase(t as never) },
];

/** Starts lease-holder `mode` in a container named `host` (or, with host null, in this pid namespace). */
function leaseHolder(t: TestContext, mode: 'hold' | 'try', host: string | null, location: string, ttlMs: number): Promise<Holder> {
  const argv = [...fixtureArgv, mode, location, 'b1', String(ttlMs)];
  const { command, args } = host === null ? { command: process.execPath, args: argv } : asContainer(host, process.execPath, argv);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!out.includes('\n')) return;
      resolve({ said: JSON.parse(out.split('\n')[0]!) as Said, die: async () => void (child.stdin!.end(), await exited) });
    });
    child.on('close', (code) => reject(new Error(`lease-holder ${mode} exited ${code} before saying anything: ${err}`)));
  });
}

async function newBuild(t: TestContext, location: string): Promise<BuildStore> {
  const store = await openStore(resolveStoreLocation(location));
  t.after(() => store.close());
  await store.createBuild(
    { id: 'b1', templatePath: '/nonexistent/t.json', templateHash: 'h', builderName: 'scaleway', spec: null, onError: 'abort' },
    { type: 'build.started' },
  );
  return store;
}

/** The rule that must hold at every try: a lease is taken only from nobody, or once its holder's lease expired. */
function assertNotTakenLive(attempt: Said, held: Lease, what: string): void {
  if (attempt.lease) assert.ok(attempt.clock >= held.expiresAt, `${what}: took a live lease (store clock ${attempt.clock}, lease until ${held.expiresAt})`);
}

for (const kind of kinds) {
  test(`${kind.name}: a live lease is never taken from another container, same host name or not; kiln resume says who holds it and until when`, { skip: kind.skip, timeout: 240_000 }, async (t) => {
    const location = await kind.place(t);
    const store = await newBuild(t, location);
    const holder = await leaseHolder(t, 'hold', 'ci-runner', location, 120_000);
    const held = holder.said.lease!;
    assert.ok(held, 'the first container takes the lease');
    assert.equal(held.pid, 1, 'the holder is pid 1 of its namespace');
    const mine = thisProcess();
    assert.equal(held.pidSpace!.split('/')[0], mine.pidSpace!.split('/')[0], 'same machine, same boot');
    assert.notEqual(held.pidSpace, mine.pidSpace, 'another pid namespace');

    for (const host of ['ci-runner', 'other-runner']) {
      const attempt = (await leaseHolder(t, 'try', host, location, 120_000)).said;
      assert.equal(attempt.pid, 1, 'pid 1 too');
      assertNotTakenLive(attempt, held, `a container named ${host}`);
      assert.ok(attempt.refused, `a container named ${host} is refused`);
      assert.deepEqual(attempt.holder, held, 'and told who holds it');
    }
    // This pid namespace cannot check pid 1 of the other either (here it is init, alive or not).
    await assert.rejects(async () => store.acquireLease('b1', mine, 120_000), LeaseHeldError);

    const { command, args } = asContainer('ci-runner', process.execPath, cliArgv(['resume', 'b1', '--db', location]));
    const resume = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(resume.code, 1, resume.stderr);
    const until = new Date(held.expiresAt).toISOString().replace(/\./g, '\\.');
    assert.match(resume.stderr, new RegExp(`kiln resume: build b1 is being run by process 1 on ci-runner \\(lease valid until ${until}\\)`));
    assert.deepEqual((await store.getBuild('b1'))!.lease, held, 'the lease is as the holder took it');
    await holder.die();
  });

  test(`${kind.name}: a dead holder's lease, from another container, is taken only once it has expired by the store's clock`, { skip: kind.skip, timeout: 240_000 }, async (t) => {
    const location = await kind.place(t);
    const store = await newBuild(t, location);
    const holder = await leaseHolder(t, 'hold', 'ci-runner', location, 3_000);
    const held = holder.said.lease!;
    await holder.die();
    const early = (await leaseHolder(t, 'try', 'ci-runner', location, 60_000)).said;
    assertNotTakenLive(early, held, 'right after the holder died');
    // Time passes, by the store's clock (no event to await: expiry is a time).
    while ((await store.clock()) <= held.expiresAt) await sleep(100);
    const late = (await leaseHolder(t, 'try', 'ci-runner', location, 60_000)).said;
    assert.ok(late.lease, `taken once expired: ${late.refused}`);
    assert.notEqual(late.lease.token, held.token);
  });

  test(`${kind.name}: in the holder's own pid namespace, a dead holder's lease is taken at once`, { skip: kind.skip, timeout: 240_000 }, async (t) => {
    const location = await kind.place(t);
    const store = await newBuild(t, location);
    const holder = await leaseHolder(t, 'hold', null, location, 120_000);
    const held = holder.said.lease!;
    assert.equal(held.pidSpace, thisProcess().pidSpace);
    await holder.die();
    const taken = await store.acquireLease('b1', thisProcess(), 60_000);
    assert.ok(taken.expiresAt - 60_000 < held.expiresAt, 'before the dead holder\'s lease expired');
    assert.equal(taken.pid, process.pid);
  });
}
