// The orphan rules of issue 7, one case each, on the pure classifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyResource, leaseVerdict, type ClassifyContext } from '../../src/gc/classify.js';
import type { GcBuild, GcResource } from '../../src/gc/types.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;
const HOST = 'builder-a';
/** This process's pid space (boot id / pid namespace): where gc can check a pid. */
const HERE = 'boot-1/4026531836';
const LIVE_PID = 4242;

const ctx: ClassifyContext = {
  now: NOW,
  pidSpace: HERE,
  olderThanMs: HOUR,
  pidAlive: (pid) => pid === LIVE_PID,
};

function resource(overrides: Partial<GcResource> = {}): GcResource {
  return {
    type: 'server',
    id: 'srv-1',
    name: 'packer-abc',
    zone: 'fr-par-1',
    tags: ['kiln', 'kiln-build=b1', 'kiln-phase=server.create'],
    createdAt: NOW - 2 * HOUR,
    state: 'running',
    ...overrides,
  };
}

function build(overrides: Partial<GcBuild> = {}): GcBuild {
  return { id: 'b1', status: 'failed', hasArtifact: false, lease: null, updatedAt: NOW - 2 * HOUR, ...overrides };
}

test('an untagged resource is never an orphan, whatever its name', () => {
  const v = classifyResource(resource({ tags: [], name: 'packer-1234' }), undefined, { ...ctx, olderThanMs: 0 });
  assert.equal(v.orphan, false);
  assert.match(v.reason, /not tagged kiln/);
});

test('a kiln resource naming no build is left alone', () => {
  const v = classifyResource(resource({ tags: ['kiln'] }), undefined, ctx);
  assert.equal(v.orphan, false);
  assert.match(v.reason, /no kiln-build/);
});

test('resources of a failed build are orphans once older than --older-than', () => {
  assert.deepEqual(classifyResource(resource(), build(), ctx), { orphan: true, reason: 'build b1 failed' });
  const young = classifyResource(resource({ createdAt: NOW - 10 * 60_000 }), build(), ctx);
  assert.equal(young.orphan, false);
  assert.match(young.reason, /younger than --older-than 1h/);
  // --older-than 0 takes any age.
  assert.equal(classifyResource(resource({ createdAt: NOW - 1000 }), build(), { ...ctx, olderThanMs: 0 }).orphan, true);
});

test('a live lease protects a build whatever its status', () => {
  for (const status of ['running', 'failed', 'interrupted', 'cleaned']) {
    const v = classifyResource(resource(), build({ status, lease: { pid: LIVE_PID, host: HOST, pidSpace: HERE, expiresAt: NOW - HOUR } }), ctx);
    assert.equal(v.orphan, false, status);
    assert.match(v.reason, /live build/);
  }
});

test('a lease from this pid space whose process is gone is dead at once, even before it expires', () => {
  const killed = build({ status: 'running', lease: { pid: 999_999, host: HOST, pidSpace: HERE, expiresAt: NOW + HOUR } });
  const v = classifyResource(resource(), killed, ctx);
  assert.equal(v.orphan, true);
  assert.match(v.reason, /killed: its process \(pid 999999 on this host\) is gone/);
});

test('a lease from another host is alive until it expires', () => {
  const fresh = build({ status: 'running', lease: { pid: LIVE_PID + 1, host: 'builder-b', pidSpace: 'boot-2/4026531836', expiresAt: NOW + 60_000 } });
  assert.equal(classifyResource(resource(), fresh, ctx).orphan, false);
  const expired = build({ status: 'running', lease: { pid: LIVE_PID + 1, host: 'builder-b', pidSpace: 'boot-2/4026531836', expiresAt: NOW - 1 } });
  const v = classifyResource(resource(), expired, ctx);
  assert.equal(v.orphan, true);
  assert.match(v.reason, /expired/);
  // The other host's pid is never looked up here: a pid number means nothing across machines.
  const sameNumber = build({ status: 'running', lease: { pid: LIVE_PID, host: 'builder-b', pidSpace: 'boot-2/4026531836', expiresAt: NOW - 1 } });
  assert.equal(classifyResource(resource(), sameNumber, ctx).orphan, true);
});

test('a lease from a container sharing this host name (another pid namespace) is judged by its expiry, never by a pid', () => {
  // Same host name, same boot, another pid namespace: pid 999999 is dead here, maybe alive there;
  // LIVE_PID is alive here, which says nothing of the holder either.
  const otherNamespace = 'boot-1/4026532999';
  for (const pid of [999_999, LIVE_PID]) {
    const fresh = build({ status: 'running', lease: { pid, host: HOST, pidSpace: otherNamespace, expiresAt: NOW + 60_000 } });
    assert.deepEqual(classifyResource(resource(), fresh, ctx).orphan, false, `pid ${pid}: alive until it expires`);
    const expired = build({ status: 'running', lease: { pid, host: HOST, pidSpace: otherNamespace, expiresAt: NOW - 1 } });
    assert.match(classifyResource(resource(), expired, ctx).reason, /expired/, `pid ${pid}: dead once expired`);
  }
  // A lease recorded without a pid space (an older kiln) is judged the same way.
  const unknown = build({ status: 'running', lease: { pid: 999_999, host: HOST, pidSpace: null, expiresAt: NOW + 60_000 } });
  assert.equal(classifyResource(resource(), unknown, ctx).orphan, false);
});

