// Item 8: 20 builds in parallel in one kiln process against one build — wall time, memory, CPU,
// API calls and each wait.
import { mkdtempSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../src/sim/index.js';
import { EventStore } from '../../src/store/index.js';
import { kilnBuild, writeKilnTemplate, type BuildMeasurement, type CpuSplit } from '../lib/e2e.js';
import { markdownTable, median, millis, percent, seconds } from '../lib/stats.js';
import { waitsSeen } from './build-log.js';
import { WARM_UP_BUILDS } from './e2e.js';
import { verdict, type SectionResult, type Settings } from './section.js';

export async function parallel(s: Settings): Promise<SectionResult> {
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
      for (const id of many.ids) {
        const serverId = store.getBuild(id)?.resources.server?.id;
        if (!serverId) continue;
        for (const wait of waitsSeen(store.events(id), sim.floorParts(serverId))) {
          const w = (perWait[wait.kind] ??= { looks: [], lags: [], predicted: 0 });
          w.looks.push(wait.looks);
          w.lags.push(wait.lagMs);
          if (wait.predicted) w.predicted++;
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
