// The demo's output as a new user reads it in a log or a pipe (issue 31): one line per step, a
// phase once (its `done in` line), no timestamps unless -timestamp-ui asks for them (as Packer),
// the artifact once, and a failure's cause once on each stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKiln } from '../helpers/cli.js';

const demo = fileURLToPath(new URL('../../../examples/basic.json', import.meta.url));
const TIMESTAMP = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d/;

test("the demo build's output: no timestamps, no `started` lines, each phase done once, the artifact once", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-output-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: dir };
  const r = await runKiln(['build', '--sim', '--db', join(dir, 'kiln.db'), demo], { env });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.filter((l) => TIMESTAMP.test(l)), [], 'timestamps only with -timestamp-ui');
  assert.deepEqual(lines.filter((l) => /: started$/.test(l)), []);
  const done = lines.filter((l) => /: done in \S+$/.test(l)).map((l) => l.replace(/^==> scaleway: (.*): done in \S+$/, '$1'));
  assert.deepEqual(done, [...new Set(done)], 'each phase says it is done once');
  for (const phase of ['prepare', 'server.create', 'provision #0', 'provision #1', 'snapshot.wait', 'image.wait', 'cleanup']) assert.ok(done.includes(phase), phase);
  assert.equal(lines.filter((l) => l.includes("An image was created: 'packer-")).length, 1, 'the artifact once, in the report');
  assert.ok(lines.length <= 58, `the demo's output was 73 lines; now ${lines.length}:\n${r.stdout}`);

  // Packer's -timestamp-ui: every line of the same messages carries its RFC 3339 timestamp.
  const stamped = await runKiln(['build', '--sim', '-timestamp-ui', '--db', join(dir, 'kiln.db'), demo], { env });
  assert.equal(stamped.code, 0, stamped.stderr);
  const stampedLines = stamped.stdout.trimEnd().split('\n').filter((l) => l.includes('==> scaleway:'));
  assert.ok(stampedLines.length > 10 && stampedLines.every((l) => TIMESTAMP.test(l)), stamped.stdout);
});

test("a failed build's cause: once on stdout (its phase's line), once in the summary on stderr", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-output-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 't.json');
  writeFileSync(
    path,
    JSON.stringify({
      builders: [{ type: 'scaleway', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'START1-S', ssh_username: 'root' }],
      provisioners: [{ type: 'shell', inline: ['echo hi', 'exit 3'] }],
    }),
  );
  const r = await runKiln(['build', '--sim', '--db', join(dir, 'kiln.db'), path], { env: { PATH: process.env.PATH, HOME: dir } });
  assert.equal(r.code, 1, r.stderr);
  const cause = 'exited with code 3';
  assert.equal(r.stdout.split(cause).length - 1, 1, r.stdout);
  assert.equal(r.stderr.split(cause).length - 1, 1, r.stderr);
  assert.match(r.stdout, /==> scaleway: Build failed in provision \(everything it created was removed\)\n/);
});
