// Running kiln (and Packer) as child processes the way a user does, timing them, and reading
// their peak memory. From compiled scripts (dist/scripts/…) kiln is dist/src/cli/main.js; from
// sources (node --import tsx scripts/…) it is src/cli/main.ts through tsx.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');

/** The repository root (kiln children run with it as their working directory, so `--import tsx` resolves). */
export const REPO_ROOT = fileURLToPath(new URL(fromSources ? '../../' : '../../../', import.meta.url));

const cliEntry = fromSources
  ? fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
  : fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Node options for every kiln child, e.g. KILN_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile them. */
const nodeArgs = (process.env.KILN_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** node's argv to run `kiln <args>`. */
export function kilnArgv(args: readonly string[]): string[] {
  return fromSources ? [...nodeArgs, '--import', 'tsx', cliEntry, ...args] : [...nodeArgs, cliEntry, ...args];
}

export const runningFromSources = fromSources;

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, ms. */
  wallMs: number;
  /** Peak resident set size (getrusage via /usr/bin/time), KiB; 0 when not asked for or unavailable. */
  peakRssKiB: number;
  /** CPU time (user + system) of the child and the children it waited for, ms; measured with peakRssKiB, else 0. */
  cpuMs: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Measure the child's peak RSS and CPU time with /usr/bin/time (the wall time then includes its exec, < 1 ms). */
  measureRss?: boolean;
  /** Called once the child exists (e.g. to kill it later). */
  onSpawn?: (child: ChildProcess) => void;
  /** Kill the child (SIGKILL) after this long. */
  timeoutMs?: number;
}

const TIME = '/usr/bin/time';

export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const rssDir = options.measureRss && existsSync(TIME) ? mkdtempSync(join(tmpdir(), 'kiln-bench-rss-')) : undefined;
    const rssFile = rssDir ? join(rssDir, 'maxrss') : undefined;
    const argv = rssFile ? ['-f', '%M %U %S', '-o', rssFile, command, ...args] : [...args];
    const started = performance.now();
    const child = spawn(rssFile ? TIME : command, argv, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timeout = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      if (timeout) clearTimeout(timeout);
      let peakRssKiB = 0;
      let cpuMs = 0;
      if (rssDir && rssFile) {
        try {
          // /usr/bin/time writes "Command exited with non-zero status N" first when it did.
          const [rss, user, system] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
          peakRssKiB = rss || 0;
          cpuMs = Math.round(((user || 0) + (system || 0)) * 1000);
        } catch {
          peakRssKiB = 0;
        }
        rmSync(rssDir, { recursive: true, force: true });
      }
      resolve({ code, signal, stdout, stderr, wallMs, peakRssKiB, cpuMs });
    });
    options.onSpawn?.(child);
  });
}

export function runKiln(args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, kilnArgv(args), options);
}

export function spawnKiln(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, kilnArgv(args), { cwd: REPO_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The CPU time (user + system, ms) of this process's children that it has waited for (Linux; 0 elsewhere). */
export function waitedChildrenCpuMs(): number {
  try {
    // /proc/self/stat: cutime and cstime are the 14th and 15th fields after the ")" closing the name, in clock ticks (100 Hz).
    const fields = readFileSync('/proc/self/stat', 'utf8').split(')').pop()!.trim().split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return 0;
  }
}
