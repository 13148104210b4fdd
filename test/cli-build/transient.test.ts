// What `kiln build` tells the user when a build ends on transient cloud errors (issue 18): what
// kept failing and for how long, and the next step that fits --on-error — never "fix the cause",
// never "trying again". A simulator whose POST /images always answers 5xx; kiln as a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKiln } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';
import { template } from '../engine/harness.js';

const SECRET = 'd7e9a1c2-5b3f-4e8a-9c6d-2f1b0a3e4c5d';
const PROJECT = '3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';

test('a build that ends on 5xx answers says so and suggests running again (cleanup) or kiln resume (abort)', { timeout: 180_000 }, async (t) => {
  const sim = await startTestSimulator({ seed: 11, faults: { 'POST /images': { '5xx': 1 } } });
  const dir = mkdtempSync(join(tmpdir(), 'kiln-transient-'));
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const templatePath = join(dir, 'template.json');
  const policy = { initial_backoff: '100ms', max_backoff: '1s' };
  const builder = {
    communicator: 'none',
    ssh_username: undefined,
    kiln_phase_policy: { 'snapshot.create': policy, 'image.create': { ...policy, phase_timeout: '12s' } },
  };
  writeFileSync(templatePath, JSON.stringify(template(builder)));
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const build = (onError: string) => runKiln(['build', '--on-error', onError, '--db', join(dir, `${onError}.db`), templatePath], { env });
  const [cleanup, abort] = await Promise.all([build('cleanup'), build('abort')]);

  for (const r of [cleanup, abort]) {
    assert.equal(r.code, 1, r.stderr);
    const all = r.stdout + r.stderr;
    // "for N seconds": how long, as measured on this machine (the phase's 12 s deadline, or a little
    // more on a busy one); the wording is what is checked here, the span by the machine's own tests.
    assert.match(r.stderr, /failed in image\.create: TransientFailure: Scaleway kept answering 50\d((, 50\d)* and 50\d)? for \d+ seconds \(/);
    // While it retried, the progress said so, with the time left before the phase's deadline.
    assert.match(r.stdout, /==> scaleway: image\.create: attempt 1 failed \(TransientError: POST \S+ failed \(50\d\) .*\); retrying in \S+, \S+ left before its deadline/);
    assert.doesNotMatch(all, /trying again/);
    assert.doesNotMatch(all, /[Ff]ix the cause/);
  }
  assert.match(cleanup.stderr, /The failure is transient: nothing in the template needs fixing\. Everything the build created was removed: run `kiln build` again later\./);
  assert.doesNotMatch(cleanup.stderr, /kiln resume/);
  const id = /Build (\S+) \(scaleway\) failed/.exec(abort.stderr)?.[1];
  assert.ok(id, abort.stderr);
  assert.match(abort.stderr, new RegExp(`Its resources are kept\\.\\n  continue where it stopped, later:  kiln resume ${id}\\n`));
});
