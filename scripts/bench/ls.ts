// Item 5: `kiln ls` and `kiln show` with 10,000 builds in the store (copies of a real build's log).
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/sim/index.js';
import { kilnBuild, writeKilnTemplate } from '../lib/e2e.js';
import { cloneBuilds, readSample } from '../lib/fixtures.js';
import { millis } from '../lib/stats.js';
import { timeKiln, verdict, type SectionResult, type Settings } from './section.js';

/** A real build's log (fast simulator), to copy. */
async function sampleBuild(s: Settings): Promise<{ db: string; id: string }> {
  const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => s.log(`simulator: ${line}`) });
  try {
    const home = mkdtempSync(join(s.work, 'sample-'));
    const template = writeKilnTemplate(home, sim.sshPort);
    const result = await kilnBuild(sim, template, home);
    return { db: join(home, 'kiln.db'), id: result.ids[0]! };
  } finally {
    await sim.close();
  }
}

export async function lsShow(s: Settings): Promise<SectionResult> {
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
