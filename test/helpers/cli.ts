// Runs the kiln CLI as a child process, the way a user does. From compiled tests
// (dist/test/…) it runs dist/src/cli/main.js; from TypeScript sources (node --import tsx)
// it runs src/cli/main.ts through tsx, so a developer can iterate without compiling.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { asHost } from '../../scripts/lib/hostname.js';

const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');

export const cliEntry = fromSources
  ? fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
  : fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

// tsx found from here, so that kiln can run in any working directory.
const tsx = fromSources ? import.meta.resolve('tsx') : '';

export function cliArgv(args: string[]): string[] {
  return fromSources ? ['--import', tsx, cliEntry, ...args] : [cliEntry, ...args];
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
  return collect(spawnKiln(args, options));
}

/** Waits for a child's end, collecting its output. */
function collect(child: ChildProcess): Promise<KilnResult> {
  return new Promise((resolve, reject) => {
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
  const first = JSON.parse(r.stdout.split('\n')[0]!) as { buildId: string; type: string };
  assert.equal(first.type, 'build.started', r.stderr);
  return first.buildId;
}

/** Runs kiln to completion as if on the machine `host` (a UTS namespace of its own: scripts/lib/hostname.ts). */
export function runKilnAs(host: string, args: string[], options: SpawnOptions = {}): Promise<KilnResult> {
  const { command, args: argv } = asHost(host, process.execPath, cliArgv(args));
  return collect(spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
}
