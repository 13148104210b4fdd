// `npm run build && node dist/scripts/bench-ansible.js [--runs N]`: issue 29's speed ask. An
// `ansible` provisioner of 20 trivial tasks against the simulator (fast latencies), measured three
// ways, alternating, N runs each (median):
//   - kiln: `kiln build`, the provisioner's phase as kiln's event log times it (direct SSH);
//   - Packer 1.6.6: `packer build -machine-readable`, its `ansible` provisioner through its SSH
//     proxy, from "Provisioning with Ansible" to the next step (Packer's timestamps: 1 s steps);
//   - the floor: `ansible-playbook` run by hand over plain SSH against a server of the same
//     simulator (the same inventory kiln writes).
// Prints the figures and the ratios; asserts nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../src/sim/index.js';
import { generateKeyPair } from '../src/ssh/index.js';
import { EventStore } from '../src/store/index.js';
import { launchServer } from '../test/fixtures/sim-ssh/harness.js';
import { kilnEnv } from './lib/e2e.js';
import { PACKER, packerEnv, packerMissing } from './lib/packer.js';
import { runKiln, runProcess } from './lib/proc.js';
import { BENCH_ACCESS_KEY, BENCH_PROJECT, BENCH_TOKEN, marketplaceImageId, ZONE } from './lib/sim-api.js';
import { median, seconds } from './lib/stats.js';

const TASKS = 20;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

