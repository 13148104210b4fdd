// `npm run bench` (node dist/scripts/bench.js [--runs N] [--quick] [--only a,b] [--[no-]write]):
// measures kiln against the simulator's latency floor and against Packer 1.6.6 on the same
// simulator, the event store, resume, ls/show, start-up, gc and parallel builds (issue 8), prints a
// markdown table and writes it into docs/benchmarks.md (between the bench markers, keeping the
// hand-written analysis around them). Nothing here asserts a time: it measures and reports.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { firstPollDelay, POLL_SCHEDULE, pollDelay, predictWait, type PollSchedule, type WaitRecord } from '../src/scaleway/index.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { applyEvent, EventStore, type BuildEvent, type BuildRecord } from '../src/store/index.js';
import { kilnBuild, kilnEnv, packerBuild, writeKilnTemplate, writeSbsTemplate, type BuildMeasurement, type CpuSplit } from './lib/e2e.js';
import { packerMissing } from './lib/packer.js';
import { appendOutputEvents, cloneBuilds, createTaggedResources, readSample } from './lib/fixtures.js';
import { REPO_ROOT, runKiln, runningFromSources, runProcess, spawnKiln } from './lib/proc.js';
import { marketplaceImageId, SimApi } from './lib/sim-api.js';
import { largeHclTemplate } from './lib/hcl.js';
import { loadTemplate } from '../src/template/index.js';
import { parseFile } from '../src/template/hcl/parser.js';
import { postgresUnavailableReason, startPostgres } from './lib/postgres-cluster.js';
import { PgEventStore } from '../src/store/postgres.js';
import pg from 'pg';
import { machineDescription, markdownTable, median, millis, percent, seconds } from './lib/stats.js';

const SECTIONS = ['e2e', 'sbs', 'store', 'resume', 'ls', 'cold', 'gc', 'parallel', 'waits', 'hcl', 'postgres'] as const;
type SectionName = (typeof SECTIONS)[number];

interface Row {
  item: string;
  measure: string;
  result: string;
  target: string;
  verdict: string;
}

interface SectionResult {
  rows: Row[];
  /** Markdown paragraphs/tables with the details behind the rows. */
  details: string[];
}

interface Settings {
  runs: number;
  quick: boolean;
  work: string;
  log: (line: string) => void;
  /** The median single kiln build of the e2e section, for item 8's comparison. */
  single?: { wallMs: number; floorMs: number; peakRssKiB: number; apiCalls: number };
}

const verdict = (met: boolean, by: string): string => (met ? 'met' : `**missed** (${by})`);

// ---- 1, 2, 9: end to end, kiln vs the floor vs Packer -----------------------------------------

/** Where kiln's time goes in one build, from its own event log. */
function breakdown(events: BuildEvent[], wallMs: number, floorMs: number, phases: Record<string, number[]>): Record<string, number> {
  const at = (e: BuildEvent) => Date.parse(e.at);
  let waiting = 0;
  let active = 0;
  const open = new Map<string, number>();
  for (const e of events) {
    const key = `${e.phase}#${e.attempt}#${String(e.data.provisionerIndex ?? '')}`;
    if (e.type === 'phase.started') open.set(key, at(e));
    if (e.type === 'phase.succeeded' || e.type === 'phase.failed' || e.type === 'phase.retrying') {
      const started = open.get(key);
      if (started === undefined) continue;
      const ms = at(e) - started;
      const name = e.phase === 'provision' ? `provision #${String(e.data.provisionerIndex ?? '?')}` : String(e.phase);
      (phases[name] ??= []).push(ms);
      if (e.phase && /wait/.test(e.phase)) waiting += ms;
      else active += ms;
    }
  }
  const first = events[0] ? at(events[0]) : 0;
  const last = events.length > 0 ? at(events[events.length - 1]!) : 0;
  return {
    'waits beyond the floor (polling lag)': waiting - floorMs,
    'active phases (API calls, SSH, provisioners, cleanup)': active,
    'between phases (machine + store)': last - first - waiting - active,
    'process start to first event, last event to exit': wallMs - (last - first),
  };
}

/** Builds of the same kind run before the measured "warm" ones, so that their waits have history. */
const WARM_UP_BUILDS = 4;

/** What the bench reads back from one kiln build's event log. */
interface KilnRun extends BuildMeasurement {
  parts: Record<string, number>;
  /** Per wait kind: how much later than the simulator's latency kiln noticed the change, and how many looks it took. */
  waits: Record<string, { lagMs: number; looks: number; predicted: boolean }>;
}

/** One `kiln build` of the basic template in `home` (its store keeps the history of earlier ones). */
async function kilnRun(s: Settings, sim: Simulator, home: string, phaseTimes: Record<string, number[]>): Promise<KilnRun> {
  const k = await kilnBuild(sim, writeKilnTemplate(home, sim.sshPort), home, { measureRss: true });
  const id = /"build_id":"([^"]+)"/.exec(k.result.stdout)![1]!;
  const store = EventStore.open(join(home, 'kiln.db'));
  try {
    const events = store.events(id);
    const serverId = store.getBuild(id)!.resources.server!.id;
    // The simulator's latencies in order of the build's transitions (boot, stop, snapshot, image).
    const imposed = [...sim.floorParts(serverId)];
    const waits: KilnRun['waits'] = {};
    for (const e of events.filter((x) => x.type === 'wait.finished')) {
      const kind = String((e.data.key as { wait?: string } | undefined)?.wait);
      const at = imposed.findIndex((p) => p.kind === kind);
      if (at < 0) continue;
      const [floor] = imposed.splice(at, 1);
      waits[kind] = { lagMs: Number(e.data.durationMs) - floor!.ms, looks: Number(e.data.looks), predicted: typeof e.data.expectedMs === 'number' };
    }
    return { ...k, parts: breakdown(events, k.wallMs, k.floorMs, phaseTimes), waits };
  } finally {
    store.close();
  }
}

const describeRun = (k: BuildMeasurement) => `${seconds(k.wallMs, 2)} (floor ${seconds(k.floorMs, 2)}, ${k.apiCalls} API calls)`;

