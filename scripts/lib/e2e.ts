// One end-to-end image build against a simulator started in this process, by kiln (a child
// process, as a user runs it) or by Packer 1.6.6: wall time to an `available` image, the floor the
// simulator imposed on that build, and the API requests it made.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../src/sim/index.js';
import { EventStore } from '../../src/store/index.js';
import { PACKER, packerEnv } from './packer.js';
import { REPO_ROOT, runKiln, runProcess, waitedChildrenCpuMs, type ProcessResult } from './proc.js';
import { BENCH_ACCESS_KEY, BENCH_PROJECT, BENCH_TOKEN, marketplaceImageId, SimApi, ZONE } from './sim-api.js';


export interface BuildMeasurement {
  /** Process start to image `available` (kiln waits for it; for Packer we poll after it exits). */
  wallMs: number;
  /** The sum of the latencies the simulator imposed on this build's server. */
  floorMs: number;
  /** API requests the simulator served for this build. */
  apiCalls: number;
  /** The same, by route. */
  apiByRoute: Record<string, number>;
  /** kiln only: events in the build's log. */
  events?: number;
  peakRssKiB: number;
}

/** Where the CPU went during a kiln run (measured with measureRss), ms. */
export interface CpuSplit {
  /** The kiln process (the builds: API calls, SSH, the store, the display). */
  kiln: number;
  /** This process: the simulator (its API, its SSH server) and the bench. */
  simulator: number;
  /** This process's other children: the simulator's confined shells (the provisioners' commands) and disk copies (`cp`). */
  shells: number;
}

/** The environment of a kiln child pointed at `sim`: its own HOME and state dir, no real config. */
export function kilnEnv(sim: Pick<Simulator, 'apiUrl'>, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_STATE_HOME: join(home, 'state'),
    XDG_CONFIG_HOME: join(home, 'config'),
    SCW_API_URL: sim.apiUrl,
    SCW_SECRET_KEY: BENCH_TOKEN,
    SCW_DEFAULT_PROJECT_ID: BENCH_PROJECT,
    ...extra,
  };
}

/**
 * examples/basic.json as a user would adapt it to a simulator on this machine: the same builder
 * and provisioners, with the simulator's SSH port; `builders` copies of the builder (named b01…)
 * for parallel builds. Returns the template's path.
 */
export function writeKilnTemplate(dir: string, sshPort: number, builders = 1): string {
  mkdirSync(join(dir, 'files'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'examples', 'files', 'motd'), join(dir, 'files', 'motd'));
  const basic = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'basic.json'), 'utf8')) as { builders: Record<string, unknown>[] };
  const builder = { ...basic.builders[0]!, ssh_port: sshPort };
  basic.builders =
    builders === 1
      ? [builder]
      : Array.from({ length: builders }, (_, i) => {
          const name = `b${String(i + 1).padStart(2, '0')}`;
          return { ...builder, name, image_name: `kiln-bench-{{timestamp}}-${name}`, snapshot_name: `kiln-bench-{{timestamp}}-${name}-snap` };
        });
  const path = join(dir, builders === 1 ? 'basic.json' : `parallel-${builders}.json`);
  writeFileSync(path, JSON.stringify(basic, null, 2));
  return path;
}

/** examples/pro2-sbs.json (PRO2, SBS root with IOPS, one block volume) with the simulator's SSH port. */
export function writeSbsTemplate(dir: string, sshPort: number): string {
  mkdirSync(dir, { recursive: true });
  const sbs = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'pro2-sbs.json'), 'utf8')) as { builders: Record<string, unknown>[] };
  sbs.builders = [{ ...sbs.builders[0]!, ssh_port: sshPort }];
  const path = join(dir, 'pro2-sbs.json');
  writeFileSync(path, JSON.stringify(sbs, null, 2));
  return path;
}

function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [route, n] of Object.entries(after)) {
    const d = n - (before[route] ?? 0);
    if (d > 0) diff[route] = d;
  }
  return diff;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** `kiln build --json <template>` in a child process; fails loudly unless every build succeeded. `ids`: the builds it ran. */
