// Issue 27's targets, measured: the page of a build with 10,000 events renders in under 1 s (the
// `kiln show --html` process, the rendering alone, and Chromium opening the file), and the list
// of 10,000 builds in `kiln ui` stays paginated and fast (first, later and filtered pages, and the
// browser's load). Built from one real simulated build, copied through the store's API.
//
//   npm run build && node dist/scripts/bench-report.js [--quick] [--runs 5]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport, reportPage } from '../src/report/index.js';
import { startSimulator } from '../src/sim/index.js';
import { EventStore, type NewEvent } from '../src/store/index.js';
import { startUiServer, type UiServer } from '../src/ui/index.js';
import { readBuild } from '../src/view/index.js';
import { launchChromium } from './lib/browser.js';
import { kilnBuild, writeKilnTemplate } from './lib/e2e.js';
import { cloneBuilds, readSample, type SampleBuild } from './lib/fixtures.js';
import { runKiln } from './lib/proc.js';
import { machineDescription, markdownTable, median, millis } from './lib/stats.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string', default: '5' } } });
const RUNS = Number(flags.runs);
const EVENTS = 10_000;
const BUILDS = flags.quick ? 1_000 : 10_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The sample's log with `EVENTS` in all: provisioner output lines (one per event) where its first provisioner ran. */
function bigBuild(db: string, sample: SampleBuild): string {
  const id = `big-${sample.record.id}`;
  const events: NewEvent[] = sample.events.map((e) => ({ type: e.type, phase: e.phase, attempt: e.attempt, data: e.data }));
  const at = events.findIndex((e) => e.type === 'provisioner.started') + 1;
  const output: NewEvent[] = Array.from({ length: EVENTS - events.length }, (_, i) => ({
    type: 'provision.output',
    phase: 'provision',
    attempt: 1,
    data: { index: 0, lines: [{ stream: i % 50 === 0 ? 'stderr' : 'stdout', line: `Unpacking package-${i} (1.${i % 97}.0-1) over (1.${i % 97}.0-0) ... ${'.'.repeat(i % 40)}` }] },
  }));
  const store = EventStore.open(db);
  try {
    store.db.pragma('synchronous = OFF');
    const { record } = sample;
    store.createBuild({ id, templatePath: record.templatePath, templateHash: record.templateHash, builderName: record.builderName, spec: record.spec, onError: record.onError }, events[0]!);
    for (const batch of [events.slice(1, at), output, events.slice(at)]) for (let i = 0; i < batch.length; i += 1000) store.appendMany(id, batch.slice(i, i + 1000));
    return id;
  } finally {
    store.close();
  }
}

/** In the page: from navigation start to the end of its load event, ms. */
const NAVIGATION_MS = "performance.getEntriesByType('navigation')[0].duration";

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function medianOf(runs: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(run));
  return median(times);
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'kiln-bench-report-'));
  const rows: string[][] = [];
  const row = (measure: string, ms: number, target: string, met?: boolean) => {
    rows.push([measure, millis(ms), target, met === undefined ? '—' : met ? 'met' : '**missed**']);
    log(`${measure}: ${millis(ms)}`);
  };
  let ui: UiServer | undefined;
  const browser = await launchChromium({ width: 1280, height: 900 });
  try {
    log('one real build against the simulator…');
    const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0 });
    let sampleId: string;
    try {
      const template = writeKilnTemplate(home, sim.sshPort);
      const built = await kilnBuild(sim, template, home);
      sampleId = (JSON.parse(built.result.stdout.split('\n')[0]!) as { buildId: string }).buildId;
    } finally {
      await sim.close();
    }
    const db = join(home, 'kiln.db');
    const sample = readSample(db, sampleId);
    const big = bigBuild(db, sample);
    log(`a ${EVENTS}-event build (${big}); ${BUILDS} builds…`);
    cloneBuilds(db, sample, BUILDS - 2);

    // 1. The report of the 10,000-event build.
    const cli = await medianOf(RUNS, async () => {
      const r = await runKiln(['show', big, '--html', '--db', db]);
      if (r.code !== 0) throw new Error(r.stderr);
    });
    row(`\`kiln show --html\` of a ${EVENTS.toLocaleString('en')}-event build, whole process (median of ${RUNS})`, cli, '—');
    const store = EventStore.open(db);
    let html = '';
    try {
      const record = store.getBuild(big)!;
      const render = await medianOf(RUNS, async () => {
        const { events, past, now } = await readBuild(store, record);
        html = reportPage(buildReport(record, events, past, now));
      });
      row(`its report read from the store and rendered, in process (median of ${RUNS})`, render, '—');
    } finally {
      store.close();
    }
    const file = join(home, 'big.html');
    writeFileSync(file, html);
    const page = await browser.context.newPage();
    const loads: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto(`file://${file}`, { waitUntil: 'load' });
      loads.push(Number(await page.evaluate(NAVIGATION_MS)));
    }
    row(`Chromium opens that report (${Math.round(html.length / 1024)} KiB) to its load event (median of ${RUNS})`, median(loads), '< 1 s', median(loads) < 1000);

    // 2. `kiln ui` over the store: the big build's page, and the list of every build.
    const reader = EventStore.open(db);
    ui = await startUiServer({ store: reader, host: '127.0.0.1', port: 0, gcPlan: async () => ({ zones: [], now: Date.now(), problem: 'not measured' }) });
    const get = async (path: string) => {
      const response = await fetch(ui!.url + path);
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      await response.text();
    };
    const pageLoad = async (path: string) => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await page.goto(ui!.url + path, { waitUntil: 'load' });
        times.push(Number(await page.evaluate(NAVIGATION_MS)));
      }
      return median(times);
    };
    row(`\`kiln ui\`: the ${EVENTS.toLocaleString('en')}-event build's page, served (median of ${RUNS})`, await medianOf(RUNS, () => get(`builds/${big}`)), '—');
    const buildLoad = await pageLoad(`builds/${big}`);
    row(`… and loaded in Chromium (median of ${RUNS})`, buildLoad, '< 1 s', buildLoad < 1000);
    // The list reads every build's summary at most once a second: the first page after a pause pays for it.
    const uncached: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await new Promise((r) => setTimeout(r, 1_100));
      uncached.push(await timed(() => get('')));
    }
    const first = median(uncached);
    row(`the list of ${BUILDS.toLocaleString('en')} builds, first page, store read (median of ${RUNS})`, first, '< 300 ms', first < 300);
    row(`a later page (page 100), summaries cached (median of ${RUNS})`, await medianOf(RUNS, () => get('?page=100')), '< 300 ms');
    row(`filtered (\`?q=bench000\`, status succeeded), summaries cached (median of ${RUNS})`, await medianOf(RUNS, () => get('?q=bench000&status=succeeded')), '< 300 ms');
    const listLoad = await pageLoad('');
    row(`the list's first page loaded in Chromium (median of ${RUNS})`, listLoad, '< 1 s', listLoad < 1000);
    reader.close();
  } finally {
    await ui?.close();
    await browser.close();
    rmSync(home, { recursive: true, force: true });
  }
  process.stdout.write(`## Report and UI (issue 27)\n\n${machineDescription()}, ${new Date().toISOString().slice(0, 16)}Z\n\n${markdownTable(['measure', 'result', 'target', 'verdict'], rows)}\n`);
}

await main();
