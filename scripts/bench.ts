// `npm run bench` (node dist/scripts/bench.js [--runs N] [--quick] [--only a,b] [--[no-]write]):
// measures kiln against the simulator's latency floor and against Packer 1.6.6 on the same
// simulator, the event store, resume, ls/show, start-up, gc and parallel builds (issue 8), prints a
// markdown table and writes it into docs/benchmarks.md (between the bench markers, keeping the
// hand-written analysis around them). Nothing here asserts a time: it measures and reports.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { EventStore, type BuildEvent } from '../src/store/index.js';
import { kilnBuild, kilnEnv, PACKER, packerBuild, writeKilnTemplate, writeSbsTemplate, type BuildMeasurement } from './lib/e2e.js';
import { appendOutputEvents, cloneBuilds, createTaggedResources, readSample } from './lib/fixtures.js';
import { REPO_ROOT, runKiln, runningFromSources, runProcess, spawnKiln } from './lib/proc.js';
import { SimApi } from './lib/sim-api.js';
import { machineDescription, markdownTable, median, millis, percent, seconds } from './lib/stats.js';

const SECTIONS = ['e2e', 'sbs', 'store', 'resume', 'ls', 'cold', 'gc', 'parallel'] as const;
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

async function endToEnd(s: Settings): Promise<SectionResult> {
  const stateDir = mkdtempSync(join(s.work, 'sim-e2e-'));
  const sim = await startSimulator({ latency: 'realistic', port: 0, sshPort: 0, stateDir, seed: 8, log: (line) => s.log(`simulator: ${line}`) });
  const withPacker = existsSync(PACKER);
  const kiln: BuildMeasurement[] = [];
  const packer: BuildMeasurement[] = [];
  const parts: Record<string, number[]> = {};
  const phaseTimes: Record<string, number[]> = {};
  try {
    for (let run = 1; run <= s.runs; run++) {
      const home = mkdtempSync(join(s.work, 'e2e-kiln-'));
      const template = writeKilnTemplate(home, sim.sshPort);
      const k = await kilnBuild(sim, template, home, { measureRss: true });
      kiln.push(k);
      const id = /"build_id":"([^"]+)"/.exec(k.result.stdout)![1]!;
      const store = EventStore.open(join(home, 'kiln.db'));
      for (const [part, ms] of Object.entries(breakdown(store.events(id), k.wallMs, k.floorMs, phaseTimes))) (parts[part] ??= []).push(ms);
      store.close();
      s.log(`e2e run ${run}/${s.runs}: kiln ${seconds(k.wallMs, 2)} (floor ${seconds(k.floorMs, 2)}, ${k.apiCalls} API calls, ${k.events} events)`);
      if (withPacker) {
        const p = await packerBuild(sim, stateDir, join(s.work, `e2e-packer-${run}`), run);
        packer.push(p);
        s.log(`e2e run ${run}/${s.runs}: Packer ${seconds(p.wallMs, 2)} (floor ${seconds(p.floorMs, 2)}, ${p.apiCalls} API calls)`);
      }
    }
  } finally {
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }

  const kWall = median(kiln.map((m) => m.wallMs));
  const kFloor = median(kiln.map((m) => m.floorMs));
  const kOver = median(kiln.map((m) => m.wallMs - m.floorMs));
  const kPct = median(kiln.map((m) => (m.wallMs - m.floorMs) / m.floorMs));
  const rows: Row[] = [
    {
      item: '1',
      measure: `kiln build of examples/basic.json, realistic latency (median of ${s.runs})`,
      result: `${seconds(kWall, 2)} vs floor ${seconds(kFloor, 2)}: overhead ${seconds(kOver, 2)} = ${percent(kPct)}`,
      target: 'overhead ≤ 5% of the floor',
      verdict: verdict(kPct <= 0.05, `by ${seconds(kOver - 0.05 * kFloor, 2)}, ${percent(kPct - 0.05)} of the floor`),
    },
  ];
  const details: string[] = [];
  details.push(
    `**Where kiln's overhead goes** (medians over ${s.runs} builds, from kiln's own event log; the waits are the phases that poll a state change, the floor is what the simulator imposed):\n\n` +
      markdownTable(
        ['part', 'median'],
        Object.entries(parts).map(([part, values]) => [part, millis(median(values))]),
      ) +
      `\n\n**kiln's phases** (median duration; the \`wait\` phases include the simulator's latency):\n\n` +
      markdownTable(
        ['phase', 'median'],
        Object.entries(phaseTimes).map(([phase, values]) => [phase, millis(median(values))]),
      ),
  );
  if (withPacker) {
    const pWall = median(packer.map((m) => m.wallMs));
    const pFloor = median(packer.map((m) => m.floorMs));
    const pOver = median(packer.map((m) => m.wallMs - m.floorMs));
    const ratio = median(kiln.map((k, i) => k.wallMs / packer[i]!.wallMs));
    const overheadRatio = kOver / pOver;
    rows.push(
      {
        item: '2',
        measure: `Packer 1.6.6, same template and simulator, to image \`available\` (alternating, median of ${s.runs})`,
        result: `${seconds(pWall, 2)} vs floor ${seconds(pFloor, 2)}: overhead ${seconds(pOver, 2)}; kiln/Packer wall ${ratio.toFixed(2)}×`,
        target: '—',
        verdict: '—',
      },
      {
        item: '2',
        measure: "kiln's overhead / Packer's overhead",
        result: `${seconds(kOver, 2)} / ${seconds(pOver, 2)} = ${overheadRatio.toFixed(2)}`,
        target: '≤ 0.25',
        verdict: verdict(overheadRatio <= 0.25, `kiln's overhead would have to be ≤ ${seconds(0.25 * pOver, 2)}`),
      },
    );
  } else {
    rows.push({ item: '2', measure: 'Packer 1.6.6 on the same simulator', result: `not measured: ${PACKER} is not installed`, target: 'kiln overhead ≤ 0.25 × Packer overhead', verdict: 'not measurable' });
  }
  const kCalls = median(kiln.map((m) => m.apiCalls));
  s.single = { wallMs: kWall, floorMs: kFloor, peakRssKiB: median(kiln.map((m) => m.peakRssKiB)), apiCalls: kCalls };
  rows.push({
    item: '9',
    measure: 'API calls per build, realistic latency (median)',
    result: withPacker ? `kiln ${kCalls}, Packer ${median(packer.map((m) => m.apiCalls))}` : `kiln ${kCalls}`,
    target: '—',
    verdict: '—',
  });
  const routes = new Set([...kiln, ...packer].flatMap((m) => Object.keys(m.apiByRoute)));
  details.push(
    `**API calls per build by route** (median; Packer 1.6.6 does not delete the root volume with \`remove_volume\` unset, kiln does; kiln resolves the image label through the marketplace and checks image/snapshot names first):\n\n` +
      markdownTable(
        ['route', 'kiln', ...(withPacker ? ['Packer'] : [])],
        [...routes].sort().map((route) => [
          route,
          String(median(kiln.map((m) => m.apiByRoute[route] ?? 0))),
          ...(withPacker ? [String(median(packer.map((m) => m.apiByRoute[route] ?? 0)))] : []),
        ]),
      ),
  );
  details.push(
    `**Each run** (wall / floor / overhead):\n\n` +
      markdownTable(
        ['run', 'kiln', ...(withPacker ? ['Packer'] : [])],
        kiln.map((k, i) => [
          String(i + 1),
          `${seconds(k.wallMs, 2)} / ${seconds(k.floorMs, 2)} / ${seconds(k.wallMs - k.floorMs, 2)}`,
          ...(withPacker ? [`${seconds(packer[i]!.wallMs, 2)} / ${seconds(packer[i]!.floorMs, 2)} / ${seconds(packer[i]!.wallMs - packer[i]!.floorMs, 2)}`] : []),
        ]),
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
    const event = (i: number) =>
      ({ type: 'provision.output', phase: 'provision', attempt: 1, data: { index: 0, lines: [{ stream: 'stdout', line: `line ${i}` }] } }) as const;
    let started = performance.now();
    for (let i = 0; i < count; i++) store.append('bench-appends', event(i));
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
          measure: `durable appends, one event per transaction (synchronous=${sync === '2' ? 'FULL' : sync}, ${count} appends)`,
          result: `${Math.round(perSecond)} events/s = ${millis(singleMs)} per transition`,
          target: '≥ 300 events/s',
          verdict: verdict(perSecond >= 300, `by ${Math.round(300 - perSecond)} events/s`),
        },
        {
          item: '3',
          measure: 'provisioner output, 50 lines per transaction (as the engine batches it)',
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
      // A real build, killed right after its first provisioner started (its server keeps running),
      // then given `size` events in all with provisioner output lines.
      const home = mkdtempSync(join(s.work, `resume-${size}-`));
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
      await createTaggedResources(api, servers, volumes, await api.marketplaceImageId('ubuntu_jammy', 'DEV1-S'));
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
    const oneHome = mkdtempSync(join(s.work, 'parallel-1-'));
    const one = s.single ?? (await kilnBuild(sim, writeKilnTemplate(oneHome, sim.sshPort), oneHome, { measureRss: true }));
    s.log(`parallel: one build ${seconds(one.wallMs, 2)} (floor ${seconds(one.floorMs, 2)}), peak RSS ${Math.round(one.peakRssKiB / 1024)} MiB`);
    const manyHome = mkdtempSync(join(s.work, `parallel-${count}-`));
    const many = await kilnBuild(sim, writeKilnTemplate(manyHome, sim.sshPort, count), manyHome, { measureRss: true });
    s.log(`parallel: ${many.builds} builds ${seconds(many.wallMs, 2)} (slowest floor ${seconds(many.floorMs, 2)}), peak RSS ${Math.round(many.peakRssKiB / 1024)} MiB`);
    return {
      rows: [
        {
          item: '8',
          measure: `${many.builds} builds in parallel in one kiln process vs one build (realistic latency)`,
          result: `${seconds(many.wallMs, 2)} (slowest floor ${seconds(many.floorMs, 2)}) vs ${seconds(one.wallMs, 2)} (floor ${seconds(one.floorMs, 2)}${s.single ? ', the e2e median' : ''}); peak RSS ${Math.round(many.peakRssKiB / 1024)} MiB vs ${Math.round(one.peakRssKiB / 1024)} MiB; ${many.apiCalls} vs ${one.apiCalls} API calls`,
          target: '—',
          verdict: '—',
        },
      ],
      details: [],
    };
  } finally {
    await sim.close();
  }
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
    rmSync(work, { recursive: true, force: true });
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
