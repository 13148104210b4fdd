// The shared PostgreSQL store on loopback (issue 16): durable appends, `kiln db copy`, `kiln ls` of
// 10,000 builds, and `kiln resume` of a 10,000-event build — in process and whole process.
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { startSimulator } from '../../src/sim/index.js';
import { applyEvent, thisProcess, type BuildRecord } from '../../src/store/index.js';
import { PgEventStore } from '../../src/store/postgres.js';
import { kilnBuild, writeKilnTemplate } from '../lib/e2e.js';
import { cloneBuilds, readSample } from '../lib/fixtures.js';
import { postgresUnavailableReason, startPostgres } from '../lib/postgres-cluster.js';
import { runKiln } from '../lib/proc.js';
import { median, millis } from '../lib/stats.js';
import { crashedBuild, timeToFirstRequest } from './resume.js';
import { timeKiln, verdict, type Row, type SectionResult, type Settings } from './section.js';

export async function postgresStore(s: Settings): Promise<SectionResult> {
  const unavailable = postgresUnavailableReason();
  if (unavailable) return { rows: [{ item: 'pg', measure: 'PostgreSQL store', result: `not measured: ${unavailable}`, target: '—', verdict: '—' }], details: [] };
  // Durable (fsync on, synchronous_commit on: PostgreSQL's defaults), as a team's server would be.
  const cluster = await startPostgres({ durable: true });
  const work = mkdtempSync(join(s.work, 'pg-'));
  const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => s.log(`simulator: ${line}`) });
  const runs = Math.max(s.runs, 3);
  const rows: Row[] = [];
  try {
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE kiln_bench');
    await admin.end();
    const url = cluster.adminUrl.replace(/\/postgres$/, '/kiln_bench');

    const appends = await pgAppends(url, s.quick ? 300 : 2000, runs);
    s.log(`postgres: ${appends.perSecond.map(Math.round).join(', ')} durable appends/s (${appends.settings}), ${Math.round(appends.batchedPerSecond)} events/s in batches of 50`);
    const perSecond = median(appends.perSecond);
    rows.push(
      {
        item: 'pg',
        measure: `PostgreSQL on loopback: durable appends, one event per transaction (${appends.settings}; ${appends.count} appends, median of ${runs})`,
        result: `${Math.round(perSecond)} events/s = ${millis(1000 / perSecond)} per transition (runs: ${appends.perSecond.map(Math.round).join(', ')})`,
        target: '≥ 1,000 events/s',
        verdict: verdict(perSecond >= 1000, `by ${Math.round(1000 - perSecond)} events/s`),
      },
      { item: 'pg', measure: 'PostgreSQL: provisioner output, 50 lines per transaction', result: `${Math.round(appends.batchedPerSecond)} events/s`, target: '—', verdict: '—' },
    );

    // A team's history: a build killed mid-way with a 10k-event log, and 10k builds in all, made
    // in SQLite and moved the way a team would (kiln db copy).
    const builds = s.quick ? 1_000 : 10_000;
    const resumeSize = 10_000;
    const sampleHome = mkdtempSync(join(work, 'sample-'));
    const sampleBuild = await kilnBuild(sim, writeKilnTemplate(sampleHome, sim.sshPort), sampleHome);
    const sample = readSample(join(sampleHome, 'kiln.db'), sampleBuild.ids[0]!);
    const crashed = await crashedBuild(sim, mkdtempSync(join(work, 'crashed-')), resumeSize);
    cloneBuilds(crashed.db, sample, builds - 1);
    const env = { PATH: process.env.PATH, HOME: work };
    const copy = await runKiln(['db', 'copy', '--db', crashed.db, '--to', url], { env });
    if (copy.code !== 0) throw new Error(`kiln db copy exited ${copy.code}: ${copy.stderr.slice(-1000)}`);
    const n = builds.toLocaleString('en');
    rows.push({ item: 'pg', measure: `PostgreSQL: kiln db copy of ${n} builds (${sample.events.length} events each, one of ${resumeSize.toLocaleString('en')}) from SQLite, whole process`, result: millis(copy.wallMs), target: '—', verdict: '—' });

    const ls = await timeKiln(['ls', '--db', url], runs, env);
    const lsJson = await timeKiln(['ls', '--json', '--db', url], runs, env);
    const inProcess = await pgListing(url, runs);
    s.log(`postgres: kiln ls ${millis(ls)}, --json ${millis(lsJson)}; in process: open ${millis(inProcess.openMs)}, listBuildSummaries ${millis(inProcess.listMs)}`);
    rows.push(
      {
        item: 'pg',
        measure: `PostgreSQL: kiln ls, ${n} builds, whole process (median of ${runs})`,
        result: `${millis(ls)} (in it: opening the store ${millis(inProcess.openMs)}, listBuildSummaries ${millis(inProcess.listMs)})`,
        target: builds === 10_000 ? '< 300 ms' : '(< 300 ms at 10k)',
        verdict: builds === 10_000 ? verdict(ls < 300, `by ${millis(ls - 300)}`) : '—',
      },
      { item: 'pg', measure: `PostgreSQL: kiln ls --json, ${n} builds`, result: millis(lsJson), target: '—', verdict: '—' },
    );

    const storePart = await pgResumeReads(url, crashed.id, runs);
    s.log(`postgres: resume's store part ${storePart.totalMs.map(millis).join(', ')}`);
    rows.push({
      item: 'pg',
      measure: `PostgreSQL: resume's store part, ${resumeSize.toLocaleString('en')}-event build: open the store, find the build, take its lease, read its log without output lines and replay the projection (in process, median of ${runs})`,
      result: `${millis(median(storePart.totalMs))} (open ${millis(storePart.openMs)}, find ${millis(storePart.findMs)}, lease ${millis(storePart.leaseMs)}, ${storePart.stateEvents} events read and replayed ${millis(storePart.readMs)}; the whole log with output, ${storePart.allEvents} events: ${millis(storePart.allMs)})`,
      target: '—',
      verdict: '—',
    });
    // The whole command, once `kiln resume` accepts a PostgreSQL URL: its lease taken over from the
    // killed build (a dead process on this host), it reads the log and asks the cloud first.
    let resumed: string;
    let resumedMs: number | undefined;
    try {
      const times: number[] = [];
      for (let run = 0; run < runs; run++) {
        // Each resume starts from a lapsed lease (the killed process stopped heart-beating long
        // ago), whatever rule the store applies to a dead holder on the same host.
        await expireLease(url, crashed.id);
        // The same machine that started it: its temporary key is in the SQLite file's folder.
        times.push(await timeToFirstRequest(sim, ['resume', crashed.id, '--db', url], { ...crashed.env, KILN_STATE_DIR: dirname(crashed.db) }));
      }
      resumedMs = median(times);
      resumed = millis(resumedMs);
    } catch (error) {
      // timeToFirstRequest's message: its own first line, then what kiln said.
      const [head, ...said] = (error as Error).message.split('\n');
      resumed = `not measurable in this tree: ${(said.find((line) => line.trim()) ?? head!).replace(/\|/g, '\\|')}`;
    }
    s.log(`postgres: kiln resume to its first API call: ${resumed}`);
    rows.push({
      item: 'pg',
      measure: `PostgreSQL: kiln resume of a ${resumeSize.toLocaleString('en')}-event build to its first API call, whole process (median of ${runs})`,
      result: resumed,
      target: '< 300 ms',
      verdict: resumedMs === undefined ? 'not measurable' : verdict(resumedMs < 300, `by ${millis(resumedMs - 300)}`),
    });
    return {
      rows,
      details: [
        `PostgreSQL rows: a throw-away PostgreSQL ${appends.version} cluster on 127.0.0.1 started by the bench (${appends.settings}: every commit waits for its WAL to reach the disk), the bench and kiln its only clients. The ${resumeSize.toLocaleString('en')}-event build is a real \`kiln build\` killed at \`provisioner.started\` and padded with output lines, copied with the ${n} builds by \`kiln db copy\`.`,
      ],
    };
  } finally {
    await sim.close();
    cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function expireLease(url: string, buildId: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('UPDATE builds SET lease_expires_at = 0 WHERE id = $1 AND lease_expires_at IS NOT NULL', [buildId]);
  } finally {
    await client.end();
  }
}

