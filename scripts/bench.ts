// `npm run bench` (node dist/scripts/bench.js [--runs N] [--quick] [--only a,b] [--[no-]write]):
// measures kiln against the simulator's latency floor and against Packer 1.6.6 on the same
// simulator, the event store, resume, ls/show, start-up, gc and parallel builds (issue 8), prints a
// markdown table and writes it into docs/benchmarks.md (between the bench markers, keeping the
// hand-written analysis around them). Nothing here asserts a time: it measures and reports.
// Each section is a module of scripts/bench/; this file runs the ones asked for and writes the report.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { cacheBuilds } from './bench/cache.js';
import { coldStart } from './bench/cold.js';
import { endToEnd } from './bench/e2e.js';
import { gc } from './bench/gc.js';
import { hcl } from './bench/hcl.js';
import { lsShow } from './bench/ls.js';
import { parallel } from './bench/parallel.js';
import { postgresStore } from './bench/postgres.js';
import { resume } from './bench/resume.js';
import { recordedLatency } from './bench/recorded.js';
import { sbsBuild } from './bench/sbs.js';
import type { Row, Section, Settings } from './bench/section.js';
import { storeAppends } from './bench/store.js';
import { waitModel } from './bench/waits.js';
import { REPO_ROOT, runningFromSources } from './lib/proc.js';
import { machineDescription, markdownTable } from './lib/stats.js';

/** The sections, in the order they run (`--only` picks some by these names). */
const SECTIONS = {
  e2e: endToEnd,
  recorded: recordedLatency,
  sbs: sbsBuild,
  store: storeAppends,
  resume,
  ls: lsShow,
  cold: coldStart,
  gc,
  parallel,
  waits: waitModel,
  hcl,
  postgres: postgresStore,
  cache: cacheBuilds,
} satisfies Record<string, Section>;
type SectionName = keyof typeof SECTIONS;
const NAMES = Object.keys(SECTIONS) as SectionName[];

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
    .option('only', { type: 'string', describe: `Comma-separated sections: ${NAMES.join(', ')}` })
    .option('write', { type: 'boolean', describe: 'Write the table into docs/benchmarks.md [default: yes for a full run; no with --quick or --only]' })
    .strict()
    .check((a) => {
      if (a.runs !== undefined && (!Number.isInteger(a.runs) || a.runs < 1)) throw new Error('--runs takes a whole number ≥ 1');
      const unknown = (a.only ?? '').split(',').filter((x) => x && !(NAMES as string[]).includes(x));
      if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${NAMES.join(', ')}`);
      return true;
    })
    .parse();
  const only = argv.only ? (argv.only.split(',').filter(Boolean) as SectionName[]) : NAMES;
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const settings: Settings = { runs: argv.runs ?? (argv.quick ? 1 : 5), quick: argv.quick, work, log: (line) => process.stderr.write(`bench: ${line}\n`) };
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  const rows: Row[] = [];
  const details: string[] = [];
  try {
    for (const name of NAMES.filter((x) => only.includes(x))) {
      settings.log(`— ${name}`);
      try {
        const result = await SECTIONS[name](settings);
        rows.push(...result.rows);
        details.push(...result.details);
      } catch (error) {
        settings.log(`${name} failed: ${(error as Error).stack ?? String(error)}`);
        rows.push({ item: name, measure: `${name} section`, result: `failed: ${(error as Error).message.split('\n')[0]}`, target: '—', verdict: '**failed**' });
      }
    }
  } finally {
    if (process.env.KILN_BENCH_KEEP) settings.log(`kept ${work}`); else rmSync(work, { recursive: true, force: true });
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
