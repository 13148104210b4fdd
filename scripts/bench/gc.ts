// Item 7: `kiln gc` of 1,000 and 10,000 tagged servers (and their root volumes), dry run and --force.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/sim/index.js';
import { kilnEnv } from '../lib/e2e.js';
import { createTaggedResources } from '../lib/fixtures.js';
import { runKiln } from '../lib/proc.js';
import { marketplaceImageId, SimApi } from '../lib/sim-api.js';
import { seconds } from '../lib/stats.js';
import { verdict, type Row, type SectionResult, type Settings } from './section.js';

export async function gc(s: Settings): Promise<SectionResult> {
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
