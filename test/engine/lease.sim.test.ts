// One driver per build: a run whose lease another process took over (this one was frozen past
// its expiry) stops at the next safe point instead of acting on the build alongside the new owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, template, types } from './harness.js';

test('a run that lost its lease stops (interrupted) and leaves the lease to its new holder', { timeout: 60_000 }, async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const path = h.template(template({}, [{ type: 'shell', inline: ['echo provisioning', 'sleep 30'] }]));
  // Mid-provisioning, another process takes the build over (as `kiln resume` does an expired lease).
  const other = { pid: 999_999, host: 'another-host' };
  let taken = false;
  h.store.subscribe((e) => {
    if (e.type !== 'provisioner.started' || taken) return;
    taken = true;
    h.store.db
      .prepare('UPDATE builds SET lease_token = ?, lease_pid = ?, lease_host = ?, lease_expires_at = ? WHERE id = ?')
      .run('the-other-process', other.pid, other.host, Date.now() + 60_000, e.buildId);
  });
  // A 3 s lease: the heartbeat renews it every second, and finds it lost at the next renewal.
  const [outcome] = await h.build(path, { leaseTtlMs: 3_000 });
  assert.ok(taken, 'the lease was taken over mid-provisioning');
  assert.equal(outcome!.status, 'interrupted', JSON.stringify(outcome));
  assert.equal(outcome!.phase, 'provision');
  const log = types(h.events(outcome!.buildId));
  assert.equal(log.at(-1), 'build.interrupted');
  assert.ok(!log.includes('provisioner.succeeded') && !log.includes('server.poweroff.requested'), log.join(','));
  // It did not release (or overwrite) the new holder's lease.
  const lease = h.store.getBuild(outcome!.buildId)!.lease;
  assert.deepEqual({ pid: lease?.pid, host: lease?.host }, other);
  // Nothing was cleaned up behind the new holder's back: the server is still there.
  assert.equal((await h.inventory(outcome!.buildId)).servers.length, 1);
});
