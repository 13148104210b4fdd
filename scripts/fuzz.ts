// The large fuzzing budget of issue 25: `npm run fuzz -- --runs 20000 [--seed N] [--target name]`.
// Runs each target of scripts/lib/fuzz-targets.ts in its own worker thread with a memory limit,
// so that an input that hangs or runs kiln out of memory is reported (with the input) instead of
// taking this process down. Prints, per target, the inputs tried, the time, and each failure's
// shrunk input. Exit 1 when any target failed.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

interface Job { target: string; runs: number; seed: number }
type Report = { kind: 'input'; input: string } | { kind: 'done'; tried: number; failed: boolean; seed: number; counterexample?: string; error?: string; ms: number };

const MEMORY_MB = 1024;
/** No input for this long: the worker is stuck in one. */
const STUCK_MS = 60_000;

if (isMainThread) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string' }, target: { type: 'string', multiple: true } } });
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  const { TARGETS } = await import('./lib/fuzz-targets.js');
  const chosen = TARGETS.filter((t) => !values.target || values.target.includes(t.name));
  console.log(`fuzzing ${chosen.length} targets, ${runs} inputs each, seed ${seed}`);
  const rows: string[] = [];
  let failures = 0;
  for (const target of chosen) {
    const report = await runInWorker({ target: target.name, runs, seed });
    if (report.failed) failures++;
    rows.push(`| ${target.name} | ${report.tried} | ${(report.ms / 1000).toFixed(1)} s | ${report.failed ? 'FAILED' : 'none'} |`);
    console.log(`${target.name}: ${report.tried} inputs in ${(report.ms / 1000).toFixed(1)} s, ${report.failed ? 'FAILED' : 'no failure'}`);
    if (report.failed) console.log(`  seed ${report.seed}; shrunk input: ${report.counterexample}\n  ${report.error?.replace(/\n/g, '\n  ')}`);
  }
  console.log(`\n| target | inputs tried | time | failures |\n|---|---|---|---|\n${rows.join('\n')}`);
  process.exitCode = failures ? 1 : 0;
} else {
  const job = workerData as Job;
  const { TARGETS, fuzz } = await import('./lib/fuzz-targets.js');
  const target = TARGETS.find((t) => t.name === job.target)!;
  const started = performance.now();
  const { tried, details } = await fuzz(target, { runs: job.runs, seed: job.seed, onInput: (input) => parentPort!.postMessage({ kind: 'input', input: JSON.stringify(input) } satisfies Report) });
  parentPort!.postMessage({
    kind: 'done',
    tried,
    failed: details.failed,
    seed: job.seed,
    ms: performance.now() - started,
    ...(details.failed ? { counterexample: JSON.stringify(details.counterexample?.[0]), error: details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance) } : {}),
  } satisfies Report);
}

/** One target in a worker: its report, or a failure naming the input it was on when it died or stuck. */
function runInWorker(job: Job): Promise<Extract<Report, { kind: 'done' }>> {
  return new Promise((resolve) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: MEMORY_MB } });
    const started = performance.now();
    let last = '';
    let tried = 0;
    let timer = setTimeout(stuck, STUCK_MS);
    let ended = false;
    const end = (report: Extract<Report, { kind: 'done' }>) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      resolve(report);
    };
    function stuck() {
      void worker.terminate();
      end({ kind: 'done', tried, failed: true, seed: job.seed, counterexample: last, error: `no answer for ${STUCK_MS / 1000} s: a hang`, ms: performance.now() - started });
    }
    worker.on('message', (report: Report) => {
      if (report.kind === 'done') return end(report);
      tried++;
      last = report.input;
      clearTimeout(timer);
      timer = setTimeout(stuck, STUCK_MS);
    });
    worker.on('error', (error) => end({ kind: 'done', tried, failed: true, seed: job.seed, counterexample: last, error: `the worker died: ${error.message} (${(error as NodeJS.ErrnoException).code ?? ''})`, ms: performance.now() - started }));
    worker.on('exit', (code) => end({ kind: 'done', tried, failed: true, seed: job.seed, counterexample: last, error: `the worker exited (${code}) without a report`, ms: performance.now() - started }));
  });
}
