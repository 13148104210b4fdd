// Incremental builds against the simulator (issue 24): a checkpoint between two provisioners, a
// build that starts from it and runs only the rest, an image equal to a full build's, and the
// misses that say why. Provisioners A, B, C; A appends a line to a counter file, so a provisioner
// that ran twice shows in the image.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CACHE_MAX_AGE_MS, type CacheSettings } from '../../src/engine/index.js';
import { unsealPrivateKey } from '../../src/engine/key-seal.js';
import type { BuildEvent } from '../../src/store/index.js';
import { diskTree, run, serverFromImage } from '../helpers/images.js';
import { startHarness, template, type Harness } from './harness.js';

const PASSPHRASE = 'a passphrase for the test';
const on = (checkpointAfter: number[] = []): CacheSettings => ({ mode: 'on', maxAgeMs: DEFAULT_CACHE_MAX_AGE_MS, checkpointAfter });
const read: CacheSettings = { mode: 'read', maxAgeMs: DEFAULT_CACHE_MAX_AGE_MS, checkpointAfter: [] };

const A = { type: 'shell', inline: ['echo a >> /root/counter'] };
const B = { type: 'shell', inline: ['echo b > /root/b'] };
const C = (text: string) => ({ type: 'shell', inline: [`echo ${text} > /root/c`] });

const ofType = (events: BuildEvent[], type: BuildEvent['type']) => events.filter((e) => e.type === type);
const ran = (events: BuildEvent[]) => ofType(events, 'provisioner.started').map((e) => e.data.index);
const checked = (events: BuildEvent[]) => ofType(events, 'cache.checked')[0]!.data as { hit?: { index: number; imageId: string; key: string }; verdicts: { index: number; outcome: string; reason: string }[]; checkpointAfter: number[] };

