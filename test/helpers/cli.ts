// Runs the kiln CLI as a child process, the way a user does. From compiled tests
// (dist/test/…) it runs dist/src/cli/main.js; from TypeScript sources (node --import tsx)
// it runs src/cli/main.ts through tsx, so a developer can iterate without compiling.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');

export const cliEntry = fromSources
  ? fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
  : fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

// tsx by its resolved location: kiln may run in any working directory (where `tsx` alone would not resolve).
export function cliArgv(args: string[]): string[] {
  return fromSources ? ['--import', import.meta.resolve('tsx'), cliEntry, ...args] : [cliEntry, ...args];
}

export function spawnKiln(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, cliArgv(args), { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

export interface KilnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs kiln to completion and collects its output. */
export function runKiln(args: string[], options: SpawnOptions = {}): Promise<KilnResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawnKiln(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The id of the build a `kiln build --json` run started: its first line is `build.started`. */
export function startedBuildId(r: KilnResult): string {
  const first = JSON.parse(r.stdout.split('\n')[0]!) as { build_id: string; type: string };
  assert.equal(first.type, 'build.started', r.stderr);
  return first.build_id;
}
