// Where a resumed build starts, folded from its log (pure: no simulator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromProvisioner, resumePoint, ResumeRefusedError } from '../../src/engine/resume.js';
import type { BuildEvent, EventType } from '../../src/store/index.js';
import type { PhaseName } from '../../machines/phases.js';

let seq = 0;
const ev = (type: EventType, phase: PhaseName | null, data: Record<string, unknown> = {}, attempt = 1): BuildEvent => ({
  buildId: 'b',
  seq: ++seq,
  at: new Date(seq * 1000).toISOString(),
  type,
  phase,
  attempt,
  data,
});
const ssh = { communicator: { type: 'ssh' } as never, provisioners: [{}, {}] as never[] };
const done = (phase: PhaseName, facts: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => [
  ev('phase.started', phase, extra),
  ev('phase.succeeded', phase, { ...extra, facts }),
];

test('an unfinished phase runs again, with the facts of the finished ones', () => {
  const events = [
    ev('build.started', null),
    ...done('prepare', { sourceImageId: 'img', arch: 'x86_64' }),
    ...done('key', { authorizedKeyTag: 'AUTHORIZED_KEY=x' }),
    ev('phase.started', 'server.create'),
    ev('server.create.requested', 'server.create'),
  ];
  const p = resumePoint(events, ssh);
  assert.equal(p.phase, 'server.create');
  assert.deepEqual(p.facts, { sourceImageId: 'img', arch: 'x86_64', authorizedKeyTag: 'AUTHORIZED_KEY=x' });
});

test('after a finished phase, the next one that runs for this build', () => {
  const events = [...done('prepare'), ...done('server.wait_running', { publicIp: '127.0.0.2' })];
  assert.equal(resumePoint(events, ssh).phase, 'ssh.connect');
  assert.equal(resumePoint(events, { communicator: { type: 'none' } as never, provisioners: [] }).phase, 'server.stop');
});

test('provisioners: a finished one is skipped, an unfinished one runs again; retries do not reset it', () => {
  const first = [...done('ssh.connect'), ...done('provision', {}, { provisionerIndex: 0 })];
  assert.deepEqual([resumePoint(first, ssh).phase, resumePoint(first, ssh).provisionerIndex], ['provision', 1]);
  const retried = [
    ...first,
    ev('phase.started', 'provision', { provisionerIndex: 1 }, 1),
    ev('phase.retrying', 'provision', { provisionerIndex: 1 }, 1),
    ev('phase.started', 'provision', { provisionerIndex: 1 }, 2),
  ];
  assert.deepEqual([resumePoint(retried, ssh).phase, resumePoint(retried, ssh).provisionerIndex], ['provision', 1]);
  const all = [...first, ...done('provision', {}, { provisionerIndex: 1 })];
  // With a temporary key, machine.cleanup takes it out of authorized_keys before the server stops.
  assert.equal(resumePoint(all, ssh).phase, 'machine.cleanup');
  assert.equal(resumePoint(all, { ...ssh, communicator: { type: 'ssh', privateKeyFile: '/home/me/.ssh/id' } as never }).phase, 'server.stop');
});

test('checkpoints: killed after the provisioner it follows, it is made next; killed after it, the next provisioner runs', () => {
  const three = { ...ssh, provisioners: [{}, {}, {}] as never[] };
  const prepared = [...done('prepare', { checkpointKeys: ['k0', '', ''] }), ...done('ssh.connect')];
  const afterFirst = [...prepared, ...done('provision', {}, { provisionerIndex: 0 })];
  assert.deepEqual([resumePoint(afterFirst, three).phase, resumePoint(afterFirst, three).provisionerIndex], ['checkpoint', 0]);
  const during = [...afterFirst, ev('phase.started', 'checkpoint', { provisionerIndex: 0 }), ev('key.cleared', 'checkpoint', { key: 'k0' })];
  assert.deepEqual([resumePoint(during, three).phase, resumePoint(during, three).provisionerIndex], ['checkpoint', 0]);
  const made = [...afterFirst, ...done('checkpoint', { checkpointMade: 'k0' }, { provisionerIndex: 0 })];
  assert.deepEqual([resumePoint(made, three).phase, resumePoint(made, three).provisionerIndex], ['provision', 1]);
  // No checkpoint wanted after provisioner 1: straight on.
  const second = [...made, ...done('provision', {}, { provisionerIndex: 1 })];
  assert.deepEqual([resumePoint(second, three).phase, resumePoint(second, three).provisionerIndex], ['provision', 2]);
});

test('a build that started from a checkpoint resumes its provisioning past what the checkpoint covers', () => {
  const three = { ...ssh, provisioners: [{}, {}, {}] as never[] };
  const connected = [...done('prepare', { provisionFrom: 2, cacheImageId: 'img-cp' }), ...done('ssh.connect')];
  assert.deepEqual([resumePoint(connected, three).phase, resumePoint(connected, three).provisionerIndex], ['provision', 2]);
});

test('--from-provisioner restarts provisioning, but not once the server was powered off', () => {
  const atProvision = resumePoint([...done('ssh.connect'), ...done('provision', {}, { provisionerIndex: 0 })], ssh);
  assert.equal(fromProvisioner(atProvision, ssh, 0).provisionerIndex, 0);
  assert.throws(() => fromProvisioner(atProvision, ssh, 2), /provisioners 0 to 1/);
  const stopped = resumePoint([...done('server.stop')], ssh);
  assert.throws(() => fromProvisioner(stopped, ssh, 0), ResumeRefusedError);
});

test('a build that was cleaning up after a failure is not resumed', () => {
  const events = [...done('prepare'), ev('phase.failed', 'server.create'), ev('cleanup.started', 'cleanup'), ev('phase.started', 'cleanup', { reason: 'failure' })];
  assert.throws(() => resumePoint(events, ssh), /cleaning up after a failure/);
});
