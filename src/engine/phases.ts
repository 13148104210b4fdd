// The phase actors: what each phase of the build machine does against the Scaleway API, the
// communicator and the provisioners. Every side effect follows DESIGN.md's crash-safety protocol:
// append an intent (awaited: committed, whichever store), call the API, append the result at once
// (the run's BuildLog keeps every append in order, log.ts); a phase whose intent has no result
// (a crash, an ambiguous answer) first looks the resource up by its tags before creating anything.
// Every actor is idempotent: XState restarts it on retry, and resume re-runs an unfinished phase.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fromPromise } from 'xstate';
import type { BuildFacts, PhaseActorLogic, PhaseInput } from '../../machines/build.machine.js';
import { cleanupPlan } from '../../machines/cleanup.js';
import type { PhaseName } from '../../machines/phases.js';
import { runProvisioner } from '../provision/index.js';
import {
  AmbiguousError,
  answerOf,
  NotFoundError,
  pollDelay,
  pollUntil,
  predictWait,
  sizeClassOf,
  sleep,
  type PollOptions,
  type ScalewayClient,
  type ServerLooks,
  type WaitKey,
  type WaitPrediction,
  type WaitRecord,
} from '../scaleway/index.js';
import type { Arch, Server } from '../scaleway/types.js';
import { authorizedKeyTag, connect, portAnswers, type Communicator } from '../ssh/index.js';
import { publicKeyOf } from '../ssh/keys.js';
import type { BuildEvent, BuildRecord, EventType, MaybePromise, NewEvent } from '../store/index.js';
import type { BuildLog } from './log.js';
import { redactText, secretValuesOf } from '../template/redact.js';
import type { BuildSpec } from '../template/spec.js';
import { fillBuildValues, type BuildValues } from '../template/functions.js';
import { crashAfterCall } from './crash.js';
import { WaitHistory } from './wait-history.js';
import { sealPrivateKey, withKeyPassphrase } from './key-seal.js';
import { deleteKeyPair, KeyUnavailableError, keyPath, loadOrCreateKeyPair, temporaryPrivateKey } from './keys.js';
import { machineCleanup, userDataWait } from './phases/machine.js';
import { checkNetworkSettings, deletePrivateNics, networkAttach } from './phases/network.js';
import { postprocess } from './postprocess.js';
import { buildTag, createdBy, resourceTags } from './tags.js';
import {
  checkVolumes,
  serverVolumes,
  deleteBlockVolume,
  imageExtraVolumes,
  serverVolumesRequest,
  tagServerVolumes,
  volumeFacts,
  volumeSnapshotsCreate,
  volumeSnapshotsWait,
  volumesCreate,
  volumesIops,
  waitBlockSnapshot,
} from './phases/volumes.js';

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

