// The screenshots of docs/screenshots/ (the README links them), made from real simulated builds:
// a team's history of builds on two CI runners (the simulator's boot gets slower half-way, and a
// provisioner too), a build killed on one runner and resumed on the other while image creates
// meet 5xx answers, a build that fails and keeps its server, and a build still running. Then the
// HTML report of two of them and the pages of `kiln ui`, in headless Chromium.
//
//   npm run build && node dist/scripts/screenshots.js [--out docs/screenshots]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { EventStore } from '../src/store/index.js';
import { launchChromium } from './lib/browser.js';
import { kilnEnv } from './lib/e2e.js';
import { freePort } from './lib/free-port.js';
import { asHost, hostnameUnavailableReason } from './lib/hostname.js';
import { kilnArgv, REPO_ROOT, runProcess, type ProcessResult } from './lib/proc.js';
import { spawn } from 'node:child_process';

const { values: flags } = parseArgs({ options: { out: { type: 'string', default: join(REPO_ROOT, 'docs', 'screenshots') } } });
const OUT = resolve(flags.out!);
const work = mkdtempSync(join(tmpdir(), 'kiln-screenshots-'));
const db = join(work, 'kiln.db');
const stateDir = join(work, 'sim');
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const PASSWORD = 'correct-horse-battery-staple';

/** The team's template: install a web server, upload its site, warm a cache (the pause varies). */
function writeTemplates(sshPort: number): { web: string; db: string } {
  mkdirSync(join(work, 'files'), { recursive: true });
  writeFileSync(join(work, 'files', 'site.conf'), 'server { listen 80; root /srv/www; }\n');
  const builder = { type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: sshPort };
  const web = {
    variables: { db_password: null, pause: '1' },
    'sensitive-variables': ['db_password'],
    builders: [
      {
        ...builder,
        name: 'web',
        image_name: 'web-{{timestamp}}',
        snapshot_name: 'web-{{timestamp}}-snap',
        kiln_phase_policy: { 'image.create': { initial_backoff: '400ms', max_backoff: '1s' } },
      },
    ],
    provisioners: [
      {
        type: 'shell',
        environment_vars: ['DB_PASSWORD={{user `db_password`}}'],
        inline: [
          "echo 'Reading package lists... Done'",
          "echo 'Building dependency tree... Done'",
          'sleep 0.3',
          "echo 'The following NEW packages will be installed: nginx nginx-common'",
          "echo 'Setting up nginx-common (1.22.1-9) ...'",
          "echo 'Setting up nginx (1.22.1-9) ...'",
          'echo "Configuring the database client (password: $DB_PASSWORD)"',
          "echo 'warning: no swap configured' >&2",
          'sleep 0.3',
          "echo 'nginx installed'",
        ],
      },
      { type: 'file', source: join(work, 'files', 'site.conf'), destination: '/tmp/site.conf' },
      { type: 'shell', inline: ["echo 'warming the page cache'", 'sleep {{user `pause`}}', "echo 'cache warm'"] },
    ],
  };
  const dbTemplate = {
    builders: [{ ...builder, name: 'db', image_name: 'db-{{timestamp}}', snapshot_name: 'db-{{timestamp}}-snap' }],
    provisioners: [{ type: 'shell', inline: ["echo 'Migrating the schema'", "echo 'psql: could not connect to server: Connection refused' >&2", 'exit 2'] }],
  };
  const paths = { web: join(work, 'web.json'), db: join(work, 'db.json') };
  writeFileSync(paths.web, JSON.stringify(web, null, 2));
  writeFileSync(paths.db, JSON.stringify(dbTemplate, null, 2));
  return paths;
}

const canRename = hostnameUnavailableReason() === undefined;
if (!canRename) log(`note: ${hostnameUnavailableReason()}; every build runs under this machine's name`);

/** `kiln <args>` as if on the machine `host` (when this machine lets a process take another name). */
function kilnOn(host: string, args: string[], sim: Simulator, env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  const argv = kilnArgv([...args, '--db', db]);
  const { command, args: full } = canRename ? asHost(host, process.execPath, argv) : { command: process.execPath, args: argv };
  return runProcess(command, full, { env: kilnEnv(sim, work, env), timeoutMs: 300_000 });
}

const buildIdOf = (r: ProcessResult) => (JSON.parse(r.stdout.split('\n')[0]!) as { buildId: string }).buildId;

async function sim(sshPort: number, latency: Record<string, number>, extra: { faults?: Record<string, Record<string, number>>; seed?: number } = {}): Promise<Simulator> {
  return startSimulator({ latency, stateDir, sshPort, port: 0, seed: extra.seed ?? 1, ...(extra.faults ? { faults: extra.faults } : {}) });
}

