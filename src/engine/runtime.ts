// The phase runtime: what every phase of one run shares — its dependencies (the log, the client,
// the spec), the live state rebuilt on resume (the communicator, the server states this process
// saw), the two errors a phase fails with, secret scrubbing for everything it records, and the
// store's cache of the API's slow-changing answers (a zone's catalogue, a marketplace label).
// Nothing here knows a phase; the phases (phases/) and their protocol (tracked.ts, waits.ts) use it.
import type { BuildFacts, PhaseInput } from '../../machines/build.machine.js';
import type { PhaseName } from '../../machines/phases.js';
import type { ScalewayClient, ServerLooks, WaitRecord } from '../scaleway/index.js';
import type { Communicator } from '../ssh/index.js';
import type { BuildEvent, BuildRecord, EventType, MaybePromise, NewEvent } from '../store/index.js';
import { redactText, secretValuesOf } from '../template/redact.js';
import type { BuildSpec } from '../template/spec.js';
import { withKeyPassphrase } from './key-seal.js';
import type { CacheSettings } from './cache-settings.js';
import type { BuildLog } from './log.js';
import { WaitHistory } from './wait-history.js';

export interface EngineDeps {
  /** The build's log over its store: every append and read of the run goes through it (log.ts). */
  log: BuildLog;
  client: ScalewayClient;
  /** The full spec, secrets included: memory only. */
  spec: BuildSpec;
  buildId: string;
  /** Where the temporary key pair is kept (0600). */
  stateDir: string;
  /** KILN_KEY_PASSPHRASE: the temporary private key is sealed with it into `key.created` (memory only, never recorded). */
  keyPassphrase?: string;
  /** Skip the "image/snapshot name already exists" check (Packer's -force). */
  force: boolean;
  /** Connect here instead of the server's public IP port (the embedded simulator's SSH port). */
  sshPortOverride?: number;
  /** Shared by the builds of one process on one account: their server looks gathered into few calls. */
  serverLooks?: ServerLooks;
  /** Shared by the builds of one process: the past waits, read once, with the ones they finish added. */
  waitHistory?: WaitHistory;
  /** The build cache (incremental builds); none: off. */
  cache?: CacheSettings;
}

/** A failure the user must act on; never retried. */
export class BuildError extends Error {
  override name = 'BuildError';
  readonly retryable = false;
}

/** Retryable by the phase policy (until the phase's deadline): the machine says whether it tries again. */
export class TransientBuildError extends Error {
  override name = 'TransientError';
  readonly retryable = true;
}

/** A phase's implementation: what it does, given the facts earlier phases handed on; returns the facts it hands on. */
export type PhaseFn = (rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal) => Promise<BuildFacts>;

/** The engine's live state shared by the phases of one run (not persisted: rebuilt on resume). */
export class PhaseRuntime {
  communicator: Communicator | undefined;
  /**
   * The state this process last saw each server in (a create's answer, the end of a wait), so that
   * the next action need not ask again; an action refused because the state moved on asks then.
   */
  readonly serverStates = new Map<string, string>();
  private readonly secrets: string[];
  private readonly history: WaitHistory;

  constructor(readonly deps: EngineDeps) {
    this.secrets = withKeyPassphrase(secretValuesOf(deps.spec), deps.keyPassphrase);
    this.history = deps.waitHistory ?? new WaitHistory();
  }

  /** `data` with every secret value hidden: nothing secret may reach the log (provisioner output included). */
  scrub<T>(data: T): T {
    return scrubSecrets(data, this.secrets);
  }

  /**
   * Appends one event of this phase attempt (scrubbed) and returns it as stored. Resolves once it
   * is committed: an intent is awaited before the API call it announces.
   */
  async record(input: Pick<PhaseInput, 'phase' | 'attempt'>, type: EventType, data: NewEvent['data'] = {}): Promise<BuildEvent> {
    const [event] = await this.deps.log.append([{ type, phase: input.phase, attempt: input.attempt, data: this.scrub(data) }]);
    return event!;
  }

  /** Appends events not tied to a phase attempt (machine transitions, build.*), scrubbed, after every earlier append. */
  appendEvents(events: NewEvent[]): Promise<BuildEvent[]> {
    return this.deps.log.append(events.map((e) => ({ ...e, data: this.scrub(e.data ?? {}) })));
  }

  /** The latest event of `type` in this build's log (every earlier append included). */
  last(type: EventType): MaybePromise<BuildEvent | undefined> {
    return this.deps.log.read((store) => store.lastEvent(this.deps.buildId, type));
  }

  /** This build's events, provisioner output left out, as every earlier append left them. */
  events(): MaybePromise<BuildEvent[]> {
    return this.deps.log.read((store) => store.events(this.deps.buildId, { withoutOutput: true }));
  }

  /** The build's record, as every earlier append left it. */
  build(): MaybePromise<BuildRecord | undefined> {
    return this.deps.log.read((store) => store.getBuild(this.deps.buildId));
  }

  closeCommunicator(): void {
    this.communicator?.close();
    this.communicator = undefined;
  }

  /** The past waits of every build in the store, read once (at the first wait of this run, or of this process: WaitHistory). */
  waitHistory(): Promise<readonly WaitRecord[]> {
    return this.history.records(() => this.deps.log.read((store) => store.waitHistory()));
  }

  /** A wait this build just finished and recorded: the later waits of this process learn from it. */
  learn(record: WaitRecord): void {
    this.history.add(record);
  }
}

/** A deep copy of `value` with each secret inside a string replaced by the redaction placeholder. */
export function scrubSecrets<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** `v` when it is a non-empty string (event data and facts are loosely typed JSON). */
export const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The fact `key` an earlier phase handed on; its absence is kiln's own bug. */
export function requireFact(facts: BuildFacts, key: string, phase: PhaseName): string {
  const value = nonEmpty(facts[key]);
  if (!value) throw new BuildError(`internal: phase ${phase} needs "${key}" from an earlier phase, but the build has none`);
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when the template names its source image by id (otherwise it is a marketplace label). */
export const imageIsId = (spec: Pick<BuildSpec, 'image'>): boolean => UUID.test(spec.image);

// ---- the catalogue cache -------------------------------------------------------------------

/** How long a zone's catalogue and a marketplace label's image are taken from the store's cache. */
export const CATALOGUE_TTL_MS = 60 * 60_000;

/** The cache key of an answer of the API at `apiUrl` (a simulator's answers are not the cloud's). */
export function cacheKey(rt: PhaseRuntime, what: string): string {
  return `${rt.deps.spec.apiUrl} ${rt.deps.client.zone} ${what}`;
}

/** `fetch()`'s answer, taken from the store's cache while it is younger than `ttlMs` (default CATALOGUE_TTL_MS). */
export async function cachedAnswer<T>(rt: PhaseRuntime, key: string, fetch: () => Promise<T>, ttlMs = CATALOGUE_TTL_MS): Promise<{ value: T; cached: boolean }> {
  const hit = await rt.deps.log.read((store) => store.cached<T>(key));
  if (hit !== undefined) return { value: hit, cached: true };
  const value = await fetch();
  await rt.deps.log.read((store) => store.cache(key, value, ttlMs));
  return { value, cached: false };
}

/** The cache key of the image the template's marketplace label resolves to, for its server type. */
export const marketplaceKey = (rt: PhaseRuntime): string => cacheKey(rt, `marketplace ${rt.deps.spec.image} ${rt.deps.spec.commercialType.toUpperCase()}`);