/** An ambiguous create that reconcile found nothing for: it did not happen, and may simply be tried again. */
export function notCreated(kind: string, error: AmbiguousError): TransientBuildError {
  const call = error.request ? `${error.request.method} ${error.request.path}` : `creating the ${kind}`;
  return new TransientBuildError(`${call} failed (${answerOf(error) ?? error.type}) and no ${kind} with the build's tags exists: it was not created`, {
    cause: error,
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
   * Appends one event of this phase attempt (scrubbed). Resolves once it is committed: an intent
   * is awaited before the API call it announces.
   */
  async record(input: Pick<PhaseInput, 'phase' | 'attempt'>, type: EventType, data: NewEvent['data'] = {}): Promise<void> {
    await this.deps.log.append([{ type, phase: input.phase, attempt: input.attempt, data: this.scrub(data) }]);
  }

  /** Appends events not tied to a phase attempt (machine transitions, build.*), scrubbed, after every earlier append. */
  appendEvents(events: NewEvent[]): Promise<BuildEvent[]> {
    return this.deps.log.append(events.map((e) => ({ ...e, data: this.scrub(e.data ?? {}) })));
  }

  /** The latest event of `type` in this build's log (every earlier append included). */
  last(type: EventType): MaybePromise<BuildEvent | undefined> {
    return this.deps.log.read((store) => store.lastEvent(this.deps.buildId, type));
  }

  /** The build's record, as every earlier append left it. */
  build(): MaybePromise<BuildRecord | undefined> {
    return this.deps.log.read((store) => store.getBuild(this.deps.buildId));
  }

  /** True when `intent` was appended after the last `result`: a call whose outcome is unknown. */
  async pendingIntent(intent: EventType, result: EventType): Promise<boolean> {
    return ((await this.last(intent))?.seq ?? 0) > ((await this.last(result))?.seq ?? 0);
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

/**
 * How long after its intent a create may still land. A request can be in flight when the
 * process dies or the client gives up (slow networks, queued requests): a lookup right after
 * would miss the resource and create it twice. So "not found" counts only once the intent is
 * this old; until then the lookup is repeated.
 */
export const CREATE_SETTLE_MS = 5_000;

/** Looks a possibly-created resource up by its tags until the create can no longer land. */
export async function reconcile<T>(rt: PhaseRuntime, intent: EventType, find: () => Promise<T | undefined>, signal: AbortSignal): Promise<T | undefined> {
  const intentAt = Date.parse((await rt.last(intent))?.at ?? '') || 0;
  const settledAt = intentAt + CREATE_SETTLE_MS;
  const startedAt = Date.now();
  for (;;) {
    const found = await find();
    if (found !== undefined || Date.now() >= settledAt) return found;
    await sleep(Math.min(pollDelay(Date.now() - startedAt), Math.max(0, settledAt - Date.now())), signal);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** A wait that begins this soon after the action that started its change saw all of it: a sample. */
const WHOLE_WAIT_MS = 2_000;

/** A wait on a state change, as `waitFor` runs it. */
export interface WaitOptions<T> {
  /** The kind of wait, the first part of its key: "server.boot", "snapshot", … */
  wait: string;
  /**
   * The result event of the action that started the change: its time is when the wait's clock
   * starts; its `apiStartedAt`, if any, is the API's stamp of the action (see apiDurationMs).
   */
  startedBy: EventType;
  /** What is waited for, for messages: "server s-1 to be running". */
  what: string;
  /** One look: the value when done, undefined when not yet (throws on a state that will not come right). */
  check: () => Promise<T | undefined>;
  /** The API's stamp of the change in the value a look found done (its `modification_date`), if it has one. */
  changedAt?: (value: T) => string | null | undefined;
  /** Parts of the key that differ from the build's server and root volume (e.g. an SBS volume's type and size). */
  key?: Partial<Omit<WaitKey, 'wait'>>;
  /** A sign of the change seen without the API, after a look missed (see PollOptions.sign). */
  sign?: PollOptions['sign'];
}

/** A wait as `beginWait` recorded it, for `finishWait`. */
interface WaitBegun {
  key: WaitKey;
  prediction: WaitPrediction | undefined;
  /** Epoch ms of the action's result event (kiln's clock). */
  startedAt: number;
  elapsedMs: number;
  whole: boolean;
  /** The API's stamp of the action, from the action's result event. */
  apiStartedAt: string | undefined;
}

/** The key and prediction of a wait, recorded as `wait.started`. */
async function beginWait(
  rt: PhaseRuntime,
  input: PhaseInput,
  o: Pick<WaitOptions<unknown>, 'wait' | 'what' | 'key'>,
  action: BuildEvent | undefined,
): Promise<WaitBegun> {
  const { spec } = rt.deps;
  const key: WaitKey = {
    wait: o.wait,
    zone: spec.zone,
    commercialType: spec.commercialType.toUpperCase(),
    volumeType: str(input.facts.rootVolumeType) ?? '',
    sizeClass: sizeClassOf(typeof input.facts.rootVolumeSize === 'number' ? input.facts.rootVolumeSize : undefined),
    ...o.key,
  };
  const prediction = predictWait(await rt.waitHistory(), key);
  const startedAt = action ? Date.parse(action.at) : Date.now();
  const elapsedMs = Math.max(0, Date.now() - startedAt);
  const whole = action !== undefined && elapsedMs <= WHOLE_WAIT_MS;
  await rt.record(input, 'wait.started', { key, what: o.what, elapsedMs, ...(prediction ?? {}) });
  return { key, prediction, startedAt, elapsedMs, whole, apiStartedAt: str(action?.data.apiStartedAt) };
}

/**
 * Records `wait.finished`: how long the change took on kiln's clock (to the look that saw it done,
 * and to the last look that did not), and on the API's clock when both of its stamps are known.
 */
async function finishWait(
  rt: PhaseRuntime,
  input: PhaseInput,
  w: WaitBegun,
  seen: { looks: number; lastMissAt?: number | undefined; changedAt?: string | null | undefined },
): Promise<void> {
  const apiDurationMs = Date.parse(seen.changedAt ?? '') - Date.parse(w.apiStartedAt ?? '');
  const finished: WaitRecord = {
    key: w.key,
    durationMs: Date.now() - w.startedAt,
    ...(seen.lastMissAt !== undefined ? { lastMissMs: seen.lastMissAt - w.startedAt } : {}),
    // A stamp of the change before the action's (a resource changed by something else): not this change.
    ...(apiDurationMs >= 0 ? { apiDurationMs } : {}),
    whole: w.whole,
  };
  await rt.record(input, 'wait.finished', {
    ...finished,
    looks: seen.looks,
    ...(w.prediction ? { expectedMs: w.prediction.expectedMs, spreadMs: w.prediction.spreadMs } : {}),
  });
  // The later waits of this process (the sibling builds' too) learn from it as the next process would.
  rt.learn(finished);
}

/**
 * Waits for a state change with the one polling schedule, fed with the prediction learnt from past
 * waits of the same key (none yet: the plain schedule). Records `wait.started` (key, prediction)
 * and `wait.finished` (how long it took), which later waits learn from. Every wait on a cloud
 * state change goes through here (or through `answeredWait` when the action's answer showed it done).
 */
export async function waitFor<T>(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, o: WaitOptions<T>): Promise<T> {
  const w = await beginWait(rt, input, o, await rt.last(o.startedBy));
  let lastMissAt: number | undefined;
  let looks = 0;
  let onSign = false;
  const value = await pollUntil(
    async (cause) => {
      looks++;
      const v = await o.check();
      if (v === undefined) lastMissAt = Date.now();
      else onSign = cause === 'sign';
      return v;
    },
    { signal, deadlineAt: input.phaseDeadlineAt, what: o.what, prediction: w.prediction, elapsedMs: w.elapsedMs, ...(o.sign ? { sign: o.sign } : {}) },
  );
  await finishWait(rt, input, w, {
    looks,
    // A look made on a sign saw the change as it came: the last miss (perhaps made only to learn
    // the server's address) says nothing of when it happened, and would pull the prediction early.
    lastMissAt: onSign ? undefined : lastMissAt,
    changedAt: o.changedAt?.(value),
  });
  return value;
}

/**
 * A wait whose change the action's own answer already showed done (an instance snapshot or an
 * image that Scaleway creates `available`): when the action's result event recorded `doneState`,
 * the wait is recorded as one of no look (it still counts in the history and shows in `kiln show`;
 * the state was read from the API's answer, so it is not asked again) and true is returned.
 */
export async function answeredWait(
  rt: PhaseRuntime,
  input: PhaseInput,
  o: Pick<WaitOptions<unknown>, 'wait' | 'startedBy' | 'what' | 'key'> & { doneState: string },
): Promise<boolean> {
  const answer = await rt.last(o.startedBy);
  if (answer?.data.state !== o.doneState) return false;
  const w = await beginWait(rt, input, o, answer);
  await finishWait(rt, input, w, { looks: 0, changedAt: str(answer.data.apiChangedAt) });
  return true;
}

export async function getServerOrMissing(rt: PhaseRuntime, input: PhaseInput, id: string, signal: AbortSignal): Promise<Server> {
  try {
    const { client, serverLooks } = rt.deps;
    return await (serverLooks ? serverLooks.look(client, id, { signal }) : client.getServer(id, { signal }));
  } catch (error) {
    if (error instanceof NotFoundError) {
      await rt.record(input, 'resource.missing', { kind: 'server', id });
      throw new BuildError(
        `server ${id} no longer exists (deleted outside kiln?). Its provisioning is lost: ` +
          `run \`kiln build\` again (and \`kiln gc --build ${rt.deps.buildId} --force\` to remove what is left).`,
      );
    }
    throw error;
  }
}

export function requireFact(facts: BuildFacts, key: string, phase: PhaseName): string {
  const value = str(facts[key]);
  if (!value) throw new BuildError(`internal: phase ${phase} needs "${key}" from an earlier phase, but the build has none`);
  return value;
}

/** How long a zone's catalogue and a marketplace label's image are taken from the store's cache. */
export const CATALOGUE_TTL_MS = 60 * 60_000;

/** The cache key of an answer of the API at `apiUrl` (a simulator's answers are not the cloud's). */
function cacheKey(rt: PhaseRuntime, what: string): string {
  return `${rt.deps.spec.apiUrl} ${rt.deps.client.zone} ${what}`;
}

/** `fetch()`'s answer, taken from the store's cache while it is younger than CATALOGUE_TTL_MS. */
async function cachedAnswer<T>(rt: PhaseRuntime, key: string, fetch: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
  const hit = await rt.deps.log.read((store) => store.cached<T>(key));
  if (hit !== undefined) return { value: hit, cached: true };
  const value = await fetch();
  await rt.deps.log.read((store) => store.cache(key, value, CATALOGUE_TTL_MS));
  return { value, cached: false };
}

const marketplaceKey = (rt: PhaseRuntime): string => cacheKey(rt, `marketplace ${rt.deps.spec.image} ${rt.deps.spec.commercialType.toUpperCase()}`);

// ---- the phases --------------------------------------------------------------------------

async function prepare(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, force } = rt.deps;
  // Checks that need the API, made before anything exists (the template loader made the offline ones).
  if (!spec.projectId && !spec.organizationId) {
    throw new BuildError(
      'no Scaleway project is set, and Scaleway creates every resource in a project: set project_id in the template, export SCW_DEFAULT_PROJECT_ID, or add default_project_id to your Scaleway config file',
    );
  }
  // The name checks do not depend on the others: in flight meanwhile, reported after them.
  const nameChecks = force
    ? undefined
    : Promise.all([client.listImages({ name: spec.imageName }, { signal }), client.listSnapshots({ name: spec.snapshotName }, { signal })]);
  nameChecks?.catch(() => undefined); // awaited below; a check failing first must not leave it unhandled
  const networkChecks = checkNetworkSettings(rt, signal);
  networkChecks.catch(() => undefined); // likewise
  // The zone's catalogue rarely changes: cached for a while, asked again before refusing a type.
  const catalogueKey = cacheKey(rt, 'products/servers');
  let { value: types, cached } = await cachedAnswer(rt, catalogueKey, () => client.listServerTypes({ signal }));
  if (!types[spec.commercialType.toUpperCase()] && cached) {
    await rt.deps.log.read((store) => store.uncache(catalogueKey));
    types = (await cachedAnswer(rt, catalogueKey, () => client.listServerTypes({ signal }))).value;
  }
  const type = types[spec.commercialType.toUpperCase()];
  if (!type) {
    const offered = Object.keys(types).sort();
    throw new BuildError(
      `commercial_type ${spec.commercialType} is not offered in ${client.zone}; the zone offers ${offered.join(', ')}. Set commercial_type to one of them`,
    );
  }
  let sourceImageId: string;
  let arch: Arch;
  if (UUID.test(spec.image)) {
    sourceImageId = spec.image;
    try {
      arch = (await client.getImage(spec.image, { signal })).arch;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      // Marketplace local images are not always visible through /images: fall back to the type's arch.
      arch = type.arch;
    }
  } else {
    // A label's image changes when a new release is published: cached for a while (and forgotten
    // if a server cannot be created from it).
    const resolved = (await cachedAnswer(rt, marketplaceKey(rt), () => client.resolveMarketplaceImage(spec.image, spec.commercialType, { signal }))).value;
    sourceImageId = resolved.id;
    arch = resolved.arch;
  }
  await networkChecks;
  const { rootVolumeType } = await checkVolumes(rt, { type, sourceImageId, signal });
  if (nameChecks) {
    // Packer refuses to build over an existing image or snapshot of the same name.
    const [imagesNamed, snapshotsNamed] = await nameChecks;
    const images = imagesNamed.filter((i) => i.name === spec.imageName && !createdBy(i.tags ?? [], rt.deps.buildId, 'image.create'));
    if (images.length > 0) {
      throw new BuildError(`an image named "${spec.imageName}" already exists (${images[0]!.id}); choose another image_name or pass --force`);
    }
    const snapshots = snapshotsNamed.filter((s) => s.name === spec.snapshotName && !createdBy(s.tags ?? [], rt.deps.buildId, 'snapshot.create'));
    if (snapshots.length > 0) {
      throw new BuildError(
        `a snapshot named "${spec.snapshotName}" already exists (${snapshots[0]!.id}); choose another snapshot_name or pass --force`,
      );
    }
  }
  // Which volume phases this build needs (the machine skips the others).
  return { sourceImageId, arch, rootVolumeType };
}

async function key(rt: PhaseRuntime, input: PhaseInput): Promise<BuildFacts> {
  const { spec, stateDir, buildId } = rt.deps;
  if (spec.communicator.type !== 'ssh') return {};
  if (spec.communicator.privateKeyFile) {
    // The user's own key: read at connect time, never copied. Its public half goes in the
    // AUTHORIZED_KEY tag, as a temporary key's does, so the server lets it in.
    const publicKey = publicKeyOf(readFileSync(spec.communicator.privateKeyFile, 'utf8'));
    return { keySource: 'file', ...(publicKey ? { authorizedKeyTag: authorizedKeyTag(publicKey) } : {}) };
  }
  const { pair, created } = loadOrCreateKeyPair(stateDir, buildId);
  // Recorded for a new pair, and for one written just before a crash that left no record of it.
  if (created || (await rt.last('key.created'))?.data.publicKey !== pair.publicKey) {
    const passphrase = rt.deps.keyPassphrase;
    const sealed = passphrase ? await sealPrivateKey(pair.privateKey, passphrase, buildId) : undefined;
    // The host says where the key is when it is not sealed (a resume elsewhere names it).
    await rt.record(input, 'key.created', { publicKey: pair.publicKey, host: hostname(), ...(sealed ? { sealed } : {}) });
  }
  return { keySource: 'temporary', authorizedKeyTag: authorizedKeyTag(pair.publicKey) };
}

async function serverCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId } = rt.deps;
  const tags = resourceTags(buildId, 'server.create', [...spec.tags, ...spec.serverTags]);
  const keyTag = str(input.facts.authorizedKeyTag);

  const found = async (): Promise<Server | undefined> => {
    const servers = await client.listServers({ tags: [buildTag(buildId)] }, { signal });
    return servers.find((s) => createdBy(s.tags, buildId, 'server.create'));
  };

  let server: Server | undefined;
  const recorded = (await rt.last('server.created'));
  // A server found missing on resume (deleted by hand before provisioning) is created anew.
  const lost = recorded && ((await rt.last('resource.missing'))?.seq ?? 0) > recorded.seq;
  if (recorded && !lost && !(await rt.pendingIntent('server.create.requested', 'server.created'))) {
    // The result is in the log (resume, or a retry after a later step of this phase failed).
    server = await getServerOrMissing(rt, input, String(recorded.data.serverId), signal);
  } else if ((await rt.pendingIntent('server.create.requested', 'server.created'))) {
    server = await reconcile(rt, 'server.create.requested', found, signal);
    if (server) await rt.record(input, 'server.created', { serverId: server.id, name: server.name, ...serverVolumes(server), reconciled: true });
  }
  if (!server) {
    const volumes = serverVolumesRequest(rt, input.facts);
    await rt.record(input, 'server.create.requested', { name: spec.serverName, tags, commercialType: spec.commercialType, ...(volumes ? { volumes } : {}) });
    try {
      server = await client.createServer(
        {
          name: spec.serverName,
          commercial_type: spec.commercialType,
          // A label goes as it is: the API picks the image's local or SBS variant for the root volume.
          image: UUID.test(spec.image) ? requireFact(input.facts, 'sourceImageId', 'server.create') : spec.image,
          ...(volumes ? { volumes } : {}),
          boot_type: spec.bootType,
          ...(spec.bootType === 'bootscript' && spec.bootscript ? { bootscript: spec.bootscript } : {}),
          tags: keyTag ? [...tags, keyTag] : tags,
          dynamic_ip_required: true,
          ...(spec.securityGroupId ? { security_group: spec.securityGroupId } : {}),
          ...(spec.adminPasswordEncryptionSshKeyId ? { admin_password_encryption_ssh_key_id: spec.adminPasswordEncryptionSshKeyId } : {}),
        },
        { signal },
      );
    } catch (error) {
      if (!(error instanceof AmbiguousError)) {
        // Perhaps the cached image of the label is gone: the next attempt resolves it afresh.
        await rt.deps.log.read((store) => store.uncache(marketplaceKey(rt)));
        throw error;
      }
      // The create may have happened: look for it before anything else.
      server = await reconcile(rt, 'server.create.requested', found, signal);
      if (!server) throw notCreated('server', error);
      await rt.record(input, 'server.created', { serverId: server.id, name: server.name, ...serverVolumes(server), reconciled: true });
    }
    crashAfterCall('server.created');
    if (!(await rt.last('server.created')) || (await rt.pendingIntent('server.create.requested', 'server.created'))) {
      await rt.record(input, 'server.created', { serverId: server.id, name: server.name, ...serverVolumes(server) });
    }
  }

  // Tag the volumes at once, so that gc finds them even if the server goes (PATCH: idempotent).
  await tagServerVolumes(rt, input, server, signal);
  for (const [k, value] of Object.entries(spec.userData)) {
    await client.setUserData(server.id, k, value, { signal });
  }
  rt.serverStates.set(server.id, server.state);
  // The root volume's type and size are part of the waits' keys (a bigger disk snapshots slower).
  const root = server.volumes?.['0'];
  return { serverId: server.id, ...volumeFacts(server), rootVolumeType: root?.volume_type ?? null, rootVolumeSize: root?.size ?? null };
}

/**
 * Powers the build's server on or off, once: skipped when it is already past `from` (a retry or a
 * resume after the action went through). The state this process last saw (a create's answer, the
 * end of a wait) saves asking for it; if the action is then refused because the state moved on
 * (a provisioner shut the server down), the retry asks.
 */
async function serverPower(
  rt: PhaseRuntime,
  input: PhaseInput,
  signal: AbortSignal,
  o: { action: 'poweron' | 'poweroff'; phase: 'server.start' | 'server.stop'; from: string[]; requested: EventType; accepted: EventType },
): Promise<string> {
  const serverId = requireFact(input.facts, 'serverId', o.phase);
  const seen = rt.serverStates.get(serverId);
  rt.serverStates.delete(serverId);
  const state = seen ?? (await getServerOrMissing(rt, input, serverId, signal)).state;
  if (!o.from.includes(state)) return state;
  await rt.record(input, o.requested, { serverId });
  // The API's stamp of the action (its task's start), which the wait after it measures from.
  let apiStartedAt: string | undefined;
  try {
    apiStartedAt = str((await rt.deps.client.serverAction(serverId, o.action, { signal })).started_at);
  } catch (error) {
    if (seen !== undefined && !(error instanceof AmbiguousError) && !signal.aborted) {
      throw new TransientBuildError(`${o.action} of server ${serverId} was refused (${(error as Error).message}): its state changed since this process last saw it`, { cause: error });
    }
    // A repeated action refused because an earlier attempt worked: check the state.
    if (!(error instanceof AmbiguousError)) throw error;
    const now = await getServerOrMissing(rt, input, serverId, signal);
    if (o.from.includes(now.state)) throw new TransientBuildError(`${o.action} of server ${serverId}: ${error.message}`, { cause: error });
  }
  crashAfterCall(o.accepted);
  await rt.record(input, o.accepted, { serverId, ...(apiStartedAt ? { apiStartedAt } : {}) });
  return state;
}

async function serverStart(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  await serverPower(rt, input, signal, {
    action: 'poweron',
    phase: 'server.start',
    from: ['stopped', 'stopped in place'],
    requested: 'server.poweron.requested',
    accepted: 'server.poweron.accepted',
  });
  return {};
}

async function serverWaitRunning(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const serverId = requireFact(input.facts, 'serverId', 'server.wait_running');
  const { communicator: c } = rt.deps.spec;
  let address: string | undefined;
  const server = await waitFor(rt, input, signal, {
    wait: 'server.boot',
    startedBy: 'server.poweron.accepted',
    what: `server ${serverId} to be running with a public IP`,
    changedAt: (s) => s.modification_date,
    // Once a look has shown the address, its SSH port answering says when `running` is worth a look.
    ...(c.type === 'ssh' ? { sign: (s: AbortSignal) => (address ? portAnswers(address, rt.deps.sshPortOverride ?? c.port, s) : undefined) } : {}),
    check: async () => {
      const s = await getServerOrMissing(rt, input, serverId, signal);
      address = s.public_ip?.address || undefined;
      if (s.state === 'running' && s.public_ip?.address) return s;
      if (s.state === 'stopped' || s.state === 'locked') {
        throw new BuildError(`server ${serverId} is ${s.state} (${s.state_detail || 'no detail'}) instead of booting`);
      }
      return undefined;
    },
  });
  rt.serverStates.set(serverId, 'running');
  await rt.record(input, 'server.running', { serverId, publicIp: server.public_ip!.address });
  return { publicIp: server.public_ip!.address };
}

/** Connects (or reuses the connection) to the build's server. */
export async function ensureCommunicator(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, deadlineAt: number | null): Promise<Communicator> {
  if (rt.communicator) return rt.communicator;
  const { spec, stateDir, buildId, sshPortOverride } = rt.deps;
  if (spec.communicator.type !== 'ssh') throw new BuildError('internal: no SSH communicator configured');
  const c = spec.communicator;
  // ssh_agent_auth: the keys of the running ssh-agent are offered too.
  const agent = c.agentAuth ? process.env.SSH_AUTH_SOCK : undefined;
  if (c.agentAuth && !agent) {
    throw new BuildError('ssh_agent_auth is true but SSH_AUTH_SOCK is not set: start an ssh-agent (eval $(ssh-agent); ssh-add) or remove ssh_agent_auth');
  }
  let privateKey: string | undefined;
  if (c.privateKeyFile) privateKey = readFileSync(c.privateKeyFile, 'utf8');
  else {
    try {
      privateKey = await temporaryPrivateKey({ stateDir, buildId, passphrase: rt.deps.keyPassphrase, created: await rt.last('key.created') });
    } catch (error) {
      if (!(error instanceof KeyUnavailableError)) throw error;
      // A password or an agent may still let the build in.
      if (!c.password && !agent) throw new BuildError(error.message);
    }
  }
  const host = requireFact(input.facts, 'publicIp', input.phase);
  const timeoutMs = deadlineAt !== null ? Math.max(1_000, deadlineAt - Date.now()) : c.timeoutMs;
  rt.communicator = await connect({
    host,
    port: sshPortOverride ?? c.port,
    username: c.username,
    privateKey,
    password: c.password,
    ...(agent ? { agent } : {}),
    timeoutMs,
    readWriteTimeoutMs: c.readWriteTimeoutMs,
    handshakeAttempts: c.handshakeAttempts,
    keepAliveIntervalMs: c.keepAliveIntervalMs || undefined,
    signal,
  });
  await rt.record(input, 'ssh.connected', { host, username: c.username });
  return rt.communicator;
}

async function sshConnect(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  return {};
}

/** Provisioner output is appended in batches: one event per flush, not one per line. */
export class OutputBatcher {
  private lines: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rt: PhaseRuntime,
    private readonly input: PhaseInput,
    private readonly index: number,
    private readonly maxLines = 50,
    private readonly maxDelayMs = 100,
  ) {}

  push(stream: 'stdout' | 'stderr', line: string): void {
    this.lines.push({ stream, line });
    // (Output is kept in order by the log; a failed append stops the build through the log's onFailure.)
    if (this.lines.length >= this.maxLines) void this.flush().catch(() => undefined);
    else this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.maxDelayMs);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    await this.rt.record(this.input, 'provision.output', { index: this.index, lines });
  }
}

async function provision(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { spec } = rt.deps;
  const provisioner = spec.provisioners[input.provisionerIndex];
  if (!provisioner) throw new BuildError(`internal: there is no provisioner #${input.provisionerIndex}`);
  const communicator = provisioner.type === 'shell-local' ? rt.communicator : await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  await rt.record(input, 'provisioner.started', { index: input.provisionerIndex, type: provisioner.type, templateIndex: provisioner.index });
  const batch = new OutputBatcher(rt, input, input.provisionerIndex);
  try {
    // The machine owns retries and timeouts (the provisioner's max_retries and timeout are its
    // policy), so the provisioner runs exactly one attempt here.
    await runProvisioner(
      fillBuildValues({ ...provisioner, maxRetries: 0, timeoutMs: 0, pauseBeforeMs: input.attempt === 1 ? provisioner.pauseBeforeMs : 0 }, buildValues(rt, input)),
      {
        communicator,
        buildName: spec.name,
        builderType: 'scaleway',
        signal,
        onOutput: (o) => batch.push(o.stream, o.line),
      },
    );
  } catch (error) {
    // A dropped connection is re-made by the next attempt.
    if ((error as { retryable?: boolean }).retryable) rt.closeCommunicator();
    throw error;
  } finally {
    await batch.flush();
  }
  await rt.record(input, 'provisioner.succeeded', { index: input.provisionerIndex });
  return {};
}

// `{{build \`X\`}}` in a provisioner: what Packer's build.* would give once the server is up.
function buildValues(rt: PhaseRuntime, input: PhaseInput): BuildValues {
  const { spec, buildId, stateDir, sshPortOverride } = rt.deps;
  const ssh = spec.communicator.type === 'ssh' ? spec.communicator : undefined;
  let publicKey = '';
  try {
    publicKey = readFileSync(`${keyPath(stateDir, buildId)}.pub`, 'utf8').trim();
  } catch {
    // A private key given in the template, or no SSH: there is no temporary public key to show.
  }
  return {
    ID: String(input.facts.serverId ?? ''),
    Host: String(input.facts.publicIp ?? ''),
    Port: ssh ? String(sshPortOverride ?? ssh.port) : '',
    User: ssh?.username ?? '',
    SSHPublicKey: publicKey,
    PackerRunUUID: buildId,
    ConnType: spec.communicator.type,
  };
}

async function serverStop(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  rt.closeCommunicator();
  const state = await serverPower(rt, input, signal, {
    action: 'poweroff',
    phase: 'server.stop',
    from: ['running', 'stopped in place'],
    requested: 'server.poweroff.requested',
    accepted: 'server.poweroff.accepted',
  });
  if (state === 'starting') {
    throw new TransientBuildError(`server ${input.facts.serverId} is still starting; it is powered off once running`);
  }
  return {};
}

async function serverWaitStopped(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const serverId = requireFact(input.facts, 'serverId', 'server.wait_stopped');
  await waitFor(rt, input, signal, {
    wait: 'server.stop',
    startedBy: 'server.poweroff.accepted',
    what: `server ${serverId} to stop`,
    changedAt: (s) => s.modification_date,
    check: async () => {
      const s = await getServerOrMissing(rt, input, serverId, signal);
      if (s.state === 'stopped') return s;
      if (s.state === 'running') throw new TransientBuildError(`server ${serverId} is running again instead of stopping`);
      return undefined;
    },
  });
  rt.serverStates.set(serverId, 'stopped');
  await rt.record(input, 'server.stopped', { serverId });
  return {};
}

/** A create's answer, as far as the create protocol records it. */
interface CreatedAnswer {
  id: string;
  name: string;
  state?: string;
  creation_date?: string | null;
  modification_date?: string | null;
}

/** The create protocol shared by snapshot.create and image.create. */
async function createTracked(
  rt: PhaseRuntime,
  input: PhaseInput,
  signal: AbortSignal,
  o: {
    phase: PhaseName;
    intent: EventType;
    result: EventType;
    idKey: 'snapshotId' | 'imageId';
    name: string;
    list: () => Promise<{ id: string; name: string; tags: string[] }[]>;
    create: (tags: string[]) => Promise<CreatedAnswer>;
    requestData: Record<string, unknown>;
    /** Added to the result event (e.g. `api: "block"`). */
    resultData?: Record<string, unknown>;
  },
): Promise<string> {
  const { buildId, spec } = rt.deps;
  const tags = resourceTags(buildId, o.phase, spec.tags);
  const find = async () => (await o.list()).find((r) => createdBy(r.tags ?? [], buildId, o.phase));
  const recorded = (await rt.last(o.result));
  if (recorded && !(await rt.pendingIntent(o.intent, o.result))) return String(recorded.data[o.idKey]);
  if ((await rt.pendingIntent(o.intent, o.result))) {
    const existing = await reconcile(rt, o.intent, find, signal);
    if (existing) {
      await rt.record(input, o.result, { [o.idKey]: existing.id, name: existing.name, ...o.resultData, reconciled: true });
      return existing.id;
    }
  }
  await rt.record(input, o.intent, { name: o.name, tags, ...o.requestData });
  let created: CreatedAnswer;
  try {
    created = await o.create(tags);
  } catch (error) {
    if (!(error instanceof AmbiguousError)) throw error;
    const existing = await reconcile(rt, o.intent, find, signal);
    if (!existing) throw notCreated(o.result.split('.')[0]!.replace('_', ' '), error);
    await rt.record(input, o.result, { [o.idKey]: existing.id, name: existing.name, ...o.resultData, reconciled: true });
    return existing.id;
  }
  crashAfterCall(o.result);
  await rt.record(input, o.result, {
    [o.idKey]: created.id,
    name: created.name,
    ...o.resultData,
    // What the answer said: the wait after it needs no look when it is already done.
    ...(str(created.state) ? { state: created.state } : {}),
    ...(str(created.creation_date) ? { apiStartedAt: created.creation_date } : {}),
    ...(str(created.modification_date) ? { apiChangedAt: created.modification_date } : {}),
  });
  return created.id;
}

async function snapshotCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec } = rt.deps;
  const volumeId = requireFact(input.facts, 'rootVolumeId', 'snapshot.create');
  // An SBS root is snapshotted through the Block API, an l_ssd one through the Instance API.
  const block = input.facts.rootVolumeApi === 'block';
  const snapshotId = await createTracked(rt, input, signal, {
    phase: 'snapshot.create',
    intent: 'snapshot.create.requested',
    result: 'snapshot.created',
    idKey: 'snapshotId',
    name: spec.snapshotName,
    requestData: { volumeId, ...(block ? { api: 'block' } : {}) },
    ...(block ? { resultData: { api: 'block' } } : {}),
    list: () => {
      const filter = { tags: [buildTag(rt.deps.buildId)] };
      return block ? client.block.listSnapshots(filter, { signal }) : client.listSnapshots(filter, { signal });
    },
    create: (tags) =>
      block
        ? client.block.createSnapshot({ name: spec.snapshotName, volume_id: volumeId, tags }, { signal }).then((b) => ({ id: b.id, name: b.name, creation_date: b.created_at }))
        : client.createSnapshot({ name: spec.snapshotName, volume_id: volumeId, tags }, { signal }),
  });
  return { snapshotId };
}

