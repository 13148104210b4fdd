// Packer's machine-readable format and timestamped UI, as kiln writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { escapeMachineField, finishPackerUi, goDuration, machineLine, PackerUi, PackerUiRenderer, packerUiStream, rfc3339 } from '../../src/cli/render/machine.js';
import type { BuildEvent } from '../../src/store/index.js';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { stream, text: () => text };
}

test("fields are escaped as Packer's MachineReadableUi does: commas, then \\r and \\n spelled out", () => {
  assert.equal(escapeMachineField('a,b\nc\r\nd'), 'a%!(PACKER_COMMA)b\\nc\\r\\nd');
  const at = new Date('2026-11-30T13:11:17.900Z');
  assert.equal(machineLine('web', 'artifact', ['0', 'id', 'fr-par-1:x,y'], at), '1796044277,web,artifact,0,id,fr-par-1:x%!(PACKER_COMMA)y\n');
  assert.equal(machineLine('', 'ui', ['say', '\n==> Builds finished.'], at), '1796044277,,ui,say,\\n==> Builds finished.\n');
});

test('RFC 3339 timestamps as Go prints them (time.RFC3339, local time)', () => {
  const at = new Date('2026-11-30T13:11:17.900Z');
  const printed = rfc3339(at);
  assert.match(printed, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  // Read back, it is the same second.
  assert.equal(Date.parse(printed), Date.parse('2026-11-30T13:11:17Z'));
});

test('the end of a run: error-count and error lines, then artifact-count and the artifact lines of each build', () => {
  const out = collect();
  const artifact = { imageId: 'img-1', imageName: 'web', snapshotId: 'snap-1', snapshotName: 'web-snap', zone: 'nl-ams-1' };
  finishPackerUi(new PackerUi('machine', out.stream), [
    { builderName: 'web', status: 'succeeded', artifact },
    { builderName: 'db', status: 'failed', failure: { error: { name: 'ProvisionerFailed', message: 'exit status 3, see above', retryable: false } } },
  ]);
  const lines = out.text().split('\n').filter(Boolean).map((l) => l.replace(/^\d{10},/, ''));
  assert.deepEqual(lines, [
    ',error-count,1',
    ",ui,error,\\n==> Some builds didn't complete successfully and had errors:",
    'db,error,ProvisionerFailed: exit status 3%!(PACKER_COMMA) see above',
    ',ui,error,--> db: ProvisionerFailed: exit status 3%!(PACKER_COMMA) see above',
    ',ui,say,\\n==> Builds finished. The artifacts of successful builds are:',
    'web,artifact-count,1',
    'web,artifact,0,builder-id,hashicorp.scaleway',
    'web,artifact,0,id,nl-ams-1:img-1',
    "web,artifact,0,string,An image was created: 'web' (ID: img-1) in zone 'nl-ams-1' based on snapshot 'web-snap' (ID: snap-1)",
    'web,artifact,0,files-count,0',
    'web,artifact,0,end',
    ",ui,say,--> web: An image was created: 'web' (ID: img-1) in zone 'nl-ams-1' based on snapshot 'web-snap' (ID: snap-1)",
  ]);
});

test('progress: Packer UI messages per event; provisioner stdout as message, stderr as error; other builds ignored', () => {
  const out = collect();
  const renderer = new PackerUiRenderer('machine', out.stream);
  renderer.track('b1', 'web');
  const event = (type: string, data: Record<string, unknown>, buildId = 'b1'): BuildEvent =>
    ({ buildId, seq: 1, at: '2026-11-30T13:11:17.000Z', type, phase: 'provision', attempt: 1, data }) as BuildEvent;
  renderer.onEvent(event('provision.output', { lines: [{ stream: 'stdout', line: 'a,b' }, { stream: 'stderr', line: 'oops' }] }));
  renderer.onEvent(event('phase.failed', { error: { name: 'Error', message: 'exit 3', retryable: false } }));
  renderer.onEvent(event('provision.output', { lines: [{ stream: 'stdout', line: 'not ours' }] }, 'b2'));
  assert.deepEqual(out.text().split('\n').filter(Boolean), [
    '1796044277,,ui,message,    web: a%!(PACKER_COMMA)b',
    '1796044277,,ui,error,==> web: oops',
    '1796044277,,ui,error,==> web: provision: failed: exit 3',
  ]);
});

test('timestamped UI: each line prefixed with its RFC 3339 time; a text stream becomes one message per line', async () => {
  const out = collect();
  const stream = packerUiStream('timestamped', 'say', out.stream);
  stream.write('first line\nsecond ');
  stream.end('line');
  await new Promise((resolve) => stream.on('finish', resolve));
  const lines = out.text().split('\n').filter(Boolean);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d): first line$/);
  assert.match(lines[1]!, /: second line$/);
});

test("a build's last line, as Packer prints it: Build 'web' finished after 11 seconds 604 milliseconds.", () => {
  assert.equal(goDuration(11_604), '11 seconds 604 milliseconds');
  assert.equal(goDuration(3_661_001), '1 hour 1 minute');
  assert.equal(goDuration(61_000), '1 minute 1 second');
  assert.equal(goDuration(0), '0 milliseconds');
  const out = collect();
  const renderer = new PackerUiRenderer('machine', out.stream);
  renderer.track('b1', 'web');
  const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 13, 0, s)).toISOString();
  const artifact = { imageId: 'i', imageName: 'n', snapshotId: 's', snapshotName: 'sn', zone: 'fr-par-1' };
  renderer.onEvent({ buildId: 'b1', seq: 1, at: at(0), type: 'build.started', phase: null, attempt: 0, data: {} } as BuildEvent);
  renderer.onEvent({ buildId: 'b1', seq: 2, at: at(12), type: 'build.succeeded', phase: null, attempt: 0, data: { artifact } } as BuildEvent);
  assert.match(out.text(), /,,ui,say,Build 'web' finished after 12 seconds\.\n$/);
});
