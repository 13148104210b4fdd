// The plan (attached volumes and IPs follow their server, --build narrows), the table and the
// summary line, and the bounded scheduler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanBuilder, summarizePlan, type PlanOptions } from '../../src/gc/plan.js';
import { renderSummary, renderTable } from '../../src/gc/render.js';
import { mapBounded } from '../../src/gc/pool.js';
import type { GcBuild, GcResource } from '../../src/gc/types.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const OLD = NOW - 3 * 3_600_000;

const builds: Record<string, GcBuild> = {
  dead: { id: 'dead', status: 'failed', hasArtifact: false, lease: null, updatedAt: OLD },
  live: { id: 'live', status: 'running', hasArtifact: false, lease: { pid: 1, host: 'here', pidSpace: 'boot/1', expiresAt: NOW + 1 }, updatedAt: NOW },
};

function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    now: NOW,
    pidSpace: 'boot/1',
    olderThanMs: 3_600_000,
    pidAlive: (pid) => pid === 1,
    lookupBuild: (id) => builds[id],
    ...overrides,
  };
}

const tags = (build: string) => ['kiln', `kiln-build=${build}`];
function r(type: GcResource['type'], id: string, extra: Partial<GcResource> = {}): GcResource {
  return { type, id, name: `packer-${id}`, zone: 'fr-par-1', tags: tags('dead'), createdAt: OLD, state: 'available', ...extra };
}

function planOf(resources: GcResource[], overrides: Partial<PlanOptions> = {}) {
  const builder = new PlanBuilder(options(overrides));
  for (const resource of resources) builder.add(resource);
  return builder.finish();
}

test('volumes and IPs attached to an orphan server go with it, even an untagged root volume', () => {
  const plan = planOf([
    r('server', 's1', { state: 'running', rootVolumeId: 'v-root' }),
    r('server', 's2', { state: 'running', tags: tags('live') }),
    r('volume', 'v-root', { tags: [], serverId: 's1' }),
    r('volume', 'v-extra-untagged', { tags: [], serverId: 's1' }),
    r('volume', 'v-live', { tags: tags('live'), serverId: 's2' }),
    r('volume', 'v-detached'),
    r('ip', 'ip1', { serverId: 's1', createdAt: undefined }),
    r('volume', 'v-user', { tags: [], name: 'packer-lookalike' }),
  ]);
  const action = Object.fromEntries(plan.items.map((i) => [i.id, i.action]));
  assert.deepEqual(action, {
    s1: 'delete',
    s2: 'keep',
    'v-root': 'with-server',
    'v-live': 'keep',
    'v-detached': 'delete',
    ip1: 'delete',
  });
  // The extra untagged volume and the look-alike are not kiln's: not in the plan at all.
  assert.equal(plan.untaggedIgnored, 2);
  assert.deepEqual(summarizePlan(plan.items), {
    found: 6,
    orphans: { server: 1, volume: 2, snapshot: 0, image: 0, ip: 1 },
    orphanTotal: 4,
    kept: 2,
  });
});

test('--build keeps only that build\'s resources', () => {
  const plan = planOf([r('server', 's1'), r('server', 's2', { tags: tags('other') })], { buildFilter: 'other' });
  assert.deepEqual(plan.items.map((i) => i.id), ['s2']);
  assert.equal(plan.otherBuildsIgnored, 1);
});

test('the dry-run table shows type, id, name, build, age, state, action and reason; the summary counts', () => {
  const plan = planOf([r('server', 's1', { state: 'running' }), r('snapshot', 'snap1', { tags: tags('live'), createdAt: NOW - 90_000 })]);
  const table = renderTable(plan.items, { now: NOW, showZone: false });
  const lines = table.split('\n');
  assert.match(lines[0]!, /^TYPE\s+ID\s+NAME\s+BUILD\s+AGE\s+STATE\s+ACTION\s+REASON$/);
  assert.match(lines[1]!, /^server\s+s1\s+packer-s1\s+dead\s+3h\s+running\s+delete\s+build dead failed$/);
  assert.match(lines[2]!, /^snapshot\s+snap1\s+packer-snap1\s+live\s+90s\s+available\s+keep\s+live build/);
  // Columns line up: every row's ID starts where the header's does.
  const idColumn = lines[0]!.indexOf('ID');
  assert.ok(lines.slice(1).every((line) => line.slice(idColumn).startsWith('s')));
  assert.equal(
    renderSummary({ items: plan.items, zones: ['fr-par-1'] }),
    'Found 2 kiln resources in fr-par-1: 1 would be removed (1 server), 1 kept. Nothing was changed; run again with --force to remove them.',
  );
  assert.equal(renderSummary({ items: [], zones: ['fr-par-1', 'nl-ams-1'] }), 'Found 0 kiln resources in 2 zones: nothing to remove, 0 kept.');
});

test('after --force the table shows results and the summary counts removed, failed and skipped', () => {
  const plan = planOf([r('server', 's1'), r('volume', 'v1'), r('image', 'i1'), r('snapshot', 'snap1', { tags: tags('live') })]);
  const results = [{ status: 'removed' as const }, { status: 'failed' as const, reason: 'ServerError: 503' }, { status: 'skipped' as const, reason: 'x' }, undefined];
  const table = renderTable(plan.items, { now: NOW, showZone: true, results });
  assert.match(table.split('\n')[0]!, /^TYPE\s+ZONE\s+ID\s+NAME\s+BUILD\s+AGE\s+STATE\s+RESULT\s+REASON$/);
  assert.match(table, /volume\s+fr-par-1\s+v1 .*failed\s+build dead failed; ServerError: 503/);
  assert.match(table, /snapshot .* kept /);
  assert.equal(
    renderSummary({ items: plan.items, zones: ['fr-par-1'], results, cleanedBuilds: [] }),
    'Found 4 kiln resources in fr-par-1: removed 1 of 3 (1 server), 1 failed, 1 skipped, 1 kept. Run `kiln gc --force` again to retry the failed ones.',
  );
});

test('mapBounded never runs more than the limit at once, keeps order, and isolates failures', async () => {
  let inFlight = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const items = Array.from({ length: 20 }, (_, i) => i);
  const done = mapBounded(items, 3, async (n) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise<void>((resolve) => gates.push(resolve));
    inFlight--;
    if (n === 5) throw new Error('five');
    return n * 2;
  });
  // Release tasks one by one as they queue up; each release lets exactly one more start.
  while (gates.length > 0 || inFlight > 0) {
    await new Promise((resolve) => setImmediate(resolve));
    gates.shift()?.();
  }
  const results = await done;
  assert.equal(peak, 3);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), items.map((n) => (n === 5 ? 'five' : n * 2)));
  await assert.rejects(mapBounded([1], 0, async () => 1), RangeError);
});