function writePlaybook(dir: string): string {
  const tasks = Array.from({ length: TASKS }, (_, i) => `    - name: trivial task ${i + 1}\n      command: /bin/true\n`).join('');
  const path = join(dir, 'twenty.yml');
  writeFileSync(path, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`);
  return path;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-ansible-'));
  const sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, stateDir: join(work, 'sim') });
  const playbook = writePlaybook(work);
  const kiln: number[] = [];
  const packer: number[] = [];
  const floor: number[] = [];
  let packerProblem = packerMissing || undefined;
  try {
    // The floor's server: launched once, as the SSH tests do (key in AUTHORIZED_KEY, poweron).
    const key = generateKeyPair('kiln-bench');
    const keyFile = join(work, 'floor-key');
    writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    const server = await launchServer(sim, key.publicKey, 'ubuntu_jammy');
    const inventory = join(work, 'floor-inventory');
    writeFileSync(inventory, `default ansible_host=${server.address} ansible_user=root ansible_port=${sim.sshPort}\n`);

    for (let run = 1; run <= RUNS; run++) {
      floor.push(await floorRun(playbook, inventory, keyFile));
      kiln.push(await kilnRun(sim, playbook, join(work, `kiln-${run}`), run));
      if (!packerProblem) {
        try {
          packer.push(await packerRun(sim, playbook, join(work, `packer-${run}`), run));
        } catch (err) {
          packerProblem = (err as Error).message;
        }
      }
      console.log(`run ${run}/${RUNS}: floor ${seconds(floor.at(-1)!, 2)}, kiln ${seconds(kiln.at(-1)!, 2)}${packer.length === run ? `, Packer ${seconds(packer.at(-1)!, 0)}` : ''}`);
    }
  } finally {
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  }
  const [f, k] = [median(floor), median(kiln)];
  console.log(`\nansible provisioner, ${TASKS} trivial tasks, median of ${RUNS}:`);
  console.log(`  ansible-playbook by hand over plain SSH (floor): ${seconds(f, 2)}`);
  console.log(`  kiln (direct):                                   ${seconds(k, 2)}  (${(k / f).toFixed(2)}× the floor)`);
  if (packer.length > 0) {
    const p = median(packer);
    console.log(`  Packer 1.6.6 (its SSH proxy):                    ${seconds(p, 0)}  (${(p / f).toFixed(2)}× the floor; Packer ÷ kiln = ${(p / k).toFixed(2)})`);
  }
  if (packerProblem) console.log(`  Packer 1.6.6: not measured: ${packerProblem.split('\n').slice(0, 6).join('\n    ')}`);
}

async function floorRun(playbook: string, inventory: string, keyFile: string): Promise<number> {
  const env = { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'False', PYTHONUNBUFFERED: '1' };
  const args = ['--ssh-extra-args', '-o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null', '-e', `ansible_ssh_private_key_file=${keyFile}`, '-i', inventory, playbook];
  const started = performance.now();
  const result = await runProcess('ansible-playbook', args, { env, timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`ansible-playbook by hand exited ${result.code}: ${result.stdout.slice(-2000)}`);
  return performance.now() - started;
}

/** kiln's provisioner phase, from its event log. */
async function kilnRun(sim: { apiUrl: string; sshPort: number }, playbook: string, home: string, run: number): Promise<number> {
  mkdirSync(home, { recursive: true });
  const template = join(home, 'ansible.json');
  writeFileSync(template, JSON.stringify({
    builders: [{ type: 'scaleway', image: 'ubuntu_jammy', zone: ZONE, commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: sim.sshPort, image_name: `kiln-ansible-bench-${run}` }],
    provisioners: [{ type: 'ansible', playbook_file: playbook }],
  }));
  const db = join(home, 'kiln.db');
  const result = await runKiln(['build', '--json', '--db', db, template], { env: kilnEnv(sim, home), timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`kiln build exited ${result.code}: ${result.stderr.slice(-2000)}`);
  const store = EventStore.open(db);
  try {
    const id = (await store.listBuilds())[0]!.id;
    const done = store.events(id).find((e) => e.type === 'phase.succeeded' && e.phase === 'provision' && e.data.provisionerIndex === 0);
    if (typeof done?.data.durationMs !== 'number') throw new Error('kiln recorded no duration for the provisioner');
    return done.data.durationMs;
  } finally {
    store.close();
  }
}

/** Packer's ansible provisioner, from its machine-readable timestamps (whole seconds). */
async function packerRun(sim: { apiUrl: string; sshPort: number }, playbook: string, home: string, run: number): Promise<number> {
  mkdirSync(home, { recursive: true });
  const name = `packer-ansible-bench-${run}`;
  const template = join(home, 'packer.json');
  writeFileSync(template, JSON.stringify({
    builders: [{
      type: 'scaleway', api_url: sim.apiUrl, secret_key: BENCH_TOKEN, access_key: BENCH_ACCESS_KEY, project_id: BENCH_PROJECT,
      image: await marketplaceImageId(sim, 'ubuntu_jammy', 'START1-S'), zone: ZONE, commercial_type: 'START1-S',
      ssh_username: 'root', ssh_port: sim.sshPort, image_name: name, snapshot_name: `${name}-snapshot`,
    }],
    // The known workarounds, without which Packer 1.6.6's proxy cannot serve today's OpenSSH
    // (ssh-rsa refused since OpenSSH 8.8: packer#12181; scp speaks SFTP since OpenSSH 9: #100).
    provisioners: [{ type: 'ansible', playbook_file: playbook, use_sftp: true, ansible_env_vars: ['ANSIBLE_SSH_ARGS=-o HostKeyAlgorithms=+ssh-rsa -o PubkeyAcceptedKeyTypes=+ssh-rsa -o ControlMaster=auto -o ControlPersist=60s'] }],
  }));
  const result = await runProcess(PACKER, ['build', '-machine-readable', template], { cwd: home, env: packerEnv(home), timeoutMs: 600_000 });
  const says = result.stdout.split('\n').filter((l) => /^\d+,[^,]*,ui,(say|message|error),/.test(l)).map((l) => ({ at: Number(l.split(',')[0]) * 1000, text: l.split(',').slice(4).join(',') }));
  if (result.code !== 0) throw new Error(`packer build exited ${result.code}: ${says.filter((s) => /UNREACHABLE|FAILED|fatal|refused|no matching/i.test(s.text)).concat(says.slice(-4)).map((s) => s.text.replace(/%!\(PACKER_COMMA\)/g, ',').replace(/\\n/g, ' ')).join(' | ')}`);
  // From "Provisioning with Ansible" to Packer's next step after the play's recap.
  const start = says.findIndex((s) => s.text.includes('Provisioning with Ansible'));
  const recap = says.findIndex((s, i) => i > start && s.text.includes('PLAY RECAP'));
  const end = says.findIndex((s, i) => i > recap && /^==> /.test(s.text));
  if (start < 0 || recap < 0 || end < 0) throw new Error('Packer printed no Ansible provisioning step');
  return says[end]!.at - says[start]!.at;
}

await main();
