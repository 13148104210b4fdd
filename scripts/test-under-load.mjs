// `npm run test:load -- [--burners N] [--runs N] [test filters…]`: runs `npm test` while N
// processes (default 2) burn a CPU each, the way a busy CI runner or laptop does, so that a test
// whose outcome depends on the machine's speed shows up here rather than for a new user.
// Repeats the suite `--runs` times (default 1, stopping at the first failure), prints each run's
// duration and exit status, and exits with the first failing status (0 when all passed).
// The burners are stopped however the run ends; they also stop themselves if this script dies.
// Plain ESM JavaScript like run-tests.mjs: it must run before anything is compiled.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const usage = 'usage: node scripts/test-under-load.mjs [--burners N] [--runs N] [test file filters…]';
let parsed;
try {
  parsed = parseArgs({
    options: { burners: { type: 'string', default: '2' }, runs: { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(usage);
  process.exit(0);
}
const count = (name) => {
  const value = Number(parsed.values[name]);
  if (!Number.isInteger(value) || value < 0 || (name === 'runs' && value === 0)) {
    console.error(`--${name} must be a whole number${name === 'runs' ? ' of at least 1' : ''}, not "${parsed.values[name]}"\n${usage}`);
    process.exit(2);
  }
  return value;
};
const burnerCount = count('burners');
const runs = count('runs');
const filters = parsed.positionals;

// A burner spins on the CPU; every ~100 ms of spinning it checks that its parent (this script)
// still exists, so a burner never outlives a script killed with SIGKILL.
const burnerSource = `
  const parent = process.ppid;
  for (;;) {
    const until = Date.now() + 100;
    while (Date.now() < until) {}
    if (process.ppid !== parent) process.exit(0);
  }`;
const burners = [];
const startBurners = () => {
  for (let i = 0; i < burnerCount; i += 1) {
    burners.push(spawn(process.execPath, ['-e', burnerSource], { stdio: 'ignore' }));
  }
};
const stopBurners = () => {
  for (const burner of burners.splice(0)) {
    if (burner.exitCode === null && burner.signalCode === null) burner.kill('SIGKILL');
  }
};
process.on('exit', stopBurners);

let current; // the running `npm test`, so a Ctrl-C or SIGTERM reaches it too
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopBurners();
    current?.kill(signal);
    process.exitCode = 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal]);
    if (!current) process.exit();
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
function runSuite() {
  return new Promise((resolve) => {
    const started = performance.now();
    current = spawn(npm, ['test', ...(filters.length > 0 ? ['--', ...filters] : [])], { stdio: 'inherit' });
    const done = (code, signal) => {
      current = undefined;
      resolve({ code, signal, seconds: (performance.now() - started) / 1000 });
    };
    current.on('exit', done);
    current.on('error', (err) => {
      console.error(`could not start npm: ${err.message}`);
      done(127, null);
    });
  });
}

const results = [];
console.log(`test-under-load: ${burnerCount} CPU burner(s) beside npm test on ${availableParallelism()} CPU(s), ${runs} run(s)${filters.length ? `, files matching ${filters.join(' ')}` : ''}`);
startBurners();
try {
  for (let run = 1; run <= runs; run += 1) {
    const result = await runSuite();
    results.push(result);
    const status = result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
    console.log(`test-under-load: run ${run}/${runs}: ${status} after ${result.seconds.toFixed(1)} s (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    if (result.code !== 0) break;
  }
} finally {
  stopBurners();
}

console.log('\n| run | result | duration |\n|---|---|---|');
results.forEach((r, i) => console.log(`| ${i + 1} | ${r.code === 0 ? 'passed' : r.signal ? `killed by ${r.signal}` : `failed (exit ${r.code})`} | ${r.seconds.toFixed(1)} s |`));
if (results.length < runs) console.log(`stopped after run ${results.length} of ${runs}: it failed`);
const failed = results.find((r) => r.code !== 0);
process.exitCode ??= failed ? (failed.code ?? 1) : 0;