async function snapshotWait(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const snapshotId = requireFact(input.facts, 'snapshotId', 'snapshot.wait');
  if (input.facts.rootVolumeApi === 'block') {
    await waitBlockSnapshot(rt, input, snapshotId, signal, 'snapshot.created');
    await rt.record(input, 'snapshot.available', { snapshotId });
    return {};
  }
  const wait = { wait: 'snapshot', startedBy: 'snapshot.created', what: `snapshot ${snapshotId} to be available` } as const;
  if (!(await answeredWait(rt, input, { ...wait, doneState: 'available' }))) {
    await waitFor(rt, input, signal, {
      ...wait,
      changedAt: (s) => s.modification_date,
      check: async () => {
        const s = await rt.deps.client.getSnapshot(snapshotId, { signal });
        if (s.state === 'available') return s;
        if (s.state === 'error') throw new BuildError(`snapshot ${snapshotId} failed: ${s.error_details ?? 'state error'}`);
        return undefined;
      },
    });
  }
  await rt.record(input, 'snapshot.available', { snapshotId });
  return {};
}

async function imageCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec } = rt.deps;
  const snapshotId = requireFact(input.facts, 'snapshotId', 'image.create');
  const arch = requireFact(input.facts, 'arch', 'image.create') as Arch;
  const extraVolumes = imageExtraVolumes(input.facts);
  const imageId = await createTracked(rt, input, signal, {
    phase: 'image.create',
    intent: 'image.create.requested',
    result: 'image.created',
    idKey: 'imageId',
    name: spec.imageName,
    requestData: { snapshotId, arch, ...(extraVolumes ? { extraVolumes } : {}) },
    list: () => client.listImages({ tags: [buildTag(rt.deps.buildId)] }, { signal }),
    create: (tags) =>
      client.createImage(
        {
          name: spec.imageName,
          root_volume: snapshotId,
          ...(extraVolumes ? { extra_volumes: extraVolumes } : {}),
          arch,
          tags,
          ...(spec.bootType === 'bootscript' && spec.bootscript ? { default_bootscript: spec.bootscript } : {}),
        },
        { signal },
      ),
  });
  return { imageId };
}