/** Durable single appends per second, `runs` times `count` of them (each run on a new build), and batched output. */
async function pgAppends(url: string, count: number, runs: number): Promise<{ count: number; version: string; settings: string; perSecond: number[]; batchedPerSecond: number }> {
  const store = await PgEventStore.open(url);
  try {
    const { rows } = await store.pool.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'wal_sync_method') ORDER BY name",
    );
    const version = rows.find((r) => r.name === 'server_version')?.setting ?? '?';
    const settings = rows.filter((r) => r.name !== 'server_version').map((r) => `${r.name}=${r.setting}`).join(', ');
    const event = (i: number) => ({ type: 'provision.output', phase: 'provision', attempt: 1, data: { index: 0, lines: [{ stream: 'stdout', line: `line ${i}` }] } }) as const;
    const perSecond: number[] = [];
    for (let run = 0; run < runs; run++) {
      const id = `bench-appends-${run}`;
      await store.createBuild({ id, templatePath: '/bench.json', templateHash: 'x', builderName: 'scaleway', spec: {}, onError: 'cleanup' }, { type: 'build.started' });
      const started = performance.now();
      for (let i = 0; i < count; i++) await store.append(id, event(i));
      perSecond.push((count * 1000) / (performance.now() - started));
    }
    const started = performance.now();
    for (let i = 0; i < count; i += 50) await store.appendMany('bench-appends-0', Array.from({ length: 50 }, (_, j) => event(i + j)));
    return { count, version, settings, perSecond, batchedPerSecond: (count * 1000) / (performance.now() - started) };
  } finally {
    await store.close();
  }
}

