// `kiln sim` as a user runs it: prints where it listens, answers, stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runKiln, spawnKiln } from '../helpers/cli.js';

/** Resolves once a `kiln sim` child prints its API URL. */
function listening(child: ChildProcess): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /API: (\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`kiln sim exited ${code} before listening: ${stderr}`)));
  });
}

test('kiln sim prints its URLs, serves the API and exits 0 on SIGTERM', { timeout: 60_000 }, async (t) => {
  const child = spawnKiln(['sim', '--port', '0', '--ssh-port', '0']);
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const apiUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Try: SCW_API_URL=(\S+) SCW_SECRET_KEY=\S+ SCW_DEFAULT_PROJECT_ID=\S+ kiln build examples\/basic\.json/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`kiln sim exited ${code} before listening: ${stderr}`)));
  });
  assert.match(stdout, new RegExp(`API: ${apiUrl.replace(/[.]/g, '\\.')}`));
  assert.match(stdout, /SSH: port \d+/);
  // Not on port 22 here, so the line says which ssh_port the template needs.
  assert.match(stdout, /set "ssh_port": \d+ in the template's builder/);

  const response = await fetch(`${apiUrl}/instance/v1/zones/fr-par-1/servers`, { headers: { 'X-Auth-Token': 'anything' } });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { servers: [] });

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
});

test('kiln sim refuses malformed --faults with a clear message and exit 2', { timeout: 60_000 }, async () => {
  const result = await runKiln(['sim', '--port', '0', '--ssh-port', '0', '--faults', '{"POST /servers":{"boom":1}}']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /faults: "POST \/servers" names unknown fault "boom"/);
});

test('kiln sim --help names every fault kind the simulator knows', { timeout: 60_000 }, async () => {
  const { FAULT_KINDS } = await import('../../src/sim/faults.js');
  const help = await runKiln(['sim', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const text = help.stdout.replace(/\s+/g, ' ');
  for (const kind of FAULT_KINDS) assert.match(text, new RegExp(`Kinds:[^']*\\b${kind}\\b`), kind);
});

test('two simulators on one --state-dir: the second exits 2 naming the directory and the holder; a killed holder frees it', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sim-lock-'));
  const first = spawnKiln(['sim', '--port', '0', '--ssh-port', '0', '--state-dir', dir]);
  let third: ChildProcess | undefined;
  t.after(() => {
    first.kill('SIGKILL');
    third?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await listening(first);
  const second = await runKiln(['sim', '--port', '0', '--ssh-port', '0', '--state-dir', dir]);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`state directory ${dir} is in use by another simulator \\(process ${first.pid}\\)`));

  // kill -9 leaves the lock file behind; its process is gone, so the next simulator takes the directory.
  const exited = once(first, 'exit');
  first.kill('SIGKILL');
  await exited;
  third = spawnKiln(['sim', '--port', '0', '--ssh-port', '0', '--state-dir', dir]);
  const apiUrl = await listening(third);
  assert.equal((await fetch(`${apiUrl}/instance/v1/zones/fr-par-1/servers`, { headers: { 'X-Auth-Token': 'x' } })).status, 200);
});