test('interrupted, cleaned and lease-less running builds are dead', () => {
  assert.equal(classifyResource(resource(), build({ status: 'interrupted' }), ctx).orphan, true);
  assert.equal(classifyResource(resource(), build({ status: 'cleaned' }), ctx).orphan, true);
  assert.equal(classifyResource(resource(), build({ status: 'running' }), ctx).orphan, true);
});

test('snapshots and images of a build that produced an artifact are the user\'s', () => {
  for (const type of ['snapshot', 'image'] as const) {
    const succeeded = classifyResource(resource({ type }), build({ status: 'succeeded', hasArtifact: true }), ctx);
    assert.equal(succeeded.orphan, false);
    assert.match(succeeded.reason, /artifact/);
    // Even when gc marked the build cleaned later (its failed leftovers gone), an artifact stays.
    assert.equal(classifyResource(resource({ type }), build({ status: 'cleaned', hasArtifact: true }), ctx).orphan, false);
  }
  // The snapshot of a failed build is an orphan.
  assert.equal(classifyResource(resource({ type: 'snapshot' }), build(), ctx).orphan, true);
});

test('a build this store never saw: its servers go, its snapshots and images only when named', () => {
  const server = classifyResource(resource({ tags: ['kiln', 'kiln-build=elsewhere'] }), undefined, ctx);
  assert.deepEqual(server, { orphan: true, reason: 'build elsewhere is unknown to this store' });
  const image = resource({ type: 'image', tags: ['kiln', 'kiln-build=elsewhere'] });
  const unnamed = classifyResource(image, undefined, ctx);
  assert.equal(unnamed.orphan, false);
  assert.match(unnamed.reason, /--build elsewhere/);
  assert.equal(classifyResource(image, undefined, { ...ctx, namedBuild: 'elsewhere' }).orphan, true);
});

test('a resource without a creation date is aged by its dead build\'s last event', () => {
  const ip = resource({ type: 'ip', createdAt: undefined });
  assert.equal(classifyResource(ip, build({ updatedAt: NOW - 2 * HOUR }), ctx).orphan, true);
  assert.equal(classifyResource(ip, build({ updatedAt: NOW - 60_000 }), ctx).orphan, false);
  const unknown = classifyResource({ ...ip, tags: ['kiln', 'kiln-build=x'] }, undefined, ctx);
  assert.equal(unknown.orphan, false);
  assert.match(unknown.reason, /age is unknown/);
});

test('leaseVerdict explains itself', () => {
  const v = leaseVerdict({ pid: 7, host: 'other', pidSpace: null, expiresAt: NOW + 1000 }, ctx);
  assert.equal(v.alive, true);
  assert.match(v.reason, /held by other until 2026-11-27T12:00:01.000Z/);
});

test("another host's lease expires by the store's clock, not this machine's", () => {
  const lease = { pid: 7, host: 'other', pidSpace: null, expiresAt: NOW + 1000 };
  // This machine's clock runs 5 s ahead of the database's: the lease is still live by the database.
  assert.equal(leaseVerdict(lease, { ...ctx, now: NOW + 5000, leaseNow: NOW }).alive, true);
  // And a lease that expired by the database's clock is free, whatever this machine's clock says.
  assert.equal(leaseVerdict(lease, { ...ctx, now: NOW, leaseNow: NOW + 5000 }).alive, false);
});

test("a checkpoint of the build cache is never an orphan, even of a failed build named with --build (issue 24)", () => {
  const checkpointTags = ['kiln', 'kiln-build=b1', 'kiln-phase=checkpoint', 'kiln-cache', 'kiln-cache-key=0123abcd'];
  for (const type of ['image', 'snapshot'] as const) {
    for (const [known, context] of [[build(), ctx], [undefined, { ...ctx, namedBuild: 'b1', olderThanMs: 0 }]] as const) {
      const v = classifyResource(resource({ type, id: `${type}-1`, tags: checkpointTags }), known, context);
      assert.equal(v.orphan, false, `${type} of ${known ? 'a failed' : 'an unknown'} build`);
      assert.match(v.reason, /checkpoint of the build cache/);
    }
  }
  // The same image without the cache's tag is an orphan of its failed build.
  assert.equal(classifyResource(resource({ type: 'image', tags: checkpointTags.filter((t) => t !== 'kiln-cache') }), build(), ctx).orphan, true);
});
