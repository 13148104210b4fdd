// What gc's integration tests start from: a simulator, a kiln database in a temp dir, and the
// leftovers of builds (killed, aborted, foreign, live, succeeded) made the way kiln makes them —
// real API calls with kiln's tags — plus untagged look-alikes. Nothing here is faked: the
// resources are in the simulator, the builds are rows in a real SQLite store.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient, type Server } from '../../src/scaleway/index.js';
import { EventStore, thisProcess, type NewEvent } from '../../src/store/index.js';
import { keyPath } from '../../src/engine/keys.js';
import { runKiln, type KilnResult } from '../helpers/cli.js';
import { startTestSimulator, type Simulator, type SimulatorOptions } from '../helpers/sim.js';

export const SECRET = '11111111-2222-4333-8444-555555555555';
export const PROJECT = '6a1c9c7e-7f3a-4a5e-9d1e-0c4b2f6e8a10';
export const ZONE = 'fr-par-1';

export interface GcWorld {
  sim: Simulator;
  dir: string;
  dbPath: string;
  env: NodeJS.ProcessEnv;
  client: (zone?: string) => ScalewayClient;
  gc: (...args: string[]) => Promise<KilnResult>;
  openStore: () => EventStore;
  /** Stops the simulator and starts another (same state dir, other options); gc follows it. */
  restartSim: (options: SimulatorOptions) => Promise<void>;
  close: () => Promise<void>;
}

