// Items 1, 2 and 9: end to end, kiln against the simulator's latency floor and against Packer 1.6.6
// on the same simulator — wall time, where kiln's overhead goes, each wait, the API calls.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { EventStore } from '../../src/store/index.js';
import { kilnBuild, packerBuild, writeKilnTemplate, type BuildMeasurement } from '../lib/e2e.js';
import { packerMissing } from '../lib/packer.js';
import { markdownTable, median, millis, percent, seconds } from '../lib/stats.js';
import { breakdown, waitsSeen, type WaitSeen } from './build-log.js';
import { verdict, type Row, type SectionResult, type Settings } from './section.js';

/** Builds of the same kind run before the measured "warm" ones, so that their waits have history. */
export const WARM_UP_BUILDS = 4;

/** What the bench reads back from one kiln build's event log. */
interface KilnRun extends BuildMeasurement {
  parts: Record<string, number>;
  /** Per wait kind: how much later than the simulator's latency kiln noticed the change, and how many looks it took. */
  waits: Record<string, Omit<WaitSeen, 'kind'>>;
}

/** One `kiln build` of the basic template in `home` (its store keeps the history of earlier ones). */
async function kilnRun(s: Settings, sim: Simulator, home: string, phaseTimes: Record<string, number[]>): Promise<KilnRun> {
  const k = await kilnBuild(sim, writeKilnTemplate(home, sim.sshPort), home, { measureRss: true });
  const id = k.ids[0]!;
  const store = EventStore.open(join(home, 'kiln.db'));
  try {
    const events = store.events(id);
    const serverId = store.getBuild(id)!.resources.server!.id;
    // Each wait against the simulator's latency for it (boot, stop, snapshot, image).
    const waits: KilnRun['waits'] = {};
    for (const { kind, ...wait } of waitsSeen(events, sim.floorParts(serverId))) waits[kind] = wait;
    return { ...k, parts: breakdown(events, k.wallMs, k.floorMs, phaseTimes), waits };
  } finally {
    store.close();
  }
}

const describeRun = (k: BuildMeasurement) => `${seconds(k.wallMs, 2)} (floor ${seconds(k.floorMs, 2)}, ${k.apiCalls} API calls)`;

/** Items 1, 2 and 9: kiln's builds against the simulator's floor, cold and with history, and against Packer 1.6.6's. */
export async function endToEnd(s: Settings): Promise<SectionResult> {
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
