// `kiln build`'s build cache flags as a user runs them (issue 24): a checkpoint asked for with
// --checkpoint-after, the next build with only its last provisioner changed starting from it and
// saying so (--explain-cache), plain `kiln gc` leaving checkpoints alone, and bad flags refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { template } from '../engine/harness.js';
import { runKiln, startedBuildId } from '../helpers/cli.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '0b5e55ed-1234-4abc-8def-0123456789ab';
const PROJECT = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

describe('kiln build --checkpoint-after / --explain-cache', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    sim = await startTestSimulator();
    dir = mkdtempSync(join(tmpdir(), 'kiln-cli-cache-'));
  }, { timeout: 60_000 });
  after(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  const env = () => ({ PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, SCW_CONFIG_PATH: join(dir, 'none.yaml') });
  const kiln = (args: string[]) => runKiln([...args, '--db', join(dir, 'kiln.db')], { env: env() });
  const templateWith = (last: string) => {
    const path = join(dir, 'template.json');
    const provisioners = [{ type: 'shell', inline: ['echo a >> /root/counter'] }, { type: 'shell', inline: [`echo ${last} > /root/last`] }];
    writeFileSync(path, JSON.stringify(template({ ssh_port: sim.sshPort, image_name: 'cached-{{timestamp}}' }, provisioners)));
    return path;
  };

  test('bad cache flags: exit 2 and what to write instead', { timeout: 120_000 }, async () => {
    const path = templateWith('one');
    const outOfRange = await kiln(['build', '--checkpoint-after', '5', path]);
    assert.equal(outOfRange.code, 2, outOfRange.stderr);
    assert.match(outOfRange.stderr, /--checkpoint-after 5: the build has provisioners 0 to 1: 0 \(shell\); 1 \(shell\)/);
    const last = await kiln(['build', '--checkpoint-after', '1', path]);
    assert.equal(last.code, 2, last.stderr);
    assert.match(last.stderr, /that is the last provisioner/);
    const age = await kiln(['build', '--cache-max-age', 'soon', path]);
    assert.equal(age.code, 2, age.stderr);
    assert.match(age.stderr, /--cache-max-age "soon" is not a positive age\. Use days or a duration, such as 7d/);
  });

  test("the second build starts from the checkpoint and says so; plain gc leaves checkpoints, even a failed build's", { timeout: 240_000 }, async () => {
    const first = await kiln(['build', '--json', '--checkpoint-after', '0', templateWith('one')]);
    assert.equal(first.code, 0, first.stderr);
    const made = first.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> }).find((e) => e.type === 'checkpoint.made');
    assert.ok(made, 'build 1 made a checkpoint');

    const second = await kiln(['build', '--color=false', '--explain-cache', templateWith('two')]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`provisioner 0: from checkpoint ${made.data.imageId}, made by build ${startedBuildId(first)} on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d`));
    assert.match(second.stderr, new RegExp(`scaleway:   after provisioner 0: hit — from checkpoint ${made.data.imageId}`));
    assert.match(second.stderr, /after provisioner 1 \(the last\): never a checkpoint — it always runs/);
    assert.doesNotMatch(second.stdout, /Provisioning with shell \(provisioner 0\)/);
    // kiln show: the build's lineage; the first build's checkpoint.
    const shown = await kiln(['show', /Build (\S+) started/.exec(second.stdout)![1]!]);
    assert.match(shown.stdout, new RegExp(`Build cache\n  provisioner 0: from checkpoint ${made.data.imageId}, made by build ${startedBuildId(first)}`));
    const shownFirst = await kiln(['show', startedBuildId(first)]);
    assert.match(shownFirst.stdout, new RegExp(`Build cache\n.*checkpoint after provisioner 0\n  Checkpoint after provisioner 0: image ${made.data.imageId}`));

    // A build whose last provisioner fails keeps its checkpoint (that is when it helps most), and
    // plain gc, which removes a failed build's snapshots and images, leaves it.
    const failing = join(dir, 'failing.json');
    const provisioners = [{ type: 'shell', inline: ['echo slow step > /root/slow'] }, { type: 'shell', inline: ['exit 7'] }];
    writeFileSync(failing, JSON.stringify(template({ ssh_port: sim.sshPort, image_name: 'failing-{{timestamp}}' }, provisioners)));
    const failed = await kiln(['build', '--json', '--checkpoint-after', '0', failing]);
    assert.equal(failed.code, 1, failed.stderr);
    const kept = failed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> }).find((e) => e.type === 'checkpoint.made');
    assert.ok(kept, 'the failing build made its checkpoint before failing');
    const gc = await kiln(['gc', '--older-than', '0', '--force']);
    assert.equal(gc.code, 0, gc.stdout + gc.stderr);
    const client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
    for (const image of [made.data.imageId, kept.data.imageId]) assert.equal((await client.getImage(String(image))).state, 'available', `checkpoint ${image} is still there after gc`);
  });
});
