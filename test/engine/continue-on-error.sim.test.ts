// continue_on_error: a provisioner's failure is recorded and the build goes on to an image; kiln
// show's timeline marks the failure as continued. Without it, the same failure fails the build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeline } from '../../src/view/index.js';
import { startHarness, template } from './harness.js';

test('continue_on_error: the failing provisioner is recorded, the next one runs, the build makes its image', { timeout: 120_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({ image_name: 'goes-on' }, [
    { type: 'shell', inline: ['echo trying', 'exit 3'], continue_on_error: true },
    { type: 'shell', inline: ['echo after the failure'] },
  ]));
  const [outcome] = await h.build(path);
  assert.equal(outcome!.status, 'succeeded', JSON.stringify(outcome));
  const events = h.events(outcome!.buildId);
  const failed = events.filter((e) => e.type === 'phase.failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.data.continued, true);
  const lines = events.filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  assert.deepEqual(lines, ['trying', 'after the failure']);
  const rows = timeline(events).filter((r) => r.name === 'provision');
  assert.deepEqual(rows.map((r) => [r.provisionerIndex, r.status]), [[0, 'failed, continued (continue_on_error)'], [1, 'succeeded']]);
  assert.deepEqual((await h.inventory(outcome!.buildId)).images, [outcome!.artifact!.imageId]);

  const strict = h.template(template({ image_name: 'stops' }, [{ type: 'shell', inline: ['exit 3'] }, { type: 'shell', inline: ['echo never'] }]));
  const [stopped] = await h.build(strict);
  assert.equal(stopped!.status, 'failed');
});