async function endToEnd(s: Settings): Promise<SectionResult> {
  const stateDir = mkdtempSync(join(s.work, 'sim-e2e-'));
  const sim = await startSimulator({ latency: 'realistic', port: 0, sshPort: 0, stateDir, seed: 8, log: (line) => s.log(`simulator: ${line}`) });
  const withPacker = !packerMissing;
  const cold: KilnRun[] = [];
  const kiln: KilnRun[] = [];
  const packer: BuildMeasurement[] = [];
  const phaseTimes: Record<string, number[]> = {};
  try {
    // Cold: each build in a store of its own (no history), as on a first run.
    for (let run = 1; run <= s.runs; run++) {
      const k = await kilnRun(s, sim, mkdtempSync(join(s.work, 'e2e-cold-')), {});
      cold.push(k);
      s.log(`e2e cold ${run}/${s.runs}: kiln ${describeRun(k)}`);
    }
    // Warm: one store, a handful of builds of the same kind first; then the measured builds,
    // alternating with Packer's.
    const home = mkdtempSync(join(s.work, 'e2e-warm-'));
    for (let run = 1; run <= WARM_UP_BUILDS; run++) s.log(`e2e warm-up ${run}/${WARM_UP_BUILDS}: kiln ${describeRun(await kilnRun(s, sim, home, {}))}`);
    for (let run = 1; run <= s.runs; run++) {
      const k = await kilnRun(s, sim, home, phaseTimes);
      kiln.push(k);
      s.log(`e2e warm ${run}/${s.runs}: kiln ${describeRun(k)}, ${k.events} events`);
      if (withPacker) {
        const p = await packerBuild(sim, stateDir, join(s.work, `e2e-packer-${run}`), run);
        packer.push(p);
        s.log(`e2e run ${run}/${s.runs}: Packer ${describeRun(p)}`);
      }
    }
  } finally {
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }

  const overheadOf = (runs: readonly BuildMeasurement[]) => ({
    wall: median(runs.map((m) => m.wallMs)),
    floor: median(runs.map((m) => m.floorMs)),
    over: median(runs.map((m) => m.wallMs - m.floorMs)),
    pct: median(runs.map((m) => (m.wallMs - m.floorMs) / m.floorMs)),
  });
  const warm = overheadOf(kiln);
  const coldO = overheadOf(cold);
  const rows: Row[] = [
    {
      item: '1',
      measure: `kiln build of examples/basic.json, realistic latency, with history (${WARM_UP_BUILDS} builds before; median of ${s.runs})`,
      result: `${seconds(warm.wall, 2)} vs floor ${seconds(warm.floor, 2)}: overhead ${seconds(warm.over, 2)} = ${percent(warm.pct)}`,
      target: 'overhead ≤ 5% of the floor',
      verdict: verdict(warm.pct <= 0.05, `by ${seconds(warm.over - 0.05 * warm.floor, 2)}, ${percent(warm.pct - 0.05)} of the floor`),
    },
    {
      item: '1',
      measure: `the same, cold (an empty store each time; median of ${s.runs})`,
      result: `${seconds(coldO.wall, 2)} vs floor ${seconds(coldO.floor, 2)}: overhead ${seconds(coldO.over, 2)} = ${percent(coldO.pct)}`,
      target: 'no worse than before history (10.2%)',
      verdict: verdict(coldO.pct <= 0.102, `${percent(coldO.pct)}`),
    },
  ];
  const details: string[] = [];
  const partsOf = (runs: readonly KilnRun[]) => {
    const parts: Record<string, number[]> = {};
    for (const r of runs) for (const [part, ms] of Object.entries(r.parts)) (parts[part] ??= []).push(ms);
    return parts;
  };
  const warmParts = partsOf(kiln);
  const coldParts = partsOf(cold);
  details.push(
    `**Where kiln's overhead goes** (medians, from kiln's own event log; the waits are the phases that poll a state change, the floor is what the simulator imposed):\n\n` +
      markdownTable(
        ['part', 'with history', 'cold'],
        Object.keys(warmParts).map((part) => [part, millis(median(warmParts[part]!)), millis(median(coldParts[part] ?? []))]),
      ) +
      `\n\n**kiln's phases** (median duration with history; the \`wait\` phases include the simulator's latency):\n\n` +
      markdownTable(
        ['phase', 'median'],
        Object.entries(phaseTimes).map(([phase, values]) => [phase, millis(median(values))]),
      ),
  );
  const waitKinds = [...new Set([...kiln, ...cold].flatMap((r) => Object.keys(r.waits)))];
  const waitCell = (runs: readonly KilnRun[], kind: string, field: 'lagMs' | 'looks') => {
    const values = runs.flatMap((r) => (r.waits[kind] ? [r.waits[kind]![field]] : []));
    return values.length === 0 ? '—' : field === 'lagMs' ? millis(median(values)) : String(median(values));
  };
  details.push(
    `**Each wait** (median; lag = kiln's wait, from the action's result event to the look that saw the change, minus the latency the simulator imposed; looks = API calls of the wait):\n\n` +
      markdownTable(
        ['wait', 'lag cold', 'lag with history', 'looks cold', 'looks with history'],
        waitKinds.map((kind) => [kind, waitCell(cold, kind, 'lagMs'), waitCell(kiln, kind, 'lagMs'), waitCell(cold, kind, 'looks'), waitCell(kiln, kind, 'looks')]),
      ),
  );
  if (withPacker) {
    const pWall = median(packer.map((m) => m.wallMs));
    const pFloor = median(packer.map((m) => m.floorMs));
    const pOver = median(packer.map((m) => m.wallMs - m.floorMs));
    const ratio = median(kiln.map((k, i) => k.wallMs / packer[i]!.wallMs));
    const overheadRatio = warm.over / pOver;
    rows.push(
      {
        item: '2',
        measure: `Packer 1.6.6, same template and simulator, to image \`available\` (alternating with kiln's builds with history, median of ${s.runs})`,
        result: `${seconds(pWall, 2)} vs floor ${seconds(pFloor, 2)}: overhead ${seconds(pOver, 2)}; kiln/Packer wall ${ratio.toFixed(2)}×`,
        target: '—',
        verdict: '—',
      },
      {
        item: '2',
        measure: "kiln's overhead (with history) / Packer's overhead",
        result: `${seconds(warm.over, 2)} / ${seconds(pOver, 2)} = ${overheadRatio.toFixed(2)}`,
        target: '≤ 0.25',
        verdict: verdict(overheadRatio <= 0.25, `kiln's overhead would have to be ≤ ${seconds(0.25 * pOver, 2)}`),
      },
    );
  } else {
    rows.push({ item: '2', measure: 'Packer 1.6.6 on the same simulator', result: `not measured: ${packerMissing}`, target: 'kiln overhead ≤ 0.25 × Packer overhead', verdict: 'not measurable' });
  }
  const kCalls = median(kiln.map((m) => m.apiCalls));
  const cCalls = median(cold.map((m) => m.apiCalls));
  const pCalls = withPacker ? median(packer.map((m) => m.apiCalls)) : undefined;
  s.single = { wallMs: warm.wall, floorMs: warm.floor, peakRssKiB: median(kiln.map((m) => m.peakRssKiB)), apiCalls: kCalls };
  rows.push(
    {
      item: '9',
      measure: 'API calls per build, realistic latency, with history (median)',
      result: `kiln ${kCalls}${pCalls !== undefined ? `, Packer ${pCalls}` : ''}`,
      target: '≤ Packer',
      verdict: pCalls === undefined ? 'not measurable' : verdict(kCalls <= pCalls, `by ${kCalls - pCalls}`),
    },
    {
      item: '9',
      measure: 'API calls per build, cold (median)',
      result: `kiln ${cCalls}`,
      target: '≤ 84 (before history)',
      verdict: verdict(cCalls <= 84, `by ${cCalls - 84}`),
    },
  );
  const routes = new Set([...kiln, ...cold, ...packer].flatMap((m) => Object.keys(m.apiByRoute)));
  const perRoute = (runs: readonly BuildMeasurement[], route: string) => String(median(runs.map((m) => m.apiByRoute[route] ?? 0)));
  details.push(
    `**API calls per build by route** (median; Packer 1.6.6 does not delete the root volume with \`remove_volume\` unset, kiln does; kiln checks image/snapshot names and the server type first, and resolves the image label through the marketplace — with history, the zone's catalogue and the label's image come from the store's cache):\n\n` +
      markdownTable(
        ['route', 'kiln cold', 'kiln with history', ...(withPacker ? ['Packer'] : [])],
        [...routes].sort().map((route) => [route, perRoute(cold, route), perRoute(kiln, route), ...(withPacker ? [perRoute(packer, route)] : [])]),
      ),
  );
  details.push(
    `**Each run** (wall / floor / overhead):\n\n` +
      markdownTable(
        ['run', 'kiln cold', 'kiln with history', ...(withPacker ? ['Packer'] : [])],
        kiln.map((k, i) => {
          const cell = (m: BuildMeasurement | undefined) => (m ? `${seconds(m.wallMs, 2)} / ${seconds(m.floorMs, 2)} / ${seconds(m.wallMs - m.floorMs, 2)}` : '—');
          return [String(i + 1), cell(cold[i]), cell(k), ...(withPacker ? [cell(packer[i])] : [])];
        }),
      ),
  );
  return { rows, details };
}

