// The Scaleway-compatible simulator's public entry: starts the HTTP API (node:http, routing to
// routes/), the SSH gateway (ssh.ts) and the simulated world (simulation.ts), and stops all of them.
// Nothing in the product imports this except `kiln sim` and the engine's --sim mode.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveZone } from './catalog.js';
import { FaultInjector, parseFaults, type FaultSpec, type RolledFault } from './faults.js';
import type { SshGatewayLike } from './guest.js';
import { ApiError, deniedAuthentication, errorReply, invalidArguments, matchPattern, readBody, sendReply, type Reply } from './http.js';
import { LatencyModel, type LatencyOption, type Transition } from './latency.js';
import { parseQuotas, type QuotaSpec } from './quotas.js';
import { isRefusalKind, refusalFor } from './refusals.js';
import { BLOCK_ROUTES, ROUTES, type Route } from './routes/index.js';
import { Simulation } from './simulation.js';
import { SimSshGateway } from './ssh.js';
import { lockStateDir } from './state-lock.js';
import { emptyWorld, loadWorld } from './world-file.js';

export type { FaultSpec, RouteFaults, FaultKind } from './faults.js';
export type { QuotaSpec, QuotaKind } from './quotas.js';
export type { LatencyOption, Transition } from './latency.js';
export type { SshGatewayLike } from './guest.js';

export interface SimulatorOptions {
  /** API listen address, default 127.0.0.1. */
  host?: string;
  /** API port, 0 = ephemeral (the default here; `kiln sim` defaults to 4242). */
  port?: number;
  /** When set, X-Auth-Token must equal it; otherwise any non-empty token is accepted. */
  token?: string;
  /** 'fast' (default: tens of ms), 'realistic' (boot ~8 s, stop ~4 s, …) or per-transition ms
   *  (`boot`, `stop`, `snapshot`, `image`; missing keys take the fast value), as an object or JSON. */
  latency?: LatencyOption | string;
  /** Per-route fault probabilities, as JSON or an object (see faults.ts). */
  faults?: string | FaultSpec;
  /** The organization's quotas the simulator enforces, e.g. `{"snapshots": 2}` (see quotas.ts). */
  quotas?: string | QuotaSpec;
  /** Seed for faults and latency spread (default: random). */
  seed?: number;
  /** Keep the world (world.json + disks) here; it survives a restart. Default: a temp dir removed on close. */
  stateDir?: string;
  /** SSH port shared by every server address; 0 = pick a free port; undefined = 22 when bindable else 2222. */
  sshPort?: number;
  /** Run SSH commands without confinement (explicit opt-in only). */
  unconfined?: boolean;
  /** Replaces the SSH gateway (tests of the API alone). Default: SimSshGateway from ssh.ts. */
  sshGateway?: (options: { port: number; unconfined?: boolean }) => Promise<SshGatewayLike>;
  /** Transitions held from the start (see Simulator.hold), e.g. to find a restored one still pending. */
  hold?: Transition[];
  /** Where problems without a request to answer go (default: stderr). */
  log?: (line: string) => void;
}

export interface Simulator {
  /** e.g. http://127.0.0.1:39123 (no trailing slash). */
  apiUrl: string;
  sshPort: number;
  /** Stops HTTP, every SSH listener and background timer; removes the temp dir it made. */
  close(): Promise<void>;
  /** Per server: the sum of latencies the simulator imposed (the floor a perfect client reaches). */
  floorMs(serverId: string): number;
  /** The same, one entry per transition ("server.boot", "server.stop", "snapshot", "image"), in order. */
  floorParts(serverId: string): { kind: string; ms: number }[];
  /** The directory holding a volume's / snapshot's disk. */
  diskPathOfVolume(volumeId: string): string | undefined;
  diskPathOfSnapshot(snapshotId: string): string | undefined;
  /** Counts of API requests served, by "METHOD /route-pattern" (e.g. "GET /servers/{id}"; Block API routes as "GET /block/volumes/{id}"). With
   *  `tag`: only the requests whose JSON body carries that tag (e.g. a build's creates, by its
   *  `kiln-build=<id>` tag), so that one build's calls are counted among many. */
  requestCounts(tag?: string): Record<string, number>;
  /** Replaces the fault spec from the next request on (the cause of a refusal removed, say). */
  setFaults(faults: string | FaultSpec): void;
  /** Tests: transitions of these kinds complete only once released (a transient state, held). */
  hold(...transitions: Transition[]): void;
  release(...transitions: Transition[]): void;
}