async function imageWait(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const imageId = requireFact(input.facts, 'imageId', 'image.wait');
  const wait = { wait: 'image', startedBy: 'image.created', what: `image ${imageId} to be available` } as const;
  if (!(await answeredWait(rt, input, { ...wait, doneState: 'available' }))) {
    await waitFor(rt, input, signal, {
      ...wait,
      changedAt: (i) => i.modification_date,
      check: async () => {
        const i = await rt.deps.client.getImage(imageId, { signal });
        if (i.state === 'available') return i;
        if (i.state === 'error') throw new BuildError(`image ${imageId} failed to become available`);
        return undefined;
      },
    });
  }
  await rt.record(input, 'image.available', { imageId });
  return {};
}

/** Deletes a resource, treating "already gone" as done. */
async function deleteTracked(
  rt: PhaseRuntime,
  input: PhaseInput,
  kind: 'image' | 'snapshot' | 'volume',
  id: string,
  call: () => Promise<void>,
  api?: 'block',
): Promise<void> {
  const idKey = `${kind}Id`;
  const where = api ? { api } : {};
  await rt.record(input, `${kind}.delete.requested` as EventType, { [idKey]: id, ...where });
  let alreadyGone = false;
  try {
    await call();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    alreadyGone = true;
  }
  crashAfterCall(`${kind}.deleted`);
  await rt.record(input, `${kind}.deleted` as EventType, { [idKey]: id, ...where, ...(alreadyGone ? { alreadyGone } : {}) });
}