// ---- 3: durable appends ------------------------------------------------------------------------

/**
 * Issue 11: an SBS build (examples/pro2-sbs.json: PRO2, SBS root at 15k IOPS, one extra block
 * volume) against its floor, realistic latency: block snapshots take the ~5 s recorded on Scaleway.
 */
async function sbsBuild(s: Settings): Promise<SectionResult> {
  const sim = await startSimulator({ latency: 'realistic', port: 0, sshPort: 0, seed: 11, log: (line) => s.log(`simulator: ${line}`) });
  const runs: BuildMeasurement[] = [];
  const phaseTimes: Record<string, number[]> = {};
  try {
    for (let run = 1; run <= s.runs; run++) {
      const home = mkdtempSync(join(s.work, 'sbs-kiln-'));
      const k = await kilnBuild(sim, writeSbsTemplate(home, sim.sshPort), home);
      runs.push(k);
      const id = /"build_id":"([^"]+)"/.exec(k.result.stdout)![1]!;
      const store = EventStore.open(join(home, 'kiln.db'));
      breakdown(store.events(id), k.wallMs, k.floorMs, phaseTimes);
      store.close();
      s.log(`sbs run ${run}/${s.runs}: kiln ${seconds(k.wallMs, 2)} (floor ${seconds(k.floorMs, 2)}, ${k.apiCalls} API calls, ${k.events} events)`);
    }
  } finally {
    await sim.close();
  }
  const wall = median(runs.map((m) => m.wallMs));
  const floor = median(runs.map((m) => m.floorMs));
  const over = median(runs.map((m) => m.wallMs - m.floorMs));
  const pct = median(runs.map((m) => (m.wallMs - m.floorMs) / m.floorMs));
  const blockCalls = median(runs.map((m) => Object.entries(m.apiByRoute).filter(([route]) => route.includes('/block/')).reduce((a, [, n]) => a + n, 0)));
  return {
    rows: [
      {
        item: '1b',
        measure: `kiln build of examples/pro2-sbs.json (SBS root + 1 block volume), realistic latency (median of ${s.runs})`,
        result: `${seconds(wall, 2)} vs floor ${seconds(floor, 2)}: overhead ${seconds(over, 2)} = ${percent(pct)}; ${median(runs.map((m) => m.apiCalls))} API calls, ${blockCalls} of them Block API`,
        target: 'overhead ≤ 5% of the floor',
        verdict: verdict(pct <= 0.05, `by ${seconds(over - 0.05 * floor, 2)}, ${percent(pct - 0.05)} of the floor`),
      },
    ],
    details: [
      `**SBS build phases** (median ms over ${s.runs} builds): ` +
        Object.entries(phaseTimes)
          .map(([phase, ms]) => `${phase} ${Math.round(median(ms))}`)
          .join(', '),
    ],
  };
}

