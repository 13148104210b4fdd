// `kiln build` with the ansible and ansible-local provisioners and the real ansible-playbook,
// against the simulator: what the plays write is in the image (a second build reads it back), a
// sensitive variable passed through extra_arguments never reaches the store, and a build killed
// (kill -9) in the middle of a play resumes to exactly one image, the play run again from its start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { EventStore } from '../../src/store/index.js';
import { template as templateOf } from '../engine/harness.js';
import { ansibleUnavailableReason, writePlaybookProject } from '../helpers/ansible.js';
import { runKiln, spawnKiln, startedBuildId, type KilnResult } from '../helpers/cli.js';
import { cloudOfBuild } from '../helpers/cloud.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const SECRET = '3f6a1c2e-8b4d-4e0f-9a7c-5d2b1e8f4a6c';
const PROJECT = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const SENSITIVE = 'db-pass-kiln-ansible-sensitive';
const noAnsible = ansibleUnavailableReason();

let sim: Simulator;
let dir: string;
let client: ScalewayClient;

before(async () => {
  if (noAnsible) return;
  sim = await startTestSimulator();
  dir = mkdtempSync(join(tmpdir(), 'kiln-ansible-build-'));
  client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
}, { timeout: 60_000 });
after(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

let n = 0;
function writeTemplate(extra: Record<string, unknown>, provisioners: unknown[], top: Record<string, unknown> = {}): string {
  const path = join(dir, `t${++n}.json`);
  writeFileSync(path, JSON.stringify({ ...top, ...templateOf({ ssh_port: sim.sshPort, image_name: `ansible-${n}`, snapshot_name: `ansible-${n}`, ...extra }, provisioners) }));
  return path;
}

function kiln(args: string[], db: string): Promise<KilnResult> {
  return runKiln([...args, '--db', db], { env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT } });
}

function outputLines(db: string, id: string): string[] {
  const store = EventStore.open(db);
  try {
    return store.events(id).filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
  } finally {
    store.close();
  }
}

test('ansible and ansible-local bake an image: a second build reads their files back; a sensitive extra argument stays out of the store', { skip: noAnsible, timeout: 600_000 }, async () => {
  const db = join(dir, 'bake.db');
  const remote = writePlaybookProject(join(dir, 'remote'), { hosts: 'builders' });
  const local = writePlaybookProject(join(dir, 'local'), { hosts: 'all', tarballUrl: 'file:///root/staging/packed.tar.gz' });
  const first = writeTemplate({}, [
    { type: 'shell', inline: ['mkdir -p /etc/kiln-ansible /etc/kiln-ansible-local'] },
    {
      type: 'ansible',
      playbook_file: remote.playbook,
      groups: ['builders'],
      extra_arguments: ['-e', 'greeting=hello', '-e', 'dest=/etc/kiln-ansible', '-e', 'db_token={{user `token`}}'],
      ansible_env_vars: ['KILN_ANSIBLE_MARK=env-ok'],
      galaxy_file: remote.requirements,
      roles_path: join(dir, 'remote', 'galaxy-roles'),
    },
    {
      type: 'ansible-local',
      playbook_file: local.playbook,
      playbook_dir: local.dir,
      staging_directory: '/root/staging',
      clean_staging_directory: true,
      galaxy_file: local.requirements,
      extra_arguments: ['-e', 'greeting=hi', '-e', 'dest=/etc/kiln-ansible-local'],
    },
  ], { variables: { token: SENSITIVE }, 'sensitive-variables': ['token'] });
  const baked = await kiln(['build', '--json', first], db);
  assert.equal(baked.code, 0, baked.stderr);
  const bakedId = startedBuildId(baked);
  const bakedLines = outputLines(db, bakedId);
  assert.ok(bakedLines.some((l) => l.includes('db_token=<sensitive>')), bakedLines.join('\n'));
  // Neither the log nor the terminal holds the sensitive value.
  const store = EventStore.open(db);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  for (const file of readdirSync(dir).filter((f) => f.startsWith('bake.db'))) assert.ok(!readFileSync(join(dir, file)).toString('latin1').includes(SENSITIVE), file);
  assert.ok(!baked.stdout.includes(SENSITIVE) && !baked.stderr.includes(SENSITIVE));

  const { images } = await cloudOfBuild(client, bakedId);
  const second = writeTemplate({ image: images[0]!.id }, [
    { type: 'shell', inline: ['cat /etc/kiln-ansible/motd /etc/kiln-ansible/handler /etc/kiln-ansible/packed /etc/kiln-ansible-local/motd /etc/kiln-ansible-local/packed', 'test ! -e /root/staging && echo staging-removed'] },
  ]);
  const read = await kiln(['build', '--json', second], db);
  assert.equal(read.code, 0, read.stderr);
  assert.deepEqual(outputLines(db, startedBuildId(read)), [
    'hello from default in builders, mark=env-ok',
    'ran',
    'installed by ansible-galaxy',
    'hi from 127.0.0.1 in ungrouped, mark=',
    'installed by ansible-galaxy',
    'staging-removed',
  ]);
});

test('kill -9 during a play: kiln resume runs the play again from its start and ends with exactly one image', { skip: noAnsible, timeout: 600_000 }, async () => {
  const db = join(dir, 'crash.db');
  const playbook = join(dir, 'crash.yml');
  // The first run is killed once its first task has run; were it not, its last task would wait.
  // The resumed run appends a second line, and goes through.
  writeFileSync(playbook, [
    '- hosts: all',
    '  gather_facts: false',
    '  tasks:',
    '    - shell: echo run >> /root/runs',
    '    - debug: { msg: kiln-play-running }',
    '    - shell: test "$(wc -l < /root/runs)" -ge 2 || sleep 600',
    '',
  ].join('\n'));
  const path = writeTemplate({}, [{ type: 'ansible', playbook_file: playbook }, { type: 'shell', inline: ['echo "runs: $(wc -l < /root/runs)"'] }]);
  const child = spawnKiln(['build', '--json', path, '--db', db], { env: { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT } });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('kiln-play-running')) child.kill('SIGKILL');
  });
  assert.equal(await killed, 'SIGKILL', `${stdout}\n${stderr}`);
  const id = startedBuildId({ code: null, signal: 'SIGKILL', stdout, stderr });
  const resumed = await kiln(['resume', id, '--json'], db);
  assert.equal(resumed.code, 0, resumed.stderr);
  const { servers, volumes, snapshots, images } = await cloudOfBuild(client, id);
  assert.deepEqual({ servers: servers.length, volumes: volumes.length, snapshots: snapshots.length, images: images.length }, { servers: 0, volumes: 0, snapshots: 1, images: 1 });
  // The play ran twice from its first task; the shell after it once.
  assert.ok(outputLines(db, id).includes('runs: 2'), outputLines(db, id).join('\n'));
});
