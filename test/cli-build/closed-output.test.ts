// `kiln build t.json | head -3` (issue 31): the reader goes away after three lines. kiln must not
// die of it half-way (an unhandled `write EPIPE`, a build abandoned mid-phase): like a terminal
// that went away, the output is dropped and the build goes on to its end, recorded in the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '../../src/store/index.js';
import { shellQuote } from '../../src/ssh/index.js';
import { cliArgv } from '../helpers/cli.js';

test('kiln build … | head -3: the build still runs to its end, with no EPIPE trace', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-epipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const template = join(dir, 't.json');
  // A shell provisioner that prints plenty: kiln keeps writing long after head has gone.
  writeFileSync(
    template,
    JSON.stringify({
      builders: [{ type: 'scaleway', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'DEV1-S', ssh_username: 'root' }],
      provisioners: [{ type: 'shell', inline: ['for i in $(seq 1 200); do echo line $i; done'] }],
    }),
  );
  const db = join(dir, 'kiln.db');
  const kiln = [process.execPath, ...cliArgv(['build', '--sim', '--db', db, template])].map(shellQuote).join(' ');
  const r = spawnSync('bash', ['-c', `${kiln} | head -3; echo "kiln exited $\{PIPESTATUS[0]}" >&2`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: dir },
  });
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 3, r.stdout);
  assert.match(r.stderr, /kiln exited 0$/m, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
  const store = EventStore.open(db);
  try {
    const [build] = store.listBuilds();
    assert.equal(build?.status, 'succeeded', 'the build ran to its end');
    assert.ok(build?.artifact?.imageId);
  } finally {
    store.close();
  }
});