async function storeAppends(s: Settings): Promise<SectionResult> {
  const dir = mkdtempSync(join(s.work, 'store-'));
  const store = EventStore.open(join(dir, 'kiln.db'));
  const count = s.quick ? 300 : 2000;
  try {
    const sync = String(store.db.pragma('synchronous', { simple: true }));
    store.createBuild(
      { id: 'bench-appends', templatePath: '/bench.json', templateHash: 'x', builderName: 'scaleway', spec: {}, onError: 'cleanup' },
      { type: 'build.started' },
    );
    // An intent: the events that must reach the disk before they return (mustReachDisk); the
    // other events of a build commit without an fsync of their own.
    const intent = (i: number) => ({ type: 'server.poweron.requested', phase: 'server.start', attempt: i + 1, data: { serverId: 'bench' } }) as const;
    const event = (i: number) =>
      ({ type: 'provision.output', phase: 'provision', attempt: 1, data: { index: 0, lines: [{ stream: 'stdout', line: `line ${i}` }] } }) as const;
    let started = performance.now();
    for (let i = 0; i < count; i++) store.append('bench-appends', intent(i));
    const singleMs = (performance.now() - started) / count;
    started = performance.now();
    for (let i = 0; i < count; i += 50) store.appendMany('bench-appends', Array.from({ length: 50 }, (_, j) => event(i + j)));
    const batchedMs = (performance.now() - started) / count;
    s.log(`store: ${millis(singleMs)} per single append, ${millis(batchedMs)} per event in batches of 50 (synchronous=${sync})`);
    const perSecond = 1000 / singleMs;
    return {
      rows: [
        {
          item: '3',
          measure: `durable appends (intents), one event per transaction (synchronous=${sync === '2' ? 'FULL' : sync}, ${count} appends)`,
          result: `${Math.round(perSecond)} events/s = ${millis(singleMs)} per transition`,
          target: '≥ 300 events/s',
          verdict: verdict(perSecond >= 300, `by ${Math.round(300 - perSecond)} events/s`),
        },
        {
          item: '3',
          measure: 'provisioner output, 50 lines per transaction (as the engine batches it; synchronous=NORMAL, see mustReachDisk)',
          result: `${Math.round(1000 / batchedMs)} events/s`,
          target: '—',
          verdict: '—',
        },
      ],
      details: [],
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 4: resume to the first API call ------------------------------------------------------------

async function resumeIsImplemented(): Promise<boolean> {
  const help = await runKiln(['resume', '--help']);
  return !/not implemented/i.test(help.stdout + help.stderr);
}

/** Spawns `kiln resume <id>` and resolves with the ms until the simulator served its first request; kills it then. */
function timeToFirstRequest(sim: Simulator, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const total = () => Object.values(sim.requestCounts()).reduce((a, b) => a + b, 0);
    const before = total();
    const started = performance.now();
    const child = spawnKiln(args, { env });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout?.resume();
    const watch = setInterval(() => {
      if (total() > before) {
        const ms = performance.now() - started;
        clearInterval(watch);
        child.kill('SIGKILL');
        child.once('close', () => resolve(ms));
      }
    }, 1);
    child.once('close', (code) => {
      if (total() > before) return;
      clearInterval(watch);
      reject(new Error(`kiln resume exited ${code} before any API call:\n${stderr.slice(-2000)}`));
    });
  });
}

/**
 * A real build (its SQLite store in `home`), killed right after its first provisioner started (its
 * server keeps running in `sim`), then given `size` events in all with provisioner output lines:
 * what `kiln resume` is measured on.
 */
async function crashedBuild(sim: Simulator, home: string, size: number): Promise<{ db: string; id: string; env: NodeJS.ProcessEnv }> {
  const template = writeKilnTemplate(home, sim.sshPort);
  const db = join(home, 'kiln.db');
  const env = kilnEnv(sim, home);
  const crashed = await runKiln(['build', '--json', '--db', db, template], { env: { ...env, KILN_CRASH_AT: 'provisioner.started' }, timeoutMs: 300_000 });
  const id = /"build_id":"([^"]+)"/.exec(crashed.stdout)?.[1];
  if (crashed.signal !== 'SIGKILL' || !id) throw new Error(`the build was to kill itself at provisioner.started: exit ${crashed.code ?? crashed.signal}\n${crashed.stderr.slice(-2000)}`);
  const store = EventStore.open(db);
  const have = store.getBuild(id)!.lastSeq;
  store.close();
  appendOutputEvents(db, id, size - have, 0);
  return { db, id, env };
}

async function resume(s: Settings): Promise<SectionResult> {
  const sizes = s.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  if (!(await resumeIsImplemented())) {
    return {
      rows: [{ item: '4', measure: `kiln resume to its first API call (${sizes.map((n) => n / 1000 + 'k').join('/')} events)`, result: 'not measurable yet: `kiln resume` is not implemented in this tree', target: '< 300 ms at 10k events', verdict: 'not measurable' }],
      details: [],
    };
  }
  const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => s.log(`simulator: ${line}`) });
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      const { db, id, env } = await crashedBuild(sim, mkdtempSync(join(s.work, `resume-${size}-`)), size);
      const times: number[] = [];
      for (let run = 0; run < s.runs; run++) times.push(await timeToFirstRequest(sim, ['resume', id, '--db', db], env));
      const ms = median(times);
      s.log(`resume with ${size} events: ${millis(ms)} to the first API call`);
      rows.push({
        item: '4',
        measure: `kiln resume to its first API call, build with ${size.toLocaleString('en')} events (median of ${s.runs})`,
        result: millis(ms),
        target: size === 10_000 ? '< 300 ms' : '—',
        verdict: size === 10_000 ? verdict(ms < 300, `by ${millis(ms - 300)}`) : '—',
      });
    }
  } finally {
    await sim.close();
  }
  return { rows, details: ['Resume builds: a real `kiln build` killed (`KILN_CRASH_AT=provisioner.started`) with its server running, padded with one-line `provision.output` events to the size shown; each resume is killed as soon as the simulator sees its first request.'] };
}

// ---- 5, 6: ls/show with 10k builds, cold start --------------------------------------------------

/** A real build's log (fast simulator), to copy. */
async function sampleBuild(s: Settings): Promise<{ db: string; id: string }> {
  const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => s.log(`simulator: ${line}`) });
  try {
    const home = mkdtempSync(join(s.work, 'sample-'));
    const template = writeKilnTemplate(home, sim.sshPort);
    const result = await kilnBuild(sim, template, home);
    return { db: join(home, 'kiln.db'), id: /"build_id":"([^"]+)"/.exec(result.result.stdout)![1]! };
  } finally {
    await sim.close();
  }
}