/** The store's part of `kiln ls`, in this process: opening a new store (connect, schema check) and listBuildSummaries. */
async function pgListing(url: string, runs: number): Promise<{ openMs: number; listMs: number }> {
  const open: number[] = [];
  const list: number[] = [];
  for (let run = 0; run < runs; run++) {
    let started = performance.now();
    const store = await PgEventStore.open(url);
    open.push(performance.now() - started);
    started = performance.now();
    await store.listBuildSummaries();
    list.push(performance.now() - started);
    await store.close();
  }
  return { openMs: median(open), listMs: median(list) };
}

/** What `kiln resume` asks of the store before its first API call, each run with a new store. */
async function pgResumeReads(url: string, buildId: string, runs: number) {
  const parts = { openMs: [] as number[], findMs: [] as number[], leaseMs: [] as number[], readMs: [] as number[], allMs: [] as number[], totalMs: [] as number[] };
  let stateEvents = 0;
  let allEvents = 0;
  const owner = thisProcess();
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    const store = await PgEventStore.open(url);
    const t1 = performance.now();
    try {
      const record = await store.findBuild(buildId.slice(0, 12));
      const t2 = performance.now();
      await store.acquireLease(record.id, owner, 30_000);
      const t3 = performance.now();
      const events = await store.events(record.id, { withoutOutput: true });
      const empty: BuildRecord = { ...record, status: 'running', phase: null, resources: {}, artifact: null, error: null, lastSeq: 0 };
      const replayed = events.reduce(applyEvent, empty);
      const t4 = performance.now();
      if (replayed.resources.server?.id !== record.resources.server?.id) throw new Error('the replayed projection disagrees with the stored one');
      stateEvents = events.length;
      parts.openMs.push(t1 - t0);
      parts.findMs.push(t2 - t1);
      parts.leaseMs.push(t3 - t2);
      parts.readMs.push(t4 - t3);
      parts.totalMs.push(t4 - t0);
      const t5 = performance.now();
      allEvents = (await store.events(record.id)).length;
      parts.allMs.push(performance.now() - t5);
      // Let `kiln resume` (below) take it: a live process of this host holds it otherwise.
      await store.releaseLease(record.id, owner);
    } finally {
      await store.close();
    }
  }
  return { openMs: median(parts.openMs), findMs: median(parts.findMs), leaseMs: median(parts.leaseMs), readMs: median(parts.readMs), allMs: median(parts.allMs), totalMs: parts.totalMs, stateEvents, allEvents };
}
