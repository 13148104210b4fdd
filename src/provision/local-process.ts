// A process run on this machine for a provisioner (shell-local, ansible): in its own process
// group, its output streamed line by line, everything it started killed on abort — and killed
// too when kiln itself dies (kill -9 included), so that a resumed build never runs beside an
// orphan of the process it replaces.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { abortError, LineSplitter } from '../ssh/index.js';

export interface LocalRun {
  exitCode: number | null;
  signal: string | null;
}

export interface LocalRunOptions {
  signal: AbortSignal;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  /** The whole environment (default: kiln's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

// util-linux's setpriv sets the parent-death signal, then execs the guard below; the guard runs the
// command in the background and, when kiln dies (SIGTERM from the kernel), kills its whole group.
const SETPRIV = '/usr/bin/setpriv';
const GUARD = 'trap "kill -KILL 0" TERM; "$@" & wait $!';

/** Runs `argv` (no shell of ours around it) in its own process group until it ends. */
export function runLocalProcess(argv: readonly string[], options: LocalRunOptions): Promise<LocalRun> {
  return new Promise((resolve, reject) => {
    const { signal, onLine } = options;
    if (signal.aborted) return reject(abortError(signal));
    const guarded = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'TERM', '--', '/bin/sh', '-c', GUARD, 'kiln-guard', ...argv] : [...argv];
    const child = spawn(guarded[0]!, guarded.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env, cwd: options.cwd });
    const stdout = new LineSplitter((line) => onLine('stdout', line));
    const stderr = new LineSplitter((line) => onLine('stderr', line));
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const onAbort = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, exitSignal) => {
      signal.removeEventListener('abort', onAbort);
      stdout.flush();
      stderr.flush();
      if (signal.aborted) return reject(abortError(signal));
      // The guard reports a command killed by signal N as exit status 128 + N, as any shell does.
      resolve({ exitCode: code, signal: exitSignal });
    });
  });
}
