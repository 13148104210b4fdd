// A `kiln build --sim` build stays a simulator build (issue 31): killed, its simulator died with it;
// `kiln resume` and `kiln gc --build` must not reach for any other API — here a listener at
// SCW_API_URL that counts the requests it is sent — and the build's record ends in a final state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { template as templateOf } from '../engine/harness.js';
import { runKiln, spawnKiln, startedBuildId } from '../helpers/cli.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

test('a killed --sim build is never resumed or gc-ed against another API, and its record ends', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sim-ends-'));
  // "The real API": any request it gets is one kiln should not have sent.
  let requests = 0;
  const api = createServer((_req, res) => {
    requests += 1;
    res.writeHead(500).end();
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  t.after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const env = { PATH: process.env.PATH, HOME: dir, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, SCW_API_URL: apiUrl };
  const db = join(dir, 'kiln.db');
  const path = join(dir, 't.json');
  writeFileSync(path, JSON.stringify(templateOf({}, [{ type: 'shell', inline: ['echo provisioned'] }])));

  const killed = await runKiln(['build', '--sim', '--json', '--db', db, path], { env: { ...env, KILN_CRASH_AT: 'server.created' } });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const id = startedBuildId(killed);

  // Read at once, with nothing run since the kill: the record says it was the embedded simulator's.
  const before = await runKiln(['ls', '--db', db], { env });
  assert.match(before.stdout, new RegExp(`${id}.*failed \\(simulator gone\\)`), before.stdout);
  assert.doesNotMatch(before.stdout, /process gone/);
  const beforeJson = JSON.parse((await runKiln(['ls', '--json', '--db', db], { env })).stdout) as { id: string; status: string; simulatorGone?: boolean }[];
  assert.deepEqual(beforeJson.filter((b) => b.id === id).map((b) => [b.status, b.simulatorGone]), [['failed', true]]);
  const shown = await runKiln(['show', id, '--db', db], { env });
  assert.match(shown.stdout, /failed \(simulator gone\)[\s\S]*nothing to resume or remove/);
  assert.doesNotMatch(shown.stdout, /kiln resume/);
  // `kiln ui`'s list of builds says the same as `kiln ls`.
  const ui = spawnKiln(['ui', '--port', '0', '--db', db], { env });
  const closed = once(ui, 'close');
  try {
    let printed = '';
    for await (const chunk of ui.stdout!) {
      printed += String(chunk);
      if (/kiln ui: http:\/\/\S+\/ /.test(printed)) break;
    }
    const url = /kiln ui: (http:\/\/\S+\/) /.exec(printed)?.[1];
    assert.ok(url, `kiln ui printed its address: ${printed}`);
    const list = await (await fetch(url)).text();
    const row = list.slice(list.indexOf(`<tr data-build="${id}">`)).split('</tr>')[0]!;
    assert.match(row, /data-status="failed \(simulator gone\)"/, `the build's row in kiln ui: ${row}`);
    assert.doesNotMatch(list, /process gone/);
  } finally {
    ui.kill('SIGTERM');
    await closed;
  }

  const resume = await runKiln(['resume', id, '--db', db], { env });
  assert.equal(resume.code, 1, resume.stderr);
  assert.match(resume.stderr, new RegExp(`build ${id} ran against the simulator embedded in \`kiln build --sim\`[\\s\\S]*will not continue it against another API[\\s\\S]*kiln sim --state-dir`));
  const gc = await runKiln(['gc', '--build', id, '--force', '--db', db], { env });
  assert.equal(gc.code, 2, gc.stderr);
  assert.match(gc.stderr, /ran against the simulator embedded in `kiln build --sim`/);
  assert.equal(requests, 0, 'nothing was sent to the API the shell names');

  const ls = JSON.parse((await runKiln(['ls', '--json', '--db', db], { env })).stdout) as { id: string; status: string }[];
  assert.equal(ls.find((b) => b.id === id)?.status, 'cleaned', 'a final state, not "running (process gone)"');
  const show = await runKiln(['show', id, '--db', db], { env });
  assert.match(show.stdout, /The simulator embedded in `kiln build --sim` ended/);
});