async function deleteServer(rt: PhaseRuntime, input: PhaseInput, serverId: string, signal: AbortSignal): Promise<void> {
  const { client } = rt.deps;
  await rt.record(input, 'server.delete.requested', { serverId });
  let terminated = false;
  // Seen stopped by this process (the build's own wait): delete it without asking first.
  const seen = rt.serverStates.get(serverId);
  rt.serverStates.delete(serverId);
  let deleted = false;
  if (seen === 'stopped') {
    try {
      await client.deleteServer(serverId, { signal });
      deleted = true;
    } catch (error) {
      // Gone already is done; any other refusal (its state moved on): the careful way below.
      deleted = error instanceof NotFoundError;
      if (signal.aborted) throw error;
    }
  }
  // Scaleway deletes only a stopped server; a running one (a failure during provisioning) is
  // terminated, which stops it and removes it with its local volumes. Starting/stopping: wait.
  if (!deleted) await pollUntil(
    async () => {
      let s: Server;
      try {
        s = await client.getServer(serverId, { signal });
      } catch (error) {
        if (error instanceof NotFoundError) return true;
        throw error;
      }
      if (s.state === 'stopped' || s.state === 'stopped in place') {
        try {
          await client.deleteServer(serverId, { signal });
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
        return true;
      }
      if (s.state === 'running' && !terminated) {
        await client.serverAction(serverId, 'terminate', { signal });
        terminated = true;
      }
      return undefined;
    },
    { signal, deadlineAt: input.phaseDeadlineAt, what: `server ${serverId} to be deleted` },
  );
  crashAfterCall('server.deleted');
  await rt.record(input, 'server.deleted', { serverId, ...(terminated ? { terminated } : {}) });
}

async function cleanup(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId, stateDir } = rt.deps;
  rt.closeCommunicator();
  // The log is the authority on what exists (it includes results reconciled on resume).
  const resources = (await rt.build())?.resources ?? {};
  const alive = <T extends { id: string; deleted?: boolean }>(r: T | undefined) => (r && !r.deleted ? r.id : undefined);
  const notDeleted = <T extends { deleted?: boolean }>(refs: T[] | undefined) => (refs ?? []).filter((r) => !r.deleted);
  const steps = cleanupPlan(
    {
      serverId: alive(resources.server),
      volumes: notDeleted(resources.volumes),
      snapshots: notDeleted([...(resources.snapshot ? [resources.snapshot] : []), ...(resources.volumeSnapshots ?? [])]),
      imageId: alive(resources.image),
    },
    input.reason,
    spec.removeVolume,
  );
  // keep_server: after success the server stays with its volumes and NICs, recorded as kept.
  const keep = input.reason === 'success' && spec.keepServer && resources.server !== undefined && !resources.server.deleted;
  if (keep && !resources.server!.kept) await rt.record(input, 'server.kept', { serverId: resources.server!.id, volumeIds: (resources.volumes ?? []).filter((v) => !v.deleted).map((v) => v.id) });
  const serverStep = steps.find((step) => step.kind === 'server');
  if (serverStep && !keep) await deletePrivateNics(rt, input, serverStep.id, signal);
  for (const step of steps) {
    if (keep && (step.kind === 'server' || step.kind === 'volume')) continue;
    if (step.kind === 'image') await deleteTracked(rt, input, 'image', step.id, () => client.deleteImage(step.id, { signal }));
    else if (step.kind === 'snapshot' && step.api === 'block')
      await deleteTracked(rt, input, 'snapshot', step.id, () => client.block.deleteSnapshot(step.id, { signal }), 'block');
    else if (step.kind === 'snapshot') await deleteTracked(rt, input, 'snapshot', step.id, () => client.deleteSnapshot(step.id, { signal }));
    else if (step.kind === 'server') await deleteServer(rt, input, step.id, signal);
    else if (step.api === 'block') await deleteBlockVolume(rt, input, step.id, signal);
    else {
      // (A terminated server took its local volumes along: the delete then finds nothing.)
      await deleteTracked(rt, input, 'volume', step.id, () => client.deleteVolume(step.id, { signal }));
    }
  }
  if (deleteKeyPair(stateDir, buildId)) await rt.record(input, 'key.deleted', {});
  return {};
}