export async function startGcWorld(options: SimulatorOptions = {}): Promise<GcWorld> {
  const sim = await startTestSimulator(options);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-gc-'));
  const dbPath = join(dir, 'kiln.db');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SCW_') || name.startsWith('SCALEWAY_')) delete env[name];
  Object.assign(env, {
    SCW_SECRET_KEY: SECRET,
    SCW_API_URL: sim.apiUrl,
    SCW_DEFAULT_ZONE: ZONE,
    SCW_CONFIG_PATH: join(dir, 'no-scw-config.yaml'),
    KILN_DB: dbPath,
    XDG_STATE_HOME: join(dir, 'state'),
  });
  const world: GcWorld = {
    sim,
    dir,
    dbPath,
    env,
    client: (zone = ZONE) => new ScalewayClient({ apiUrl: world.sim.apiUrl, zone, secretKey: SECRET, projectId: PROJECT }),
    gc: (...args) => runKiln(['gc', ...args], { env }),
    openStore: () => EventStore.open(dbPath),
    restartSim: async (next) => {
      await world.sim.close();
      world.sim = await startTestSimulator(next);
      env.SCW_API_URL = world.sim.apiUrl;
    },
    close: async () => {
      await world.sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export const kilnTags = (buildId: string, phase: string) => ['kiln', `kiln-build=${buildId}`, `kiln-phase=${phase}`];

/** A pid that belonged to a process of this host that has exited (a killed build). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** A build row as `kiln build` would have left it, with its key pair file in the state dir. */
export function recordBuild(
  world: GcWorld,
  id: string,
  end: 'killed' | 'failed' | 'succeeded' | 'live',
  options: { pid?: number; artifact?: { imageId: string; snapshotId: string } } = {},
): void {
  const store = world.openStore();
  try {
    store.createBuild(
      { id, templatePath: '/tmp/t.json', templateHash: 'h', builderName: 'scaleway', spec: { zone: ZONE }, onError: 'abort' },
      { type: 'build.started' },
    );
    const events: NewEvent[] = [];
    if (end === 'failed') events.push({ type: 'build.failed', data: { error: { name: 'ProvisionError', message: 'exit 1', retryable: false } } });
    if (end === 'succeeded') {
      const a = options.artifact!;
      events.push({ type: 'build.succeeded', data: { artifact: { imageId: a.imageId, imageName: 'img', snapshotId: a.snapshotId, snapshotName: 'snap', zone: ZONE } } });
    }
    if (events.length > 0) store.appendMany(id, events);
    if (end === 'killed') store.acquireLease(id, { ...thisProcess(), token: `killed-${options.pid!}`, pid: options.pid! }, 10 * 60_000);
    if (end === 'live') store.acquireLease(id, thisProcess(), 10 * 60_000);
  } finally {
    store.close();
  }
  const key = keyPath(world.dir, id);
  mkdirSync(join(world.dir, 'keys'), { recursive: true, mode: 0o700 });
  writeFileSync(key, 'not a real key\n', { mode: 0o600 });
  writeFileSync(`${key}.pub`, 'ssh-ed25519 AAAA test\n', { mode: 0o600 });
}

export const keyExists = (world: GcWorld, id: string) => existsSync(keyPath(world.dir, id));

/** Polls the simulator until the server reaches `state` (transitions take tens of ms there). */
export async function waitForState(client: ScalewayClient, id: string, state: string): Promise<Server> {
  for (let i = 0; i < 500; i++) {
    const server = await client.getServer(id);
    if (server.state === state) return server;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`server ${id} never reached ${state}`);
}

export async function waitForSnapshot(client: ScalewayClient, id: string): Promise<void> {
  for (let i = 0; (await client.getSnapshot(id)).state !== 'available'; i++) {
    if (i > 500) throw new Error(`snapshot ${id} never became available`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let imageIdCache: string | undefined;
async function sourceImage(client: ScalewayClient): Promise<string> {
  imageIdCache ??= (await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S')).id;
  return imageIdCache;
}

export interface Leftovers {
  serverId: string;
  rootVolumeId: string;
  snapshotId?: string;
  imageId?: string;
}

/**
 * A build's server (tagged at creation, root volume tagged right after, as the engine does),
 * optionally running, and optionally the snapshot and image a later phase made.
 */
export async function makeLeftovers(
  client: ScalewayClient,
  buildId: string,
  what: { running?: boolean; snapshot?: boolean; image?: boolean; tagVolume?: boolean; name?: string },
): Promise<Leftovers> {
  const server = await client.createServer({
    name: what.name ?? `packer-${buildId}`,
    commercial_type: 'DEV1-S',
    image: await sourceImage(client),
    tags: kilnTags(buildId, 'server.create'),
  });
  const rootVolumeId = server.volumes['0']!.id;
  if (what.tagVolume !== false) await client.updateVolume(rootVolumeId, { tags: kilnTags(buildId, 'server.create') });
  const out: Leftovers = { serverId: server.id, rootVolumeId };
  if (what.snapshot || what.image) {
    const snapshot = await client.createSnapshot({ name: `snap-${buildId}`, volume_id: rootVolumeId, tags: kilnTags(buildId, 'snapshot.create') });
    out.snapshotId = snapshot.id;
    await waitForSnapshot(client, snapshot.id);
    if (what.image) {
      const image = await client.createImage({ name: `img-${buildId}`, root_volume: snapshot.id, arch: 'x86_64', tags: kilnTags(buildId, 'image.create') });
      out.imageId = image.id;
    }
  }
  if (what.running) {
    await client.serverAction(server.id, 'poweron');
    await waitForState(client, server.id, 'running');
  }
  return out;
}

/** Raw API calls for what kiln's client does not create (detached volumes, IPs). */
export async function apiPost(world: GcWorld, zone: string, path: string, body: unknown): Promise<Record<string, { id: string }>> {
  const response = await fetch(`${world.sim.apiUrl}/instance/v1/zones/${zone}${path}`, {
    method: 'POST',
    headers: { 'X-Auth-Token': SECRET, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, { id: string }>;
}

/** Every resource id in the zone, by type: what "nothing changed" compares. */
export async function inventory(client: ScalewayClient): Promise<Record<string, string[]>> {
  const ids = (items: { id: string; state?: string }[]) => items.map((i) => `${i.id}:${i.state ?? ''}`).sort();
  return {
    servers: ids(await client.listServers()),
    volumes: ids(await client.listVolumes()),
    snapshots: ids(await client.listSnapshots()),
    images: ids(await client.listImages({ public: false })),
    ips: ids((await client.listIps()).map((ip) => ({ id: ip.id }))),
  };
}

/** Writes a one-builder template (the world's simulator, these shell lines) into the world's dir. */
export function writeShellTemplate(world: GcWorld, name: string, inline: string[]): string {
  const file = join(world.dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      builders: [
        { type: 'scaleway', secret_key: SECRET, project_id: PROJECT, image: 'ubuntu_jammy', zone: ZONE, commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: world.sim.sshPort },
      ],
      provisioners: [{ type: 'shell', inline }],
    }),
  );
  return file;
}
