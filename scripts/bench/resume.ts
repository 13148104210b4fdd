// Item 4: `kiln resume` of a killed build, 1k to 100k events in its log, to its first API call.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { EventStore } from '../../src/store/index.js';
import { kilnEnv, writeKilnTemplate } from '../lib/e2e.js';
import { appendOutputEvents } from '../lib/fixtures.js';
import { runKiln, spawnKiln } from '../lib/proc.js';
import { median, millis } from '../lib/stats.js';
import { verdict, type Row, type SectionResult, type Settings } from './section.js';

async function resumeIsImplemented(): Promise<boolean> {
  const help = await runKiln(['resume', '--help']);
  return !/not implemented/i.test(help.stdout + help.stderr);
}

/** Spawns `kiln resume <id>` and resolves with the ms until the simulator served its first request; kills it then. */
export function timeToFirstRequest(sim: Simulator, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
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
export async function crashedBuild(sim: Simulator, home: string, size: number): Promise<{ db: string; id: string; env: NodeJS.ProcessEnv }> {
  const template = writeKilnTemplate(home, sim.sshPort);
  const db = join(home, 'kiln.db');
  const env = kilnEnv(sim, home);
  const crashed = await runKiln(['build', '--json', '--db', db, template], { env: { ...env, KILN_CRASH_AT: 'provisioner.started' }, timeoutMs: 300_000 });
  const id = /"buildId":"([^"]+)"/.exec(crashed.stdout)?.[1];
  if (crashed.signal !== 'SIGKILL' || !id) throw new Error(`the build was to kill itself at provisioner.started: exit ${crashed.code ?? crashed.signal}\n${crashed.stderr.slice(-2000)}`);
  const store = EventStore.open(db);
  const have = store.getBuild(id)!.lastSeq;
  store.close();
  appendOutputEvents(db, id, size - have, 0);
  return { db, id, env };
}

export async function resume(s: Settings): Promise<SectionResult> {
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