const INSTANCE_PREFIX = /^\/instance\/v1\/zones\/([^/]+)(\/.*)?$/;
/** The Block Storage API: v1 and v1alpha1 are the same on the wire (reference/scaleway-modern-api.md §1). */
const BLOCK_PREFIX = /^\/block\/(?:v1|v1alpha1)\/zones\/([^/]+)(\/.*)?$/;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const log = options.log ?? ((line: string) => process.stderr.write(`kiln sim: ${line}\n`));
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const latency = new LatencyModel(options.latency, seed);
  const faults = new FaultInjector(parseFaults(options.faults), seed);
  const quotas = parseQuotas(options.quotas);

  const madeTempDir = options.stateDir === undefined;
  const dataDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'kiln-sim-')));
  mkdirSync(dataDir, { recursive: true });
  const stateFile = options.stateDir === undefined ? undefined : join(dataDir, 'world.json');
  const unlock = options.stateDir === undefined ? () => {} : lockStateDir(dataDir);
  let world;
  let gateway;
  try {
    world = (stateFile && loadWorld(stateFile)) || emptyWorld();
    const [a, b] = world.subnet;
    const sshPort = options.sshPort ?? ((await canListen(`127.${a}.${b}.1`, 22)) ? 22 : 2222);
    const startGateway = options.sshGateway ?? ((gatewayOptions) => SimSshGateway.start(gatewayOptions));
    gateway = await startGateway({ port: sshPort, unconfined: options.unconfined });
  } catch (error) {
    unlock();
    throw error;
  }

  const sim = new Simulation(world, { dataDir, stateFile, latency, quotas, gateway, log });
  sim.persist();
  if (options.hold) sim.transitions.hold(options.hold);
  await sim.resume();

  const counts: Record<string, number> = {};
  const countsByTag = new Map<string, Record<string, number>>();
  /** Slow answers being held back, released early by close(). */
  const slowTimers = new Map<NodeJS.Timeout, () => void>();
  let closing = false;
  let apiUrl = '';

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`request ${req.method} ${req.url} failed: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) sendReply(res, { status: 500, json: { type: 'internal_error', message: 'the simulator failed; see its log' } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    // Packer joins api_url + path as strings: a trailing slash in api_url gives `//` (which
    // URL parsing would also take for a host), so slashes are collapsed first.
    const url = new URL((req.url ?? '/').replace(/^[^?]*/, (p) => p.replace(/\/{2,}/g, '/')), 'http://simulator');
    const path = url.pathname.replace(/(.)\/$/, '$1');
    const instance = INSTANCE_PREFIX.exec(path);
    const block = instance ? null : BLOCK_PREFIX.exec(path);
    const zoned = instance ?? block;
    const zoneSegment = zoned?.[1];
    const routePath = zoned ? (zoned[2] ?? '') : path;
    const candidates = block ? BLOCK_ROUTES : ROUTES.filter((route) => Boolean(route.marketplace || route.absolute) === !instance);
    let route: Route | undefined;
    let params: Record<string, string> | undefined;
    let pathKnown = false;
    for (const candidate of candidates) {
      const match = matchPattern(candidate.pattern, routePath);
      if (!match) continue;
      pathKnown = true;
      if (candidate.method === method) {
        route = candidate;
        params = match;
        break;
      }
    }
    const body = await readBody(req);
    if (!route || !params) {
      sendReply(res, pathKnown
        ? { status: 405, json: { type: 'invalid_request_error', message: `method ${method} is not allowed on ${path}` } }
        : { status: 404, json: { type: 'not_found', message: `no such API path: ${method} ${path}` } });
      return;
    }

    // Block routes are counted and faulted apart from the Instance routes of the same shape.
    const routeKey = `${method} ${block ? '/block' : ''}${route.pattern}`;
    counts[routeKey] = (counts[routeKey] ?? 0) + 1;
    for (const tag of tagsOf(body)) {
      const byRoute = countsByTag.get(tag) ?? {};
      byRoute[routeKey] = (byRoute[routeKey] ?? 0) + 1;
      countsByTag.set(tag, byRoute);
    }
    const fault = faults.roll(routeKey, Boolean(route.marketplace));
    if (fault) {
      const early = await applyEarlyFault(fault, req);
      if (early === 'destroyed') return;
      if (early) return sendReply(res, early);
    }

    if (!route.marketplace) {
      const token = req.headers['x-auth-token'];
      if (typeof token !== 'string' || token === '' || (options.token !== undefined && token !== options.token))
        return sendReply(res, errorReply(deniedAuthentication()));
    }
    const zone = zoneSegment === undefined ? 'fr-par-1' : resolveZone(zoneSegment);
    if (!zone)
      return sendReply(res, errorReply(invalidArguments({ argument_name: 'zone', reason: 'constraint', help_message: `unknown zone ${zoneSegment}; use one of fr-par-1, fr-par-2, fr-par-3, nl-ams-1, nl-ams-2, nl-ams-3, pl-waw-1, pl-waw-2, pl-waw-3` })));

    if (fault && isRefusalKind(fault.kind)) {
      const api = instance ? 'instance' : block ? 'block' : 'other';
      return sendReply(res, errorReply(refusalFor(fault.kind, { method, pattern: route.pattern, api, zone, params, body }, sim)));
    }

    let reply: Reply;
    try {
      reply = await route.handle(sim, {
        zone,
        params,
        query: url.searchParams,
        body,
        ctx: { stuck: fault?.kind === 'stuck', failing: fault?.kind === 'error_state' },
        locationOf: (relative) => `${apiUrl}/instance/v1/zones/${zone}${relative}`,
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      reply = errorReply(error);
    }
    // The change happened; the client is told it failed (and must not blindly retry).
    const ghosted = (fault?.kind === 'ghost_create' && route.create) || (fault?.kind === 'ghost' && req.method !== 'GET');
    if (ghosted && reply.status < 300) reply = serverError(500);
    sendReply(res, reply);
  }

  async function applyEarlyFault(fault: RolledFault, req: IncomingMessage): Promise<Reply | 'destroyed' | undefined> {
    switch (fault.kind) {
      case 'reset':
        req.socket.destroy();
        return 'destroyed';
      case '5xx':
        return serverError(fault.serverErrorStatus);
      case '429':
        return { status: 429, json: { type: 'too_many_requests', message: 'rate limit exceeded' }, headers: { 'Retry-After': String(fault.retryAfter) } };
      case '429_no_retry_after':
        return { status: 429 };
      case 'slow':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            slowTimers.delete(timer);
            resolve();
          }, fault.slowMs);
          slowTimers.set(timer, resolve);
        });
        if (closing) {
          req.socket.destroy();
          return 'destroyed';
        }
        return undefined;
      default:
        return undefined; // ghost_create, ghost and stuck act during and after the handler
    }
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    // The port is taken: what was started goes, and the directory is free for a retry.
    await sim.close();
    await gateway.close();
    unlock();
    throw error;
  });
  const address = http.address() as net.AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  apiUrl = `http://${host}:${address.port}`;

  let closed: Promise<void> | undefined;
  return {
    apiUrl,
    sshPort: gateway.port,
    close() {
      closed ??= (async () => {
        closing = true;
        for (const [timer, release] of slowTimers) {
          clearTimeout(timer);
          release();
        }
        slowTimers.clear();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
        await sim.close();
        await gateway.close();
        unlock();
        if (madeTempDir) rmSync(dataDir, { recursive: true, force: true });
      })();
      return closed;
    },
    floorMs: (serverId) => sim.transitions.floorMs(serverId),
    floorParts: (serverId) => sim.transitions.floorParts(serverId),
    diskPathOfVolume: (volumeId) => (sim.volume(volumeId) ? sim.disks.volumeDir(volumeId) : undefined),
    diskPathOfSnapshot: (snapshotId) => (sim.snapshot(snapshotId) ? sim.disks.snapshotDir(snapshotId) : undefined),
    setFaults: (spec) => faults.replace(parseFaults(spec)),
    hold: (...transitions) => sim.transitions.hold(transitions),
    release: (...transitions) => sim.transitions.release(transitions),
    requestCounts: (tag) => ({ ...(tag === undefined ? counts : countsByTag.get(tag)) }),
  };
}

/** The tags a request body carries (creates and tag updates), or none. */
function tagsOf(body: string): string[] {
  if (!body.includes('"tags"')) return [];
  try {
    const tags = (JSON.parse(body) as { tags?: unknown }).tags;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/** Load balancers answer 5xx with whatever body they like; clients must not expect JSON. */
function serverError(status: number): Reply {
  return { status, text: `upstream error (${status})` };
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
