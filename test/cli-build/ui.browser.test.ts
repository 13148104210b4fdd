// `kiln ui` as a user runs it, in headless Chromium, over builds run against the simulator: a
// running build's page moves to `succeeded` without a reload (SQLite and PostgreSQL); the token
// rules (refused without one off loopback, 401 without it on every request); read-only (the gc
// page's dry run records nothing, and nothing else writes); phase-duration charts; no secret.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromiumUnavailableReason, launchChromium, type Browser } from '../../scripts/lib/browser.js';
import { openStore, resolveStoreLocation, type BuildStore } from '../../src/store/index.js';
import { template } from '../engine/harness.js';
import { runKiln, spawnKiln, type KilnResult } from '../helpers/cli.js';
import { postgresUnavailableReason, testDatabase } from '../helpers/postgres.js';
import { simulatedCloudForFile } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const TOKEN = 'a-token-of-at-least-sixteen-characters';
const SENSITIVE = 'hunter2-never-in-the-ui';
const noBrowser = chromiumUnavailableReason();
const cloud = simulatedCloudForFile('kiln-ui-', { secretKey: SECRET, projectId: PROJECT });

let browser: Browser;
before(async () => {
  if (!noBrowser) browser = await launchChromium();
}, { timeout: 120_000 });
after(() => browser?.close(), { timeout: 60_000 });

/** One test's store (a SQLite file, or a PostgreSQL database) and template; kiln runs with the simulator's credentials. */
function world(name: string, db: string | undefined, provisioners: unknown[], extra: Record<string, unknown> = {}) {
  const root = join(cloud.dir, name);
  mkdirSync(root, { recursive: true });
  const w = { db: db ?? join(root, 'kiln.db'), template: join(root, 'template.json') };
  writeFileSync(w.template, JSON.stringify({ ...template({ ssh_port: cloud.sim.sshPort }, provisioners), ...extra }));
  const env = { PATH: process.env.PATH, HOME: root, KILN_STATE_DIR: join(root, 'state'), SCW_API_URL: cloud.sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  return {
    ...w,
    env,
    kiln: (args: string[], more: Record<string, string> = {}) => runKiln([...args, '--db', w.db], { env: { ...env, ...more } }),
    spawn: (args: string[], more: Record<string, string | undefined> = {}) => spawnKiln([...args, '--db', w.db], { env: { ...env, ...more } }),
    withStore: async <T>(read: (store: BuildStore) => Promise<T> | T): Promise<T> => {
      const store = await openStore(resolveStoreLocation(w.db));
      try {
        return await read(store);
      } finally {
        await store.close();
      }
    },
  };
}
type World = ReturnType<typeof world>;

/** The first output of a child that matches `pattern` (its output keeps being read after that). */
function lineOf(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let found = false;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (found) return;
      seen += chunk;
      const match = pattern.exec(seen);
      if (!match) return;
      found = true;
      resolve(match);
    });
    child.on('close', () => found || reject(new Error(`the process ended without printing ${pattern}: ${seen}`)));
  });
}