describe('incremental builds', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  }, { timeout: 60_000 });
  after(() => h?.close(), { timeout: 60_000 });

  /** One build of `provisioners`; returns its outcome and events. */
  async function build(provisioners: unknown[], cache: CacheSettings, keys: Record<string, unknown> = {}) {
    const [outcome] = await h.build(h.template(template({ image_name: `img-{{timestamp}}-${Math.random().toString(36).slice(2, 8)}`, ...keys }, provisioners)), { cache, keyPassphrase: PASSPHRASE });
    assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
    return { outcome: outcome!, events: h.events(outcome!.buildId) };
  }
  const imageDisk = (snapshotId: string) => h.sim.diskPathOfSnapshot(snapshotId)!;

  let first: Awaited<ReturnType<typeof build>>;
  let checkpointImage: string;

  test('a checkpoint after B: its image holds the disk after A and B, without the build\'s temporary key', { timeout: 180_000 }, async () => {
    first = await build([A, B, C('one')], on([1]));
    const made = ofType(first.events, 'checkpoint.made');
    assert.equal(made.length, 1);
    assert.equal(made[0]!.data.index, 1);
    checkpointImage = String(made[0]!.data.imageId);
    const image = await h.client.getImage(checkpointImage);
    assert.ok(image.tags.includes('kiln-cache') && image.tags.includes(`kiln-cache-key=${made[0]!.data.key}`), image.tags.join(' '));
    const disk = imageDisk(image.root_volume!.id);
    assert.equal(readFileSync(join(disk, 'root/counter'), 'utf8'), 'a\n');
    assert.equal(readFileSync(join(disk, 'root/b'), 'utf8'), 'b\n');
    assert.throws(() => readFileSync(join(disk, 'root/c')), /ENOENT/, 'C ran after the checkpoint');
    const publicKey = String(ofType(first.events, 'key.created')[0]!.data.publicKey).split(' ')[1]!;
    assert.ok(!readFileSync(join(disk, 'root/.ssh/authorized_keys'), 'utf8').includes(publicKey), 'the temporary key is out of the checkpoint');
    // …and out of the final image (machine.cleanup), though the boot after the checkpoint put it back.
    assert.ok(!readFileSync(join(imageDisk(first.outcome.artifact!.snapshotId), 'root/.ssh/authorized_keys'), 'utf8').includes(publicKey));
    assert.deepEqual(ran(first.events), [0, 1, 2]);
    // The order: B, its checkpoint (key out, stop, snapshot, image, start), then C.
    const types = first.events.map((e) => e.type);
    const at = (type: BuildEvent['type']) => types.indexOf(type);
    assert.ok(at('key.cleared') < at('server.poweroff.requested') && at('checkpoint.made') < types.lastIndexOf('server.poweron.accepted'));
    assert.ok(types.lastIndexOf('provisioner.succeeded') > at('checkpoint.made'));
  });

  test('C changed: the build starts from the checkpoint, A and B do not run, and its image equals a full build\'s', { timeout: 180_000 }, async () => {
    const second = await build([A, B, C('two')], on([1]));
    const cache = checked(second.events);
    assert.equal(cache.hit?.index, 1);
    assert.equal(cache.hit?.imageId, checkpointImage);
    assert.deepEqual(ran(second.events), [2]);
    assert.equal(ofType(second.events, 'server.create.requested')[0]!.data.fromCheckpoint, checkpointImage);
    // The checkpoint the flag asks for exists: none is made again.
    assert.deepEqual(cache.checkpointAfter, []);
    assert.equal(ofType(second.events, 'checkpoint.made').length, 0);
    const finalImage = await h.client.getImage(second.outcome.artifact!.imageId);
    assert.ok(finalImage.tags.includes(`kiln-cache-from-image=${checkpointImage}`), finalImage.tags.join(' '));
    const disk = imageDisk(second.outcome.artifact!.snapshotId);
    assert.equal(readFileSync(join(disk, 'root/counter'), 'utf8'), 'a\n', 'A ran once');
    assert.equal(readFileSync(join(disk, 'root/c'), 'utf8'), 'two\n');

    const full = await build([A, B, C('two')], { ...read, mode: 'off' });
    assert.equal(ofType(full.events, 'cache.checked').length, 0);
    assert.deepEqual(ran(full.events), [0, 1, 2]);
    assert.deepEqual([...diskTree(disk)], [...diskTree(imageDisk(full.outcome.artifact!.snapshotId))], 'the same disk as a full build');

    // Read back by a server of one's own: the counter has one line.
    const reader = await serverFromImage(h.client, second.outcome.artifact!.imageId, h.sim.sshPort);
    const inside = await reader.login(reader.ownKey);
    assert.equal(await run(inside, 'cat /root/counter /root/b /root/c'), 'a\nb\ntwo');
    inside.close();
  });

  test("the first build's temporary key, kept sealed in the store, opens no server started from the checkpoint", { timeout: 120_000 }, async () => {
    const created = ofType(first.events, 'key.created')[0]!;
    const oldKey = await unsealPrivateKey(created.data.sealed, PASSPHRASE, first.outcome.buildId);
    const server = await serverFromImage(h.client, checkpointImage, h.sim.sshPort);
    await assert.rejects(server.login(oldKey), /authentication refused/);
    const inside = await server.login(server.ownKey);
    assert.equal(await run(inside, 'cat /root/counter'), 'a');
    inside.close();
  });

  test('A changed: a full build, and the miss says which input changed', { timeout: 180_000 }, async () => {
    const changed = await build([{ ...A, inline: ['echo A >> /root/counter'] }, B, C('two')], read);
    const cache = checked(changed.events);
    assert.equal(cache.hit, undefined);
    assert.deepEqual(ran(changed.events), [0, 1, 2]);
    const at1 = cache.verdicts.find((v) => v.index === 1)!;
    assert.equal(at1.outcome, 'miss');
    assert.match(at1.reason, /changed: provisioner 0 \(shell\) inline$/);
  });

  test('the checkpoint image deleted: a miss that says so, and the build runs in full', { timeout: 180_000 }, async () => {
    await h.client.deleteImage(checkpointImage);
    const again = await build([A, B, C('three')], read);
    const cache = checked(again.events);
    assert.equal(cache.hit, undefined);
    assert.match(cache.verdicts.find((v) => v.index === 1)!.reason, new RegExp(`checkpoint ${checkpointImage} of build ${first.outcome.buildId} is gone`));
    assert.deepEqual(ran(again.events), [0, 1, 2]);
    assert.deepEqual(h.store.checkpoints().map((c) => c.imageId), [], 'forgotten by the store');
  });

  test('a changed secret: a miss that names the input; the same secret again: a hit; neither secret in the store', { timeout: 240_000 }, async () => {
    const secrets = ['cache-secret-one-8f3a61', 'cache-secret-two-c27e90'];
    const path = h.template({
      variables: { token: '' },
      'sensitive-variables': ['token'],
      ...template({ image_name: 'secret-{{timestamp}}' }, [{ type: 'shell', environment_vars: ['TOKEN={{user `token`}}'], inline: ['echo "$TOKEN" | wc -c > /root/token-length'] }, C('s')]),
    });
    const withSecret = async (token: string) => {
      const [outcome] = await h.build(path, { cache: on([0]), vars: { token } });
      assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
      return checked(h.events(outcome!.buildId));
    };
    assert.deepEqual((await withSecret(secrets[0]!)).checkpointAfter, [0]);
    const changed = await withSecret(secrets[1]!);
    assert.equal(changed.hit, undefined);
    assert.match(changed.verdicts.find((v) => v.index === 0)!.reason, /changed: provisioner 0 \(shell\) environment_vars$/);
    assert.equal((await withSecret(secrets[0]!)).hit?.index, 0, 'the keyed hash of a secret is the same from one build to the next');
    h.store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of readdirSync(join(h.dir, 'state')).filter((f) => f.startsWith('kiln.db'))) {
      const bytes = readFileSync(join(h.dir, 'state', file)).toString('latin1');
      for (const secret of secrets) assert.ok(!bytes.includes(secret), `${secret} found in ${file}`);
    }
  });

  test('user data: its effects are in the checkpoint, and a build from it does not run it again', { timeout: 240_000 }, async () => {
    const userData = { user_data: { 'cloud-init': '#!/bin/sh\necho ran >> /root/user-data-runs\n' } };
    const first = await build([A, C('ud-one')], on([0]), userData);
    const types = first.events.map((e) => e.type);
    // The order: the user data waited for before the checkpoint's snapshot, the key out of the image after it.
    assert.ok(types.indexOf('user_data.done') < types.indexOf('checkpoint.snapshot.requested'), types.join(' '));
    const made = ofType(first.events, 'checkpoint.made')[0]!;
    const checkpointDisk = imageDisk((await h.client.getImage(String(made.data.imageId))).root_volume!.id);
    assert.equal(readFileSync(join(checkpointDisk, 'root/user-data-runs'), 'utf8'), 'ran\n');
    const second = await build([A, C('ud-two')], on([0]), userData);
    assert.equal(checked(second.events).hit?.index, 0);
    const disk = imageDisk(second.outcome.artifact!.snapshotId);
    assert.equal(readFileSync(join(disk, 'root/user-data-runs'), 'utf8'), 'ran\n', 'the user data ran once');
    assert.equal(readFileSync(join(disk, 'root/counter'), 'utf8'), 'a\n');
  });

  test('parallel builds of one template that reach the same key make one checkpoint', { timeout: 180_000 }, async () => {
    const path = h.template({
      builders: ['p1', 'p2'].map((name) => ({ ...(template({ image_name: `par-${name}-{{timestamp}}` }).builders as object[])[0], name })),
      provisioners: [{ type: 'shell', inline: ['echo parallel > /root/p'] }, C('p')],
    });
    const outcomes = await h.build(path, { cache: on([0]) });
    assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'succeeded']);
    const events = outcomes.map((o) => h.events(o.buildId));
    assert.equal(events.flatMap((e) => ofType(e, 'checkpoint.made')).length, 1);
    const skipped = events.flatMap((e) => ofType(e, 'checkpoint.skipped'));
    assert.equal(skipped.length, 1);
    assert.match(String(skipped[0]!.data.reason), /is making it|exists already/);
  });
});
