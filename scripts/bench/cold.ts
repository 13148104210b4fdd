// Item 6: start-up — `kiln --help` and `kiln ls` on an empty store, whole process, beside a bare `node`.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { runKiln, runningFromSources, runProcess } from '../lib/proc.js';
import { median, millis } from '../lib/stats.js';
import { timeKiln, verdict, type SectionResult, type Settings } from './section.js';

export async function coldStart(s: Settings): Promise<SectionResult> {
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