type PhaseFn = (rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal) => Promise<BuildFacts>;

const IMPLEMENTATIONS: Record<PhaseName, PhaseFn> = {
  prepare,
  key,
  'volumes.create': volumesCreate,
  'server.create': serverCreate,
  'volumes.iops': volumesIops,
  'server.start': serverStart,
  'server.wait_running': serverWaitRunning,
  'network.attach': networkAttach,
  'ssh.connect': sshConnect,
  provision,
  'user_data.wait': userDataWait,
  'machine.cleanup': machineCleanup,
  'server.stop': serverStop,
  'server.wait_stopped': serverWaitStopped,
  'snapshot.create': snapshotCreate,
  'snapshot.wait': snapshotWait,
  'volume_snapshots.create': volumeSnapshotsCreate,
  'volume_snapshots.wait': volumeSnapshotsWait,
  'image.create': imageCreate,
  'image.wait': imageWait,
  cleanup,
  postprocess,
};

/** The phase actors for one run, to give to `machine.provide({ actors: phaseActors(…) })`. */
export function createPhaseActors(rt: PhaseRuntime): Record<PhaseName, PhaseActorLogic> {
  const actors = {} as Record<PhaseName, PhaseActorLogic>;
  for (const [phase, fn] of Object.entries(IMPLEMENTATIONS) as [PhaseName, PhaseFn][]) {
    actors[phase] = fromPromise<BuildFacts, PhaseInput>(async ({ input, signal }) => {
      // Let the transition that started this phase be recorded before the phase's own events.
      await Promise.resolve();
      try {
        return await fn(rt, input, signal);
      } catch (error) {
        // What Scaleway answered goes with the error into the log: a phase that gives up says it.
        const answer = answerOf(error);
        if (answer !== undefined && error instanceof Error) Object.assign(error, { answer });
        throw error;
      }
    });
  }
  return actors;
}