async function build(s: Simulator, host: string, template: string, vars: string[], env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<ProcessResult> {
  const r = await kilnOn(host, ['build', '--json', ...args, ...vars.flatMap((v) => ['--var', v]), template], s, env);
  log(`build on ${host}: exit ${r.code ?? r.signal} (${(r.wallMs / 1000).toFixed(1)} s)`);
  return r;
}

async function waitForLeaseExpiry(id: string): Promise<void> {
  const store = EventStore.open(db);
  try {
    const lease = store.getBuild(id)?.lease;
    const wait = lease ? lease.expiresAt - Date.now() + 500 : 0;
    if (wait > 0) {
      log(`waiting ${(wait / 1000).toFixed(0)} s for runner-a's lease to expire (its process was killed)`);
      await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    store.close();
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const sshPort = await freePort();
  const templates = writeTemplates(sshPort);
  const secret = `db_password=${PASSWORD}`;

  // 1. The history: eight builds, then the cloud's boot gets slower and the cache warm-up longer.
  let s = await sim(sshPort, { boot: 2500, stop: 1500 });
  for (let i = 0; i < 8; i++) await build(s, `ci-runner-${1 + (i % 2)}`, templates.web, [secret, `pause=${(0.8 + 0.1 * (i % 4)).toFixed(1)}`]);
  await s.close();
  s = await sim(sshPort, { boot: 4200, stop: 1500 });
  for (let i = 0; i < 4; i++) await build(s, `ci-runner-${1 + (i % 2)}`, templates.web, [secret, `pause=${(2.2 + 0.2 * (i % 3)).toFixed(1)}`]);
  await s.close();

  // 2. Killed on runner-a as its third provisioner starts, resumed on runner-b while half the image creates answer 5xx.
  s = await sim(sshPort, { boot: 4200, stop: 1500 }, { faults: { 'POST /images': { '5xx': 0.5 } }, seed: 7 });
  const killed = await build(s, 'runner-a', templates.web, [secret, 'pause=2.4'], { KILN_CRASH_AT: 'provisioner.started:3' });
  const killedId = buildIdOf(killed);
  await waitForLeaseExpiry(killedId);
  const resumed = await kilnOn('runner-b', ['resume', killedId, '--json', '--var', secret, '--var', 'pause=2.4'], s);
  log(`resume on runner-b: exit ${resumed.code}`);
  await s.close();

  // 3. A build that fails and keeps its server (what gc would remove), and one still running.
  s = await sim(sshPort, { boot: 4200, stop: 1500 });
  const failed = await build(s, 'ci-runner-2', templates.db, [], {}, ['--on-error', 'abort']);
  const failedId = buildIdOf(failed);
  const ui = spawn(process.execPath, kilnArgv(['ui', '--port', '0', '--db', db]), { cwd: REPO_ROOT, env: kilnEnv(s, work), stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolveUrl) => ui.stdout.setEncoding('utf8').on('data', (chunk: string) => /(http:\/\/\S+\/)/.test(chunk) && resolveUrl(/(http:\/\/\S+\/)/.exec(chunk)![1]!)));
  log(`kiln ui at ${url}`);

  const browser = await launchChromium({ width: 1280, height: 900 });
  try {
    const page = await browser.context.newPage();
    const shot = async (name: string, fullPage = true) => {
      await page.screenshot({ path: join(OUT, name), fullPage });
      log(`wrote ${join(OUT, name)}`);
    };

    // The running build, followed live (no reload) until its last provisioner.
    const running = kilnOn('ci-runner-1', ['build', '--json', '--var', secret, '--var', 'pause=20', templates.web], s);
    const store = EventStore.open(db);
    let runningId: string | undefined;
    try {
      while (!runningId) {
        runningId = store.listBuildSummaries({ status: 'running' })[0]?.id;
        if (!runningId) await new Promise((r) => setTimeout(r, 200));
      }
      await page.goto(`${url}builds/${runningId}`);
      await page.waitForSelector('rect.bar[data-provisioner="2"][data-outcome="running"]', { timeout: 120_000 });
      await page.waitForTimeout(4_000);
      await shot('ui-build-live.png', false);
    } finally {
      store.close();
    }
    await running;

    await page.goto(url);
    await shot('ui-builds.png', false);
    await page.goto(`${url}trends`);
    await page.waitForSelector('.uplot');
    await shot('ui-phase-durations.png');
    await page.goto(`${url}gc?older-than=0s`);
    await shot('ui-gc.png');

    // The reports, as `kiln show --html` writes them, opened from a file.
    for (const [id, name] of [
      [killedId, 'report-killed-resumed.png'],
      [failedId, 'report-failed.png'],
    ] as const) {
      const r = await kilnOn('ci-runner-1', ['show', id, '--html'], s);
      const file = join(work, `${id}.html`);
      writeFileSync(file, r.stdout);
      await page.goto(`file://${file}`);
      if (id === killedId) await page.click('details[data-provisioner="0"] > summary');
      await shot(name);
    }
  } finally {
    await browser.close();
    ui.kill('SIGTERM');
    await s.close();
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
