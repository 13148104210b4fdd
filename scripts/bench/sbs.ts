// Item 1b (issue 11): a build on SBS volumes against its floor.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/sim/index.js';
import { EventStore } from '../../src/store/index.js';
import { kilnBuild, writeSbsTemplate, type BuildMeasurement } from '../lib/e2e.js';
import { median, percent, seconds } from '../lib/stats.js';
import { breakdown } from './build-log.js';
import { verdict, type SectionResult, type Settings } from './section.js';

/**
 * Issue 11: an SBS build (examples/pro2-sbs.json: PRO2, SBS root at 15k IOPS, one extra block
 * volume) against its floor, realistic latency: block snapshots take the ~5 s recorded on Scaleway.
 */
export async function sbsBuild(s: Settings): Promise<SectionResult> {
  const sim = await startSimulator({ latency: 'realistic', port: 0, sshPort: 0, seed: 11, log: (line) => s.log(`simulator: ${line}`) });
  const runs: BuildMeasurement[] = [];
  const phaseTimes: Record<string, number[]> = {};
  try {
    for (let run = 1; run <= s.runs; run++) {
      const home = mkdtempSync(join(s.work, 'sbs-kiln-'));
      const k = await kilnBuild(sim, writeSbsTemplate(home, sim.sshPort), home);
      runs.push(k);
      const store = EventStore.open(join(home, 'kiln.db'));
      breakdown(store.events(k.ids[0]!), k.wallMs, k.floorMs, phaseTimes);
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