async function timeKiln(args: string[], runs: number, env: NodeJS.ProcessEnv): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await runKiln(args, { env });
    if (result.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-1000)}`);
    times.push(result.wallMs);
  }
  return median(times);
}

async function lsShow(s: Settings): Promise<SectionResult> {
  const builds = s.quick ? 1_000 : 10_000;
  const sample = await sampleBuild(s);
  const home = mkdtempSync(join(s.work, 'ls-'));
  const db = join(home, 'kiln.db');
  const copy = readSample(sample.db, sample.id);
  const ids = cloneBuilds(db, copy, builds);
  s.log(`ls/show: ${builds} builds of ${copy.events.length} events each in the store`);
  const env = { PATH: process.env.PATH, HOME: home };
  const runs = Math.max(s.runs, 3);
  const ls = await timeKiln(['ls', '--db', db], runs, env);
  const lsJson = await timeKiln(['ls', '--json', '--db', db], runs, env);
  const show = await timeKiln(['show', ids[Math.floor(ids.length / 2)]!, '--db', db], runs, env);
  const showPrefix = await timeKiln(['show', ids[Math.floor(ids.length / 2)]!.slice(0, 11), '--db', db], runs, env);
  const n = builds.toLocaleString('en');
  return {
    rows: [
      { item: '5', measure: `kiln ls, ${n} builds, whole process (median of ${runs})`, result: millis(ls), target: builds === 10_000 ? '< 300 ms' : '(< 300 ms at 10k)', verdict: builds === 10_000 ? verdict(ls < 300, `by ${millis(ls - 300)}`) : '—' },
      { item: '5', measure: `kiln ls --json, ${n} builds`, result: millis(lsJson), target: '—', verdict: '—' },
      { item: '5', measure: `kiln show <id> (${copy.events.length} events), ${n} builds in the store`, result: millis(show), target: '—', verdict: '—' },
      { item: '5', measure: `kiln show <id prefix>, ${n} builds in the store`, result: millis(showPrefix), target: '—', verdict: '—' },
    ],
    details: [],
  };
}

async function coldStart(s: Settings): Promise<SectionResult> {
  const home = mkdtempSync(join(s.work, 'cold-'));
  const db = join(home, 'kiln.db');
  const env = { PATH: process.env.PATH, HOME: home };
  const runs = s.quick ? 3 : 10;
  await runKiln(['ls', '--db', db], { env }); // creates and migrates the database once
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) bare.push((await runProcess(process.execPath, ['-e', '0'])).wallMs);
  const node = median(bare);
  const help = await timeKiln(['--help'], runs, env);
  const ls = await timeKiln(['ls', '--db', db], runs, env);
  s.log(`cold start: node ${millis(node)}, kiln --help ${millis(help)}, kiln ls ${millis(ls)}`);
  const how = runningFromSources ? ' — from sources through tsx, not representative' : '';
  return {
    rows: [
      { item: '6', measure: `kiln --help, whole process (median of ${runs})${how}`, result: `${millis(help)} (bare \`node -e 0\`: ${millis(node)})`, target: '< 250 ms', verdict: verdict(help < 250, `by ${millis(help - 250)}`) },
      { item: '6', measure: 'kiln ls, empty store, whole process', result: millis(ls), target: '—', verdict: '—' },
    ],
    details: [],
  };
}

// ---- HCL2 (issue 13): parse + evaluate a 500-line template; kiln validate of a typical one ------

async function hcl(s: Settings): Promise<SectionResult> {
  const dir = mkdtempSync(join(s.work, 'hcl-'));
  const text = largeHclTemplate(500);
  const lineCount = text.split('\n').length - 1;
  writeFileSync(join(dir, 'large.pkr.hcl'), text);
  const env = { HOME: dir, SCW_SECRET_KEY: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', SCW_DEFAULT_PROJECT_ID: '11111111-2222-4333-8444-555555555555' };
  const runs = Math.max(s.runs, 20);
  await loadTemplate(join(dir, 'large.pkr.hcl'), { env }); // warm-up (JIT)
  const parse: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    parseFile(text, 'large.pkr.hcl');
    parse.push(performance.now() - start);
    start = performance.now();
    await loadTemplate(join(dir, 'large.pkr.hcl'), { env });
    load.push(performance.now() - start);
  }
  const example = join(REPO_ROOT, 'examples', 'basic.pkr.hcl');
  const validateRuns = Math.max(s.runs, 5);
  const validate = await timeKiln(['validate', example], validateRuns, { PATH: process.env.PATH, ...env });
  s.log(`hcl: parse ${millis(median(parse))}, load ${millis(median(load))}, kiln validate ${millis(validate)}`);
  return {
    rows: [
      { item: 'HCL2', measure: `parse a ${lineCount}-line template (median of ${runs})`, result: millis(median(parse)), target: '—', verdict: '—' },
      { item: 'HCL2', measure: `parse + evaluate it: variables, locals, ${Math.round(lineCount / 37)} builds lowered and read (loadTemplate, in process)`, result: millis(median(load)), target: '< 30 ms', verdict: verdict(median(load) < 30, `by ${millis(median(load) - 30)}`) },
      { item: 'HCL2', measure: `kiln validate examples/basic.pkr.hcl, whole process (median of ${validateRuns})`, result: millis(validate), target: '< 300 ms', verdict: verdict(validate < 300, `by ${millis(validate - 300)}`) },
    ],
    details: [],
  };
}

// ---- 7: gc -----------------------------------------------------------------------------------

async function gc(s: Settings): Promise<SectionResult> {
  const sizes = s.quick ? [300] : [1_000, 10_000];
  const rows: Row[] = [];
  for (const size of sizes) {
    const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => s.log(`simulator: ${line}`) });
    try {
      const api = new SimApi(sim.apiUrl);
      // Tagged servers as the issue asks (each with its root volume, so 2 × size resources in all).
      const servers = size;
      const volumes = 0;
      const created = performance.now();
      await createTaggedResources(api, servers, volumes, await marketplaceImageId(api, 'ubuntu_jammy', 'DEV1-S'));
      s.log(`gc: ${servers} servers + ${volumes} volumes tagged kiln created in ${seconds(performance.now() - created)}`);
      const home = mkdtempSync(join(s.work, `gc-${size}-`));
      const env = kilnEnv(sim, home);
      const db = join(home, 'kiln.db');
      const dry = await runKiln(['gc', '--older-than', '0', '--db', db], { env });
      if (dry.code !== 0) throw new Error(`kiln gc (dry run) exited ${dry.code}: ${dry.stderr.slice(-1500)}`);
      const before = sim.requestCounts();
      const force = await runKiln(['gc', '--older-than', '0', '--force', '--db', db], { env });
      const calls = Object.entries(sim.requestCounts()).reduce((sum, [route, n]) => sum + n - (before[route] ?? 0), 0);
      const left = (await api.listAll<unknown>('servers', { tags: 'kiln' })).length + (await api.listAll<{ tags: string[] }>('volumes')).filter((v) => v.tags.includes('kiln')).length;
      s.log(`gc ${size}: dry run ${seconds(dry.wallMs)}, --force ${seconds(force.wallMs)} (exit ${force.code}, ${calls} API calls, ${left} left)`);
      const what = `${size.toLocaleString('en')} tagged stopped servers (and their ${size.toLocaleString('en')} root volumes)`;
      rows.push(
        { item: '7', measure: `kiln gc dry run, ${what}`, result: seconds(dry.wallMs, 2), target: '—', verdict: '—' },
        {
          item: '7',
          measure: `kiln gc --force, ${what}`,
          result: `${seconds(force.wallMs, 2)}, exit ${force.code}, ${calls} API calls, ${left} left`,
          target: size === 10_000 ? '< 60 s' : '—',
          verdict: size === 10_000 ? (left === 0 && force.code === 0 ? verdict(force.wallMs < 60_000, `by ${seconds(force.wallMs - 60_000)}`) : `**missed** (${left} left, exit ${force.code})`) : left === 0 && force.code === 0 ? '—' : `**failed** (${left} left)`,
        },
      );
    } finally {
      await sim.close();
    }
  }
  return {
    rows,
    details: [
      `gc: the 1,000 and 10,000 cases are that many stopped servers, each with its root volume (each server costs gc a DELETE of the server and one of its volume). The tags name builds this store never saw (\`--older-than 0\`).`,
    ],
  };
}

