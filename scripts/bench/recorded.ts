// Item 2 at real-world durations: kiln against Packer 1.6.6 on a simulator with the `recorded`
// latency profile (the boots, stops, snapshots and images real Scaleway took in the recorded
// traffic: stops of about a minute), so that the kiln/Packer ratio is the one a user would see.
// The e2e section keeps `realistic` (round figures, stop ≈ 4 s) for its overhead figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/sim/index.js';
import { kilnBuild, packerBuild, writeKilnTemplate, type BuildMeasurement } from '../lib/e2e.js';
import { packerMissing } from '../lib/packer.js';
import { median, seconds } from '../lib/stats.js';
import type { SectionResult, Settings } from './section.js';

const LATENCY = 'recorded';

export async function recordedLatency(s: Settings): Promise<SectionResult> {
  const measure = `kiln build vs Packer 1.6.6 of examples/basic.json, ${LATENCY} latency (real Scaleway's durations), cold (median of ${s.runs})`;
  if (packerMissing) return { rows: [{ item: '2', measure, result: `not measured: ${packerMissing}`, target: '—', verdict: 'not measurable' }], details: [] };
  const stateDir = mkdtempSync(join(s.work, 'sim-recorded-'));
  const sim = await startSimulator({ latency: LATENCY, port: 0, sshPort: 0, stateDir, seed: 30, log: (line) => s.log(`simulator: ${line}`) });
  const kiln: BuildMeasurement[] = [];
  const packer: BuildMeasurement[] = [];
  try {
    for (let run = 1; run <= s.runs; run++) {
      const home = mkdtempSync(join(s.work, 'recorded-kiln-'));
      const k = await kilnBuild(sim, writeKilnTemplate(home, sim.sshPort), home);
      kiln.push(k);
      const p = await packerBuild(sim, stateDir, join(s.work, `recorded-packer-${run}`), run);
      packer.push(p);
      s.log(`recorded ${run}/${s.runs} (${LATENCY} latency): kiln ${seconds(k.wallMs, 1)} (floor ${seconds(k.floorMs, 1)}), Packer ${seconds(p.wallMs, 1)} (floor ${seconds(p.floorMs, 1)})`);
    }
  } finally {
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const wall = (runs: BuildMeasurement[]) => median(runs.map((m) => m.wallMs));
  const over = (runs: BuildMeasurement[]) => median(runs.map((m) => m.wallMs - m.floorMs));
  const ratio = median(kiln.map((k, i) => k.wallMs / packer[i]!.wallMs));
  return {
    rows: [
      {
        item: '2',
        measure,
        result: `kiln ${seconds(wall(kiln), 1)} (overhead ${seconds(over(kiln), 1)}), Packer ${seconds(wall(packer), 1)} (overhead ${seconds(over(packer), 1)}): kiln/Packer wall ${ratio.toFixed(2)}×`,
        target: '—',
        verdict: '—',
      },
    ],
    details: [],
  };
}
