// Every `--json` of kiln names its fields one way: camelCase (docs/json.md). This walks each
// command's JSON as a user gets it — build (with a checkpoint), resume, ls, show (with --events),
// gc, cache ls, cache rm, gc --cache, validate, version — and fails on a snake_case key. Keys that are data, not field names (phase names in a
// phase policy, environment variable names, resource types counted), are not walked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKiln } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';
import { template } from '../engine/harness.js';

const SECRET = '6a8c0e2f-4b6d-4f8a-9c1e-3a5c7e9b1d3f';
const PROJECT = 'd4f6a8c0-2e4f-4a6b-8d0e-2f4a6c8e0b2d';
/** Objects whose keys are data (names the user or Scaleway chose), not field names. */
const DATA_KEYED = new Set(['phasePolicy', 'environmentVars', 'orphansByType', 'vars', 'variables', 'env', 'extraVars', 'tags']);

function snakeKeys(value: unknown, path: string, found: string[]): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => snakeKeys(v, `${path}[${i}]`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (/^[a-z0-9]+(_[a-z0-9]+)+$/.test(key)) found.push(`${path}.${key}`);
      if (!DATA_KEYED.has(key)) snakeKeys(v, `${path}.${key}`, found);
    }
  }
  return found;
}

/** Each JSON document a command printed: one, or one per line (build, resume). */
function documents(stdout: string): unknown[] {
  const text = stdout.trim();
  try {
    return [JSON.parse(text)];
  } catch {
    return text.split('\n').map((line) => JSON.parse(line) as unknown);
  }
}

test('every --json output names its fields in camelCase', { timeout: 240_000 }, async (t) => {
  const sim = await startTestSimulator({ seed: 31 });
  const dir = mkdtempSync(join(tmpdir(), 'kiln-json-keys-'));
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, SCW_CONFIG_PATH: join(dir, 'none.yaml') };
  const db = join(dir, 'kiln.db');
  const kiln = (...args: string[]) => runKiln([...args, '--db', db], { env });
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(template({ ssh_port: sim.sshPort, ssh_timeout: '60s' }, [{ type: 'shell', inline: ['echo hello'], environment_vars: ['SOME_NAME=x'] }, { type: 'shell', inline: ['echo after the checkpoint'] }])));
  // A build that fails and keeps what it made: gc has something to list, resume something to continue.
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify(template({ ssh_port: sim.sshPort, ssh_timeout: '60s' }, [{ type: 'shell', inline: ['test -e /tmp/go-on'] }])));

  const outputs: Record<string, string> = {};
  // With a checkpoint, so the cache commands have one to describe.
  const built = await runKiln(['build', '--json', '--checkpoint-after', '0', '--db', db, good], { env });
  assert.equal(built.code, 0, built.stderr);
  outputs['build --json'] = built.stdout;
  const failed = await runKiln(['build', '--json', '--on-error', 'abort', '--db', db, bad], { env });
  assert.equal(failed.code, 1, failed.stderr);
  outputs['build --json (failed)'] = failed.stdout;
  const ids = documents(built.stdout).concat(documents(failed.stdout)).map((d) => (d as { buildId?: string }).buildId);
  const [okId, failedId] = [ids[0]!, documents(failed.stdout).map((d) => (d as { buildId: string }).buildId)[0]!];
  for (const [name, args] of Object.entries({
    'ls --json': ['ls', '--json'],
    'show --json --events': ['show', okId, '--json', '--events'],
    'show --json (failed)': ['show', failedId, '--json', '--events'],
    'gc --json': ['gc', '--json'],
    'cache ls --json': ['cache', 'ls', '--json'],
    'gc --cache --json': ['gc', '--cache', '--older-than', '0s', '--json'],
  })) {
    const r = await kiln(...args);
    outputs[name] = r.stdout;
  }
  const checkpoints = JSON.parse(outputs['cache ls --json']!) as { key: string }[];
  assert.equal(checkpoints.length, 1, `the build made one checkpoint: ${outputs['cache ls --json']}`);
  outputs['cache rm --json'] = (await kiln('cache', 'rm', '--json', checkpoints[0]!.key)).stdout;
  outputs['version --json'] = (await runKiln(['version', '--json'], { env })).stdout;
  for (const path of [good, join(dir, 'missing-builder.json')]) {
    if (path !== good) writeFileSync(path, JSON.stringify({ builders: [{ type: 'scaleway', image: 'x', commercial_type: 'DEV1-S', bogus_key: 1 }] }));
    outputs[`validate --json ${path === good ? '(valid)' : '(invalid)'}`] = (await runKiln(['validate', '--json', path], { env })).stdout;
  }
  const resumed = await kiln('resume', failedId, '--json');
  outputs['resume --json'] = resumed.stdout;

  const offending: string[] = [];
  for (const [name, stdout] of Object.entries(outputs)) {
    assert.ok(stdout.trim() !== '', `${name} printed JSON`);
    for (const doc of documents(stdout)) offending.push(...snakeKeys(doc, name, []));
  }
  assert.deepEqual([...new Set(offending)], [], 'snake_case keys in --json output (docs/json.md: every field is camelCase)');
});