// ---- 8: parallel builds in one process ----------------------------------------------------------

async function parallel(s: Settings): Promise<SectionResult> {
  const count = s.quick ? 5 : 20;
  const sim = await startSimulator({ latency: 'realistic', port: 0, sshPort: 0, seed: 20, log: (line) => s.log(`simulator: ${line}`) });
  try {
    // With history: a handful of single builds of the same kind in the store first (the last one
    // is the single build compared with, unless the e2e section measured it).
    const manyHome = mkdtempSync(join(s.work, `parallel-${count}-`));
    let last: (BuildMeasurement & { cpu: CpuSplit }) | undefined;
    for (let run = 1; run <= WARM_UP_BUILDS; run++) last = await kilnBuild(sim, writeKilnTemplate(manyHome, sim.sshPort), manyHome, { measureRss: true });
    const one = s.single ?? last!;
    s.log(`parallel: one build ${seconds(one.wallMs, 2)} (floor ${seconds(one.floorMs, 2)}), peak RSS ${Math.round(one.peakRssKiB / 1024)} MiB, ${one.apiCalls} API calls`);
    const many = await kilnBuild(sim, writeKilnTemplate(manyHome, sim.sshPort, count), manyHome, { measureRss: true });
    s.log(`parallel: ${many.builds} builds ${seconds(many.wallMs, 2)} (slowest floor ${seconds(many.floorMs, 2)}), peak RSS ${Math.round(many.peakRssKiB / 1024)} MiB`);
    // Where the CPU went, per build: the kiln process, the simulator (this process) and its child
    // processes (confined shells, disk copies); against the last single build (same simulator, same history). On 2 cores, CPU taken
    // while the builds want it at the same time is wall time lost.
    const perBuild = (ms: number, builds: number) => `${Math.round(ms / builds)} ms`;
    const cpuSplit = (m: { cpu: CpuSplit }, builds: number) =>
      `kiln ${perBuild(m.cpu.kiln, builds)}, simulator ${perBuild(m.cpu.simulator, builds)}, its shells and disk copies ${perBuild(m.cpu.shells, builds)}`;
    s.log(`parallel: CPU per build: one build ${cpuSplit(last!, 1)}; ${many.builds} in parallel ${cpuSplit(many, many.builds)}`);
    // Each wait of the parallel builds, from their event logs: where the extra looks go.
    const perWait: Record<string, { looks: number[]; lags: number[]; predicted: number }> = {};
    const store = EventStore.open(join(manyHome, 'kiln.db'));
    try {
      // Every event line of --json names its build: each build once.
      for (const id of new Set([...many.result.stdout.matchAll(/"build_id":"([^"]+)"/g)].map((m) => m[1]!))) {
        const serverId = store.getBuild(id)?.resources.server?.id;
        if (!serverId) continue;
        const imposed = [...sim.floorParts(serverId)];
        for (const e of store.events(id).filter((x) => x.type === 'wait.finished')) {
          const kind = String((e.data.key as { wait?: string } | undefined)?.wait);
          const at = imposed.findIndex((p) => p.kind === kind);
          if (at < 0) continue;
          const [floor] = imposed.splice(at, 1);
          const w = (perWait[kind] ??= { looks: [], lags: [], predicted: 0 });
          w.looks.push(Number(e.data.looks));
          w.lags.push(Number(e.data.durationMs) - floor!.ms);
          if (typeof e.data.expectedMs === 'number') w.predicted++;
        }
      }
    } finally {
      store.close();
    }
    return {
      rows: [
        {
          item: '8',
          measure: `${many.builds} builds in parallel in one kiln process vs one build (realistic latency, with history)`,
          result: `${seconds(many.wallMs, 2)} (slowest floor ${seconds(many.floorMs, 2)}) vs ${seconds(one.wallMs, 2)} (floor ${seconds(one.floorMs, 2)}${s.single ? ', the e2e median' : ''}); peak RSS ${Math.round(many.peakRssKiB / 1024)} MiB vs ${Math.round(one.peakRssKiB / 1024)} MiB`,
          target: 'wall within 10% of one build',
          verdict: verdict(many.wallMs <= 1.1 * one.wallMs, `${percent(many.wallMs / one.wallMs - 1)} longer`),
        },
        {
          item: '8',
          measure: `the same without the floors' spread: wall − slowest floor of ${many.builds} parallel builds vs wall − floor of one (kiln's own time and the CPU contention)`,
          result: `${seconds(many.wallMs - many.floorMs, 2)} vs ${seconds(one.wallMs - one.floorMs, 2)} (the slowest of ${many.builds} floors is ${percent(many.floorMs / one.floorMs - 1)} over the one build's)`,
          target: '—',
          verdict: '—',
        },
        {
          item: '8',
          measure: `CPU per build: ${many.builds} in parallel vs one build (the kiln process; the simulator's API and SSH server; its confined shells and disk copies)`,
          result: `${cpuSplit(many, many.builds)} vs ${cpuSplit(last!, 1)}; all of it: ${seconds(many.cpu.kiln + many.cpu.simulator + many.cpu.shells, 1)} of CPU in ${seconds(many.wallMs, 1)} on ${cpus().length} cores`,
          target: '—',
          verdict: '—',
        },
        {
          item: '8',
          measure: `API calls of the ${many.builds} parallel builds vs ${many.builds}× one build`,
          result: `${many.apiCalls} vs ${many.builds} × ${one.apiCalls} = ${many.builds * one.apiCalls}`,
          target: `≤ ${many.builds}× one build`,
          verdict: verdict(many.apiCalls <= many.builds * one.apiCalls, `by ${many.apiCalls - many.builds * one.apiCalls}`),
        },
      ],
      details: [
        `**API calls by route, ${many.builds} builds in parallel** (per build, against the last single build before them, which had the same history):\n\n` +
          markdownTable(
            ['route', 'one build', `per build of ${many.builds} in parallel`],
            [...new Set([...Object.keys(last!.apiByRoute), ...Object.keys(many.apiByRoute)])]
              .sort()
              .map((route) => [route, String(last!.apiByRoute[route] ?? 0), ((many.apiByRoute[route] ?? 0) / many.builds).toFixed(1)]),
          ) +
          `\n\n**Each wait of the ${many.builds} parallel builds** (lag = the wait minus the latency the simulator imposed):\n\n` +
          markdownTable(
            ['wait', 'looks per build (mean)', 'lag (median)', 'lag (max)', 'predicted'],
            Object.entries(perWait).map(([kind, w]) => [
              kind,
              (w.looks.reduce((a, b) => a + b, 0) / w.looks.length).toFixed(1),
              millis(median(w.lags)),
              millis(Math.max(...w.lags)),
              `${w.predicted} of ${w.looks.length}`,
            ]),
          ),
      ],
    };
  } finally {
    await sim.close();
  }
}

// ---- 10: the waits' schedule, modelled (no clock: the real prediction and schedule, replayed) ----

/**
 * Replays the one polling schedule against the simulator's realistic latencies (uniform ±25 %),
 * learning from its own past waits as kiln does: looks and lag per wait for a few numbers of looks
 * in the predicted window (POLL_SCHEDULE.windowLooks), next to the plain schedule. With the API's
 * stamps a past wait's duration is exact (`apiDurationMs`); without them it is the midpoint between
 * the last miss and the hit. The boot wait of an SSH build watches its sign (the SSH port
 * answering, noticed within the probe's 100 ms gap); a build without SSH has none. A snapshot or
 * image of latency 0 is `available` in its create's answer (as on real Scaleway): no look. Shows
 * what fewer API calls cost in lag, without timing.
 */
async function waitModel(s: Settings): Promise<SectionResult> {
  const realistic: Record<string, number> = { 'server.boot': 8_000, 'server.stop': 4_000, snapshot: 1_000, image: 3_000 };
  const asReal: Record<string, number> = { ...realistic, snapshot: 0, image: 0 };
  const builds = s.quick ? 200 : 1_000;
  const PROBE_GAP_MS = 100;
  /** The calls of a build with history that are not looks (name checks, creates, actions, the root volume's PATCH and DELETE, the server's DELETE). */
  const OTHER_CALLS = 10;
  /** Packer 1.6.6's calls for the same template (the e2e section measures them): the calls target. */
  const PACKER_CALLS = 14;
  /** Looks and lag (ms) per wait kind, averaged over the replayed builds. */
  const replay = (latencies: Record<string, number>, schedule: Partial<PollSchedule> | null, o: { sshSign: boolean; exact: boolean }) => {
    let seed = 14;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const perWait: Record<string, { looks: number; lag: number }> = {};
    /** Each measured build's looks, summed over its waits. */
    const buildLooks = Array.from({ length: builds }, () => 0);
    for (const [wait, base] of Object.entries(latencies)) {
      const key = { wait, zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' };
      const history: WaitRecord[] = [];
      const signed = o.sshSign && wait === 'server.boot';
      let looks = 0;
      let lag = 0;
      for (let b = 0; b < WARM_UP_BUILDS + builds; b++) {
        const changeAt = base * (0.75 + 0.5 * random());
        const signAt = changeAt + PROBE_GAP_MS * random();
        const prediction = schedule ? predictWait(history, key) : undefined;
        let t = firstPollDelay(0, prediction, signed, schedule ?? {});
        let n = 0;
        let lastMiss: number | undefined;
        let onSign = false;
        if (base === 0) t = 0; // answered by the create: no look
        else
          for (;;) {
            n++;
            if (t >= changeAt) break;
            lastMiss = t;
            const next = t + pollDelay(t, schedule ?? {}, prediction, signed);
            onSign = signed && signAt < next;
            t = onSign ? Math.max(signAt, t + POLL_SCHEDULE.minMs) : next;
          }
        history.push({ key, durationMs: t, ...(onSign ? {} : { lastMissMs: lastMiss }), ...(o.exact ? { apiDurationMs: changeAt } : {}), whole: true });
        if (b >= WARM_UP_BUILDS) {
          buildLooks[b - WARM_UP_BUILDS]! += n;
          looks += n / builds;
          lag += (t - changeAt) / builds;
        }
      }
      perWait[wait] = { looks, lag };
    }
    const waits = Object.values(perWait);
    const meanLooks = waits.reduce((sum, w) => sum + w.looks, 0);
    const calls = buildLooks.map((n) => OTHER_CALLS + n).sort((x, y) => x - y);
    return [
      ...Object.keys(latencies).map((w) => `${perWait[w]!.looks.toFixed(1)} / ${millis(perWait[w]!.lag)}`),
      meanLooks.toFixed(1),
      `${(OTHER_CALLS + meanLooks).toFixed(1)} / ${calls[Math.floor(builds / 2)]} / ${calls[builds - 1]} / ${((100 * calls.filter((c) => c <= PACKER_CALLS).length) / builds).toFixed(0)} %`,
      millis(waits.reduce((sum, w) => sum + w.lag, 0)),
    ];
  };
  const kilns = (n: number) => (n === POLL_SCHEDULE.windowLooks ? " (kiln's)" : '');
  const placed = [1, 2, 3, 4, 20];
  const looksLabel = (n: number) => (n === 20 ? '20 looks in the window (a look every 0.1 × spread, the schedule before)' : `${n} look${n > 1 ? 's' : ''} in the window`);
  const rows = [
    ['snapshot 1 s, image 3 s: plain schedule (cold, no history), no SSH sign', ...replay(realistic, null, { sshSign: false, exact: true })],
    ['snapshot 1 s, image 3 s: plain schedule (cold, no history), SSH sign for the boot', ...replay(realistic, null, { sshSign: true, exact: true })],
    ...[1, 2, 20].map((n) => [`snapshot 1 s, image 3 s: ${looksLabel(n)}, durations from the looks (no stamps)`, ...replay(realistic, { windowLooks: n }, { sshSign: true, exact: false })]),
    ...placed.map((n) => [`snapshot 1 s, image 3 s: ${looksLabel(n)}, exact durations${kilns(n)}`, ...replay(realistic, { windowLooks: n }, { sshSign: true, exact: true })]),
    ...placed.map((n) => [`snapshot and image answered \`available\` (real Scaleway): ${looksLabel(n)}, exact durations${kilns(n)}`, ...replay(asReal, { windowLooks: n }, { sshSign: true, exact: true })]),
  ];
  return {
    rows: [],
    details: [
      `**The waits' schedule, modelled** (${builds} builds after ${WARM_UP_BUILDS} of warm-up replayed through \`predictWait\` and \`pollDelay\` against the realistic latencies, boot 8 s, stop 4 s, and snapshot 1 s, image 3 s or 0 (answered \`available\` by the create), each ±25 %; the boot watches its SSH sign except in the first row; looks / lag per wait, then the four waits of one build summed; calls per build = ${OTHER_CALLS} calls that are not looks + the looks, as mean / median / max / share of builds with ≤ ${PACKER_CALLS} (Packer's); no clock involved):\n\n` +
        markdownTable(['schedule', 'boot', 'stop', 'snapshot', 'image', 'looks per build', `calls per build (mean / median / max / ≤ ${PACKER_CALLS})`, 'lag per build'], rows),
    ],
  };
}

// ---- the shared PostgreSQL store on loopback (issue 16) -----------------------------------------

async function postgresStore(s: Settings): Promise<SectionResult> {
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
    const sample = readSample(join(sampleHome, 'kiln.db'), /"build_id":"([^"]+)"/.exec(sampleBuild.result.stdout)![1]!);
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
  const owner = { pid: process.pid, host: hostname() };
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

// ---- main ---------------------------------------------------------------------------------------

const RUNNERS: Record<SectionName, (s: Settings) => Promise<SectionResult>> = {
  e2e: endToEnd,
  sbs: sbsBuild,
  store: storeAppends,
  resume,
  ls: lsShow,
  cold: coldStart,
  gc,
  parallel,
  waits: waitModel,
  hcl,
  postgres: postgresStore,
};

const BEGIN = '<!-- bench:begin (written by scripts/bench.ts; edit outside these markers) -->';
const END = '<!-- bench:end -->';

function writeReport(file: string, generated: string): void {
  const block = `${BEGIN}\n${generated}\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + END.length)
      : `# Benchmarks\n\nProduced by \`npm run bench\` (scripts/bench.ts); the soak is \`node dist/scripts/soak.js\`.\n\n${block}\n`;
  writeFileSync(file, next);
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('bench')
    .usage('$0 [--runs N] [--quick] [--only e2e,store,…]\n\nMeasures kiln against the simulator and Packer; writes docs/benchmarks.md.')
    .option('runs', { type: 'number', describe: 'Repeats of each timed measurement (median reported) [default: 5, 1 with --quick]' })
    .option('quick', { type: 'boolean', default: false, describe: 'One run and smaller sizes: a try-out in about a minute' })
    .option('only', { type: 'string', describe: `Comma-separated sections: ${SECTIONS.join(', ')}` })
    .option('write', { type: 'boolean', describe: 'Write the table into docs/benchmarks.md [default: yes for a full run; no with --quick or --only]' })
    .strict()
    .check((a) => {
      if (a.runs !== undefined && (!Number.isInteger(a.runs) || a.runs < 1)) throw new Error('--runs takes a whole number ≥ 1');
      const unknown = (a.only ?? '').split(',').filter((x) => x && !(SECTIONS as readonly string[]).includes(x));
      if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
      return true;
    })
    .parse();
  const only = argv.only ? (argv.only.split(',').filter(Boolean) as SectionName[]) : [...SECTIONS];
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const settings: Settings = { runs: argv.runs ?? (argv.quick ? 1 : 5), quick: argv.quick, work, log: (line) => process.stderr.write(`bench: ${line}\n`) };
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  const rows: Row[] = [];
  const details: string[] = [];
  try {
    for (const name of SECTIONS.filter((x) => only.includes(x))) {
      settings.log(`— ${name}`);
      try {
        const result = await RUNNERS[name](settings);
        rows.push(...result.rows);
        details.push(...result.details);
      } catch (error) {
        settings.log(`${name} failed: ${(error as Error).stack ?? String(error)}`);
        rows.push({ item: name, measure: `${name} section`, result: `failed: ${(error as Error).message.split('\n')[0]}`, target: '—', verdict: '**failed**' });
      }
    }
  } finally {
    if (process.env.KILN_BENCH_KEEP) settings.log(`kept ${work}`); else rmSync(work, { recursive: true, force: true });
  }
  rows.sort((a, b) => a.item.localeCompare(b.item, 'en', { numeric: true }));
  const minutes = ((Date.now() - started.getTime()) / 60_000).toFixed(1);
  const generated = [
    `Run on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${machineDescription()} · \`${['bench', ...process.argv.slice(2)].join(' ')}\` (${settings.runs} run${settings.runs === 1 ? '' : 's'} per measurement${argv.quick ? ', quick sizes' : ''}; ${minutes} min; 1-min load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end)${runningFromSources ? ' · from sources via tsx' : ''}`,
    '',
    markdownTable(['#', 'measure', 'result', 'target', 'verdict'], rows.map((r) => [r.item, r.measure, r.result, r.target, r.verdict])),
    '',
    ...details.flatMap((d) => [d, '']),
  ].join('\n');
  process.stdout.write(generated + '\n');
  // The committed report holds a full run: a quick or partial run only prints, unless asked.
  if (argv.write ?? (!argv.quick && !argv.only)) writeReport(join(REPO_ROOT, 'docs', 'benchmarks.md'), generated);
  else settings.log('docs/benchmarks.md left as it is (a quick or partial run only prints; --write to write it)');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
