// `kiln show <id> --html` of real builds against the simulator, opened in headless Chromium from a
// file as a CI artifact is: no console error, no request; one bar per phase attempt, as long as
// the event log says; a build killed on one runner and resumed on another shows both stretches
// and both hosts; a sensitive variable a provisioner echoed appears nowhere in the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnavailableReason, launchChromium, type Browser } from '../../scripts/lib/browser.js';
import { hostnameUnavailableReason } from '../../scripts/lib/hostname.js';
import { EventStore, type BuildEvent } from '../../src/store/index.js';
import { template } from '../engine/harness.js';
import { runKiln, runKilnAs, type KilnResult } from '../helpers/cli.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const SENSITIVE = 'hunter2-never-in-a-report';
const noBrowser = chromiumUnavailableReason();

let browser: Browser;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
  if (!noBrowser) browser = await launchChromium();
}, { timeout: 120_000 });
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

/** A world for one test: its simulator, database and template; kiln runs with the simulator's credentials. */
async function world(t: { after: (fn: () => Promise<void>) => void }, name: string, sim: Simulator, tmpl: Record<string, unknown>) {
  t.after(() => sim.close());
  const root = join(dir, name);
  const w = { db: join(root, 'kiln.db'), template: join(root, 'template.json') };
  mkdirSync(root, { recursive: true });
  writeFileSync(w.template, JSON.stringify(tmpl));
  const env = { PATH: process.env.PATH, HOME: root, KILN_STATE_DIR: join(root, 'state'), SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const kiln = (args: string[], extra: Record<string, string> = {}) => runKiln([...args, '--db', w.db], { env: { ...env, ...extra } });
  const kilnAs = (host: string, args: string[], extra: Record<string, string> = {}) => runKilnAs(host, [...args, '--db', w.db], { env: { ...env, ...extra } });
  const events = (id: string): BuildEvent[] => {
    const store = EventStore.open(w.db);
    try {
      return store.events(id);
    } finally {
      store.close();
    }
  };
  return { ...w, kiln, kilnAs, events };
}

const idOf = (r: KilnResult) => (JSON.parse(r.stdout.split('\n')[0]!) as { buildId: string }).buildId;

/** Opens `html` from a file; returns the page and what it asked the network for and said on its console. */
async function openReport(html: string, name: string) {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  const url = `file://${file}`;
  await page.goto(url);
  await page.waitForLoadState('load');
  return { page, requests: requests.filter((r) => r !== url), errors };
}

/** The attempts the event log records, folded here independently of the report: each phase.started to what ended it. */
function attemptsOf(events: readonly BuildEvent[]): { phase: string; attempt: number; start: number; end: number }[] {
  const out: { phase: string; attempt: number; start: number; end: number }[] = [];
  let open: (typeof out)[number] | undefined;
  for (const e of events) {
    if (e.type === 'phase.started') out.push((open = { phase: e.phase!, attempt: e.attempt, start: Date.parse(e.at), end: NaN }));
    else if (open && ['phase.retrying', 'phase.succeeded', 'phase.failed'].includes(e.type)) {
      open.end = Date.parse(e.at);
      open = undefined;
    }
  }
  return out;
}

test('the report of a real build opens offline with no console error and no request; one bar per phase attempt, as long as the log says', { skip: noBrowser, timeout: 300_000 }, async (t) => {
  // With seed 7 the first POST /images answer 5xx: image.create is attempted several times.
  const sim = await startTestSimulator({ seed: 7, faults: { 'POST /images': { '5xx': 0.5 } } });
  const w = await world(t, 'attempts', sim, {
    ...template({ ssh_port: sim.sshPort, kiln_phase_policy: { 'image.create': { initial_backoff: '100ms', max_backoff: '500ms' } } }, [
      { type: 'shell', inline: ['echo installing', 'echo done'] },
      { type: 'shell', inline: ['echo second'] },
    ]),
  });
  const built = await w.kiln(['build', '--json', w.template]);
  assert.equal(built.code, 0, built.stderr);
  const id = idOf(built);
  const shown = await w.kiln(['show', id, '--html']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^<!doctype html>/);

  const { page, requests, errors } = await openReport(shown.stdout, 'attempts');
  assert.deepEqual(errors, [], 'no console error');
  assert.deepEqual(requests, [], 'no request beyond the file itself');

  const expected = attemptsOf(w.events(id));
  assert.ok(expected.filter((a) => a.phase === 'image.create').length >= 2, 'the injected 5xx made image.create retry');
  const bars = await page.$$eval('svg.gantt rect.bar', (rects) =>
    rects.map((r) => ({ phase: r.getAttribute('data-phase')!, attempt: Number(r.getAttribute('data-attempt')), start: Number(r.getAttribute('data-start-ms')), end: Number(r.getAttribute('data-end-ms')), width: r.getBoundingClientRect().width })),
  );
  assert.deepEqual(bars.map(({ phase, attempt, start, end }) => ({ phase, attempt, start, end })), expected);
  // Drawn on one scale: rendered width / duration is the same for every bar (long enough to measure).
  const scale = await page.$eval('svg.gantt', (svg) => (Number(svg.getAttribute('data-px-per-ms')) * svg.getBoundingClientRect().width) / Number(svg.getAttribute('viewBox')!.split(' ')[2]));
  for (const bar of bars) assert.ok(Math.abs(bar.width - (bar.end - bar.start) * scale) < 0.6, `${bar.phase} #${bar.attempt}: ${bar.width}px for ${bar.end - bar.start} ms at ${scale} px/ms`);
  assert.equal(await page.textContent('header [data-status]'), 'succeeded');
  // The API calls the build's process recorded: every request the simulator served it (first attempts and retries).
  const counted = w.events(id).find((e) => e.type === 'api.calls')!.data as { calls: number; retries: number };
  assert.equal(counted.calls + counted.retries, Object.values(sim.requestCounts()).reduce((a, b) => a + b, 0));
  assert.equal((await page.innerText('[data-card="api-calls"] dd')).split('\n')[0], String(counted.calls));
  await page.close();
});

test('a build killed on runner-a and resumed on runner-b shows both stretches, both hosts, the kill and the resume', { skip: noBrowser ?? hostnameUnavailableReason(), timeout: 300_000 }, async (t) => {
  const sim = await startTestSimulator();
  const w = await world(t, 'two-hosts', sim, template({ ssh_port: sim.sshPort }, [{ type: 'shell', inline: ['echo one'] }, { type: 'shell', inline: ['echo two'] }]));
  const killed = await w.kilnAs('runner-a', ['build', '--json', w.template], { KILN_CRASH_AT: 'provisioner.started:2' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const id = idOf(killed);
  // runner-b takes the lease at once, without waiting for it to expire: the two "hosts" are UTS
  // namespaces in one pid namespace, where a dead holder's pid frees its lease (checkLeaseFree).
  const resumed = await w.kilnAs('runner-b', ['resume', id, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);

  const shown = await w.kiln(['show', id, '--html']);
  const { page, errors } = await openReport(shown.stdout, 'two-hosts');
  assert.deepEqual(errors, []);
  const stretches = await page.$$eval('svg.gantt g.stretch', (gs) => gs.map((g) => [g.getAttribute('data-host'), g.getAttribute('data-end')]));
  assert.deepEqual(stretches, [['runner-a', 'killed'], ['runner-b', 'succeeded']]);
  assert.deepEqual(await page.$$eval('svg.gantt g.marker', (ms) => ms.map((m) => m.getAttribute('data-kind'))), ['killed', 'resumed']);
  // The provisioner the kill cut short, once per stretch.
  const second = await page.$$eval('rect.bar[data-provisioner="1"]', (rs) => rs.map((r) => [r.getAttribute('data-stretch'), r.getAttribute('data-outcome')]));
  assert.deepEqual(second, [['0', 'killed'], ['1', 'succeeded']]);
  assert.deepEqual(await page.$$eval('[data-section="runs"] td.host', (tds) => tds.map((td) => td.textContent)), ['runner-a', 'runner-b']);
  assert.equal(await page.textContent('[data-card="hosts"] dd'), 'runner-a, runner-b');
  await page.close();
});

test('a sensitive variable a provisioner echoed appears nowhere in the report; its line does, redacted', { skip: noBrowser, timeout: 300_000 }, async (t) => {
  const sim = await startTestSimulator();
  const w = await world(t, 'secret', sim, {
    variables: { db_password: null },
    'sensitive-variables': ['db_password'],
    ...template({ ssh_port: sim.sshPort }, [{ type: 'shell', environment_vars: ['DB_PASSWORD={{user `db_password`}}'], inline: ['echo "the password is $DB_PASSWORD"'] }]),
  });
  const built = await w.kiln(['build', '--json', '--var', `db_password=${SENSITIVE}`, w.template]);
  assert.equal(built.code, 0, built.stderr);
  const shown = await w.kiln(['show', idOf(built), '--html']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(!shown.stdout.includes(SENSITIVE), 'the secret is not in the HTML');
  assert.ok(!shown.stdout.includes(SECRET), 'nor the API secret key');
  const { page } = await openReport(shown.stdout, 'secret');
  await page.click('details[data-provisioner="0"] > summary');
  assert.equal((await page.innerText('details[data-provisioner="0"] pre')).trim(), 'the password is <sensitive>');
  await page.close();
});