export async function kilnBuild(
  sim: Simulator,
  template: string,
  home: string,
  options: { measureRss?: boolean; args?: string[] } = {},
): Promise<BuildMeasurement & { builds: number; ids: string[]; result: ProcessResult; cpu: CpuSplit }> {
  const db = join(home, 'kiln.db');
  const before = sim.requestCounts();
  const ownBefore = process.cpuUsage();
  const childrenBefore = waitedChildrenCpuMs();
  // A build that hangs (e.g. an SSH wait that never ends) must not hang the bench: 10 minutes at most.
  const result = await runKiln(['build', '--json', '--db', db, ...(options.args ?? []), template], { env: kilnEnv(sim, home), measureRss: options.measureRss, timeoutMs: 600_000 });
  const own = process.cpuUsage(ownBefore);
  const cpu: CpuSplit = {
    kiln: result.cpuMs,
    simulator: Math.round((own.user + own.system) / 1000),
    shells: Math.max(0, waitedChildrenCpuMs() - childrenBefore - result.cpuMs),
  };
  const apiByRoute = diffCounts(sim.requestCounts(), before);
  if (result.code !== 0) throw new Error(`kiln build exited ${result.code ?? result.signal}:\n${result.stderr.slice(-3000)}`);
  const ids = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const parsed = JSON.parse(line) as { buildId?: string; type?: string };
    if (parsed.type === 'build.started' && parsed.buildId) ids.add(parsed.buildId);
  }
  if (ids.size === 0) throw new Error(`kiln build --json printed no build.started event:\n${result.stdout.slice(0, 2000)}`);
  const store = EventStore.open(db);
  try {
    let floorMs = 0;
    let events = 0;
    for (const id of ids) {
      const serverId = store.getBuild(id)?.resources.server?.id;
      if (!serverId) throw new Error(`build ${id} recorded no server`);
      floorMs = Math.max(floorMs, sim.floorMs(serverId));
      events += store.events(id).length;
    }
    return { wallMs: result.wallMs, floorMs, apiCalls: total(apiByRoute), apiByRoute, events, peakRssKiB: result.peakRssKiB, builds: ids.size, ids: [...ids], result, cpu };
  } finally {
    store.close();
  }
}

/** The simulator's recorded floors (world.json in its state dir). Only Packer needs this: it prints no server id. */
function floorsOnDisk(stateDir: string): Record<string, number> {
  const world = JSON.parse(readFileSync(join(stateDir, 'world.json'), 'utf8')) as { floors?: Record<string, number> };
  return world.floors ?? {};
}

/** The same template (shell + file provisioners, same image and type) run by Packer 1.6.6; `provisioners` replace those. */
export async function packerBuild(sim: Simulator, simStateDir: string, home: string, run: number, provisioners?: readonly object[]): Promise<BuildMeasurement> {
  const api = new SimApi(sim.apiUrl);
  mkdirSync(home, { recursive: true });
  const motd = join(REPO_ROOT, 'examples', 'files', 'motd');
  const imageName = `packer-bench-${Date.now()}-${run}`;
  const template = {
    builders: [
      {
        type: 'scaleway',
        api_url: sim.apiUrl,
        secret_key: BENCH_TOKEN,
        access_key: BENCH_ACCESS_KEY,
        project_id: BENCH_PROJECT,
        image: await marketplaceImageId(sim, 'ubuntu_jammy', 'START1-S'),
        zone: ZONE,
        commercial_type: 'START1-S',
        ssh_username: 'root',
        ssh_port: sim.sshPort,
        image_name: imageName,
        snapshot_name: `${imageName}-snapshot`,
      },
    ],
    provisioners: provisioners ?? [
      { type: 'shell', inline: ["echo 'built by kiln from examples/basic.json' > /etc/kiln-release"] },
      { type: 'file', source: motd, destination: '/etc/motd' },
    ],
  };
  const templateFile = join(home, 'packer.json');
  writeFileSync(templateFile, JSON.stringify(template, null, 2));
  const floorsBefore = new Set(Object.keys(floorsOnDisk(simStateDir)));
  const before = sim.requestCounts();
  const started = performance.now();
  const result = await runProcess(PACKER, ['build', '-machine-readable', templateFile], {
    cwd: home,
    env: packerEnv(home),
    timeoutMs: 600_000,
  });
  const apiByRoute = diffCounts(sim.requestCounts(), before);
  if (result.code !== 0) throw new Error(`packer build exited ${result.code ?? result.signal}:\n${result.stdout.slice(-3000)}${result.stderr.slice(-2000)}`);
  const artifactId = /,artifact,0,id,([^\n]+)/.exec(result.stdout)?.[1];
  if (!artifactId) throw new Error(`packer printed no artifact id:\n${result.stdout.slice(-2000)}`);
  const imageId = artifactId.split(':').pop()!;
  // Packer 1.6.6 returns without waiting for the image: poll (every 20 ms) until it is available.
  for (;;) {
    const { image } = await api.ok<{ image: { state: string } }>('GET', `/images/${imageId}`);
    if (image.state === 'available') break;
    if (image.state === 'error') throw new Error(`Packer's image ${imageId} went to error`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const wallMs = performance.now() - started;
  const newFloors = Object.entries(floorsOnDisk(simStateDir)).filter(([id]) => !floorsBefore.has(id));
  if (newFloors.length !== 1) throw new Error(`expected one new server during the Packer build, saw ${newFloors.length}`);
  return { wallMs, floorMs: newFloors[0]![1], apiCalls: total(apiByRoute), apiByRoute, peakRssKiB: 0 };
}