/** `kiln ui --port 0` for a test: its address, stopped (SIGTERM) after the test. */
async function startUi(t: { after: (fn: () => Promise<void>) => void }, w: World, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<string> {
  const ui = w.spawn(['ui', '--port', '0', ...args], env);
  t.after(async () => {
    if (ui.exitCode === null) {
      ui.kill('SIGTERM');
      await once(ui, 'close');
    }
  });
  return (await lineOf(ui, /kiln ui: (http:\/\/\S+\/) /))[1]!;
}

const idOf = (r: KilnResult) => (JSON.parse(r.stdout.split('\n')[0]!) as { buildId: string }).buildId;

async function followsARunningBuild(t: { after: (fn: () => Promise<void>) => void }, w: World): Promise<void> {
  const url = await startUi(t, w);
  const build = w.spawn(['build', '--json', w.template]);
  const ended = once(build, 'close');
  t.after(async () => void (await ended));
  const id = JSON.parse((await lineOf(build, /^(\{.*\})$/m))[1]!).buildId as string;

  const page = await browser.context.newPage();
  let navigations = 0;
  page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations++);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}builds/${id}`);
  assert.equal(await page.getAttribute('header [data-status]', 'data-status'), 'running');
  await page.evaluate(() => ((globalThis as { kilnTestMark?: number }).kilnTestMark = 42));
  await page.waitForSelector('header [data-status="succeeded"]', { timeout: 240_000 });
  assert.equal(navigations, 1, 'the page was never reloaded');
  assert.equal(await page.evaluate(() => (globalThis as { kilnTestMark?: number }).kilnTestMark), 42, 'the same document throughout');
  assert.ok((await page.locator('rect.bar[data-outcome="succeeded"]').count()) >= 10, 'the timeline grew with the build');
  assert.equal(await page.locator('rect.bar[data-outcome="running"]').count(), 0);
  assert.match((await page.textContent('#live'))!, /^● live/);
  assert.deepEqual(errors, []);
  await page.close();
  const [code] = await ended;
  assert.equal(code, 0);
}

// The provisioner's pause leaves time to open the page while the build runs.
const SLOW = [{ type: 'shell', inline: ['echo warming up', 'sleep 4', 'echo warm'] }];

test('kiln ui follows a build running against the simulator: its page moves to succeeded without a reload', { skip: noBrowser, timeout: 300_000 }, async (t) => {
  await followsARunningBuild(t, world('live', undefined, SLOW));
});

test('kiln ui on PostgreSQL (the team’s store) follows a running build the same way', { skip: noBrowser ?? postgresUnavailableReason(), timeout: 300_000 }, async (t) => {
  await followsARunningBuild(t, world('live-pg', await testDatabase(t), SLOW));
});

test('off loopback kiln ui refuses to start without KILN_UI_TOKEN; with it, a request without the token gets 401', { skip: noBrowser, timeout: 180_000 }, async (t) => {
  const w = world('token', undefined, []);
  const refused = await w.kiln(['ui', '--host', '0.0.0.0', '--port', '0'], { KILN_UI_TOKEN: '' });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--host 0\.0\.0\.0 is not a loopback address: .*Set KILN_UI_TOKEN/);
  const short = await w.kiln(['ui', '--host', '0.0.0.0', '--port', '0'], { KILN_UI_TOKEN: 'short' });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /KILN_UI_TOKEN is 5 characters long: give at least 16/);

  const url = (await startUi(t, w, ['--host', '0.0.0.0'], { KILN_UI_TOKEN: TOKEN })).replace('0.0.0.0', '127.0.0.1');
  for (const path of ['', 'trends', 'gc', 'live/list', 'builds/x']) assert.equal((await fetch(url + path)).status, 401, `/${path} without the token`);
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer not-the-token-at-all-no' } })).status, 401, 'a wrong token');
  assert.equal((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  const first = await fetch(`${url}?token=${TOKEN}`, { redirect: 'manual' });
  assert.equal(first.status, 303, 'the token leaves the address bar');
  assert.match(first.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);

  // A browser opens the address with the token once; the cookie carries it to every page and the live stream.
  const page = await browser.context.newPage();
  await page.goto(`${url}?token=${TOKEN}`);
  assert.equal(new URL(page.url()).search, '');
  assert.equal(await page.textContent('h1'), 'Builds');
  await page.waitForSelector('#live:text-matches("^● live")', { timeout: 60_000 });
  assert.equal((await page.goto(`${url}trends`))!.status(), 200);
  await page.close();
});

test('kiln ui is read-only: the gc page shows what a dry run would remove and records no run; nothing writes to the store', { skip: noBrowser, timeout: 300_000 }, async (t) => {
  const w = world('read-only', undefined, [{ type: 'shell', inline: ['echo migrating', 'exit 3'] }]);
  const failed = await w.kiln(['build', '--json', '--on-error', 'abort', w.template]);
  assert.equal(failed.code, 1, failed.stderr);
  const id = idOf(failed);
  const serverId = await w.withStore(async (store) => (await store.getBuild(id))!.resources.server!.id);
  const before = await w.withStore(async (store) => ({ events: (await store.events(id)).length, gcRuns: (await store.gcRuns()).length, updatedAt: (await store.getBuild(id))!.updatedAt }));
  const url = await startUi(t, w);

  const page = await browser.context.newPage();
  await page.goto(`${url}gc?older-than=0s`);
  assert.equal(await page.getAttribute(`[data-section="gc-plan"] tr[data-resource="${serverId}"]`, 'data-action'), 'delete');
  assert.match((await page.textContent('[data-summary]'))!, /would be removed \(1 server, 1 volume\).*Nothing was changed/);
  for (const path of ['', `builds/${id}`, `builds/${id}/report.html`, 'trends', 'gc']) assert.equal((await fetch(url + path)).status, 200, `/${path}`);
  for (const method of ['POST', 'PUT', 'DELETE']) assert.equal((await fetch(url, { method })).status, 405, method);
  const afterVisits = await w.withStore(async (store) => ({ events: (await store.events(id)).length, gcRuns: (await store.gcRuns()).length, updatedAt: (await store.getBuild(id))!.updatedAt }));
  assert.deepEqual(afterVisits, before, 'no event, no gc run, no change to the build');

  // The page reads what `kiln gc` records: a dry run from the command line appears among the recorded runs.
  assert.equal((await w.kiln(['gc', '--older-than', '0s'])).code, 0);
  await page.goto(`${url}gc?older-than=0s`);
  assert.equal(await page.locator('[data-section="gc-runs"] tbody tr').count(), 1);
  // The failed build's page: the error and the hint kiln printed.
  await page.goto(`${url}builds/${id}`);
  assert.match((await page.textContent('[data-section="error"] pre'))!, new RegExp(`kiln gc --build ${id} --force`));
  await page.close();
});

test('phase durations across a template’s builds: one chart per phase, drawn offline, and no secret on any page', { skip: noBrowser, timeout: 300_000 }, async (t) => {
  const w = world('trends', undefined, [{ type: 'shell', environment_vars: ['PASSWORD={{user `password`}}'], inline: ['echo "using $PASSWORD"'] }], {
    variables: { password: null },
    'sensitive-variables': ['password'],
  });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const built = await w.kiln(['build', '--json', '--var', `password=${SENSITIVE}`, w.template]);
    assert.equal(built.code, 0, built.stderr);
    ids.push(idOf(built));
  }
  const url = await startUi(t, w);
  const page = await browser.context.newPage();
  const foreign: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => !r.url().startsWith(url) && foreign.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}trends`);
  const phases = await page.$$eval('.chart', (charts) => charts.map((c) => c.getAttribute('data-phase')));
  assert.ok(phases.includes('server.wait_running') && phases.includes('provision #0'), phases.join(', '));
  assert.equal(await page.locator('.chart .uplot canvas').count(), phases.length, 'uPlot drew every chart');
  assert.equal(await page.locator('[data-section="trend-table"] tbody tr').count(), phases.length);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, [], 'nothing from anywhere else');

  // Another template in the same store (no SSH, so no provisioning): chosen in the form, its own phases.
  const other = world('trends-other', w.db, [], { builders: [{ ...(template({ communicator: 'none', ssh_username: undefined }).builders as object[])[0], name: 'no-ssh' }] });
  assert.equal((await other.kiln(['build', '--json', other.template])).code, 0);
  await page.goto(`${url}trends`);
  await page.selectOption('select[name="t"]', { label: `${other.template} · no-ssh (1 build)` });
  await Promise.all([page.waitForURL(/\/trends\?t=/), page.click('form.filters button')]);
  const otherPhases = await page.$$eval('.chart', (charts) => charts.map((c) => c.getAttribute('data-phase')));
  assert.ok(otherPhases.includes('server.wait_running') && !otherPhases.includes('ssh.connect'), otherPhases.join(', '));

  for (const path of ['', `builds/${ids[0]}`, `builds/${ids[0]}/report.html`, 'trends']) {
    const text = await (await fetch(url + path)).text();
    assert.ok(!text.includes(SENSITIVE) && !text.includes(SECRET), `/${path} holds no secret`);
  }
  await page.close();
});
