// The crash matrix (run by crash-matrix*.test.ts): `kiln build`, `kiln resume` and `kiln gc` SIGKILLed at the events they
// append, and between API calls that changed the cloud and the recording of their results; each
// case is then brought to its end (resume, gc) and checked:
// - the cloud, read back by the build's tags: exactly the artifact (its image and snapshots) or
//   nothing, never a server or a volume; and every create the simulator saw with the build's tag
//   (`POST` of servers, snapshots, images, volumes, block volumes and snapshots, NICs, IPs: see
//   `creates`) made exactly as often as the scenario needs;
// - the log (crash-log.ts): seq numbers without a gap, every intent closed by exactly one result
//   (or made again by a later process), no result twice, and the status the log and the
//   projection say: `succeeded` after a resume, `cleaned` after a gc that removed something.
//
// How the kill points are derived, and how to extend the matrix:
// - A scenario is a template (and simulator settings) plus the command that is killed. Its
//   reference run — the same commands, not killed — is made when a test file loads. From the
//   events the killed command appended in it come the scenario's kill points: each (phase, event
//   type) pair at its first occurrence (so a middle phase's `phase.started` and each wait), each
//   event type's last occurrence, and each call of CLOUD_CHANGE_RESULTS, every one of them
//   (KILN_CRASH_AFTER_CALL=<result>:<n>, the n-th such call). `window` narrows them to the part of
//   the run the scenario is about (e.g. the cleanup after a failure).
// - Tiers (test/helpers/tier.ts). `npm run test:full` (KILN_TEST_FULL=1) runs every kill point of
//   every scenario, on SQLite and on PostgreSQL. `npm test` runs a fixed sample, the same every
//   run: going through SCENARIOS in order, a kill point is kept when its event type, or its call
//   and ordinal (`after:volume.deleted:2`), has no kept point yet — every event type once and every
//   call ordinal once — plus the points a scenario lists in `alsoInSample` (the shared types on
//   the SBS, NIC, checkpoint and post-processor paths). On PostgreSQL `npm test` runs the
//   KILN_CRASH_AT points of the `build` scenario's sample (every event type a build appends, once).
//   docs/development.md ("Crash matrix") has the counts and times.
// - The coverage test (crash-matrix.test.ts) fails for an event type (EVENT_TYPES) that no
//   scenario produces, a phase (PHASES) no scenario starts, or a call of CLOUD_CHANGE_RESULTS none
//   makes. A change that adds event types produced only by some templates adds a scenario with
//   such a template to SCENARIOS below; nothing else needs to change (crash-matrix.test.ts runs
//   every scenario not in SPLIT_OUT; a scenario with many cases can get files of its own, as
//   `build` has).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { PHASES, type PhaseName } from '../../machines/phases.js';
import {
  CLOUD_CHANGE_RESULTS,
  EVENT_TYPES,
  INTENT_RESULT,
  openStore,
  resolveStoreLocation,
  type BuildEvent,
  type BuildStatus,
  type BuildStore,
  type EventType,
} from '../../src/store/index.js';
import { template } from '../engine/harness.js';
import { checkLog, statusOfLog } from './crash-log.js';
import { spawnKiln, startedBuildId, type KilnResult } from '../helpers/cli.js';
import { cloudOfBuild, terminateServerByHand } from '../helpers/cloud.js';
import { testDatabase } from '../helpers/postgres.js';
import { FULL_TESTS } from '../helpers/tier.js';
import { startTestSimulator, type Simulator, type SimulatorOptions } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

interface Expected {
  /** Servers and volumes left (0 unless the template keeps them: keep_server). */
  servers?: number;
  volumes?: number;
  images: number;
  snapshots: number;
  /** The build's status at the end, where the scenario fixes it (default: `succeeded` after a
   * resume; after a gc, `cleaned` if the cloud held something of the build, else the status before). */
  status?: BuildStatus;
  /** Every create carrying the build's tag, by the simulator's route ("POST /servers", "POST
   * /block/volumes", …): how often the scenario needs each, whatever the kill point. */
  creates: Record<string, number>;
}

/** The creates of a build with a local root volume: one server, its snapshot, the image. */
const ONE_OF_EACH = { 'POST /servers': 1, 'POST /snapshots': 1, 'POST /images': 1 };

interface Scenario {
  name: string;
  sim?: SimulatorOptions;
  /** Builder keys beyond the common ones. */
  builder?: Record<string, unknown>;
  /** Builder keys that need the scenario's simulator first (e.g. a private network to attach). */
  builderFor?: (sim: Simulator) => Promise<Record<string, unknown>>;
  /** The template's provisioners; a function is given the case's own local file (see `localFile`). */
  provisioners: unknown[] | ((localFile: string) => unknown[]);
  /** A file of the case's own, with this content, that the provisioners may use (and change). */
  localFile?: string;
  /** The template's post-processors (Packer's "post-processors" list), given the case's own name. */
  postProcessors?: (slug: string) => unknown[];
  buildArgs?: string[];
  /** Runs before the killed command (e.g. the crashed build a resume continues); returns the build id. */
  setup?: (c: CaseWorld) => Promise<string>;
  /** The command that is killed (a build starts a new build; resume and gc act on setup's build). */
  killed: 'build' | 'resume' | 'gc';
  /** SIGTERM the killed command once it printed this event (builds run with --json). */
  sigtermAt?: EventType;
  /** The exit code of the killed command in the reference run. */
  referenceExit: number;
  /** Which of the killed command's events are kill points (default: all of them). */
  window?: (events: BuildEvent[]) => BuildEvent[];
  /** Kill points `npm test`'s sample keeps although an earlier scenario covers their type ("type" or
   * "type:n"; "after:type[:n]" for the KILN_CRASH_AFTER_CALL point of a call an earlier scenario also
   * makes, here on another path). `npm run test:full` runs them too. */
  alsoInSample?: string[];
  /** After the kill (and after the reference run): how the build is brought to its end. */
  recover: 'resume' | 'resume-fails-then-gc' | 'gc';
  expect: Expected;
}

/** Each scenario's `builderFor` keys, made once its simulator runs. */
const simBuilders = new Map<Scenario, Record<string, unknown>>();

/** Which store the matrix's cases use: a SQLite file each, or a PostgreSQL database each. */
export type MatrixStore = 'sqlite' | 'postgres';

/** Each case's store, by its slug: a file in `dir`, or a fresh database (dropped in the file's `after`). */
async function caseDb(store: MatrixStore, dir: string, slug: string, drops: (() => Promise<void>)[]): Promise<string> {
  if (store === 'sqlite') return join(dir, `${slug}.db`);
  return testDatabase({ after: (drop) => void drops.push(drop) });
}

async function withStore<T>(db: string, read: (store: BuildStore) => Promise<T> | T): Promise<T> {
  const store = await openStore(resolveStoreLocation(db));
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** One case's database, template and commands, against its scenario's simulator. */
class CaseWorld {
  readonly template: string;
  constructor(
    readonly sim: Simulator,
    readonly dir: string,
    readonly scenario: Scenario,
    name: string,
    readonly db: string,
  ) {
    const slug = name.replace(/\W+/g, '_');
    this.template = join(dir, `${slug}.json`);
    const localFile = join(dir, `${slug}.data`);
    if (scenario.localFile !== undefined) writeFileSync(localFile, scenario.localFile);
    const provisioners = typeof scenario.provisioners === 'function' ? scenario.provisioners(localFile) : scenario.provisioners;
    writeFileSync(
      this.template,
      JSON.stringify({
        ...template({ ssh_port: sim.sshPort, image_name: slug, snapshot_name: slug, ...scenario.builder, ...simBuilders.get(scenario) }, provisioners),
        ...(scenario.postProcessors ? { 'post-processors': scenario.postProcessors(slug) } : {}),
      }),
    );
  }

  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.dir,
      SCW_API_URL: this.sim.apiUrl,
      SCW_SECRET_KEY: SECRET,
      SCW_DEFAULT_PROJECT_ID: PROJECT,
      SCW_DEFAULT_ZONE: 'fr-par-1',
      SCW_CONFIG_PATH: join(this.dir, 'no-scw-config.yaml'),
    };
  }

  /** Runs kiln; with `sigtermAt`, sends SIGTERM once that event is printed (--json). */
  run(args: string[], extraEnv: Record<string, string> = {}, sigtermAt?: EventType): Promise<KilnResult> {
    return new Promise((resolve, reject) => {
      const child = spawnKiln([...args, '--db', this.db], { env: { ...this.env, ...extraEnv } });
      let stdout = '';
      let stderr = '';
      let signalled = false;
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (sigtermAt && !signalled && stdout.includes(`"type":"${sigtermAt}"`)) {
          signalled = true;
          child.kill('SIGTERM');
        }
      });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  build(extraEnv: Record<string, string> = {}, sigtermAt?: EventType): Promise<KilnResult> {
    return this.run(['build', '--json', ...(this.scenario.buildArgs ?? []), this.template], extraEnv, sigtermAt);
  }

  events(id: string): Promise<BuildEvent[]> {
    return withStore(this.db, (store) => store.events(id));
  }
}

const CRASH_AFTER_CALL_SETUP = { KILN_CRASH_AFTER_CALL: 'server.created' };

export const SCENARIOS: Scenario[] = [
  {
    // A successful build: two provisioners, the second failing its first attempt (phase.retrying).
    name: 'build',
    provisioners: [
      { type: 'shell', inline: ['echo first >> /root/runs', 'echo one'] },
      { type: 'shell', max_retries: 1, inline: ['if [ ! -f /root/tried ]; then touch /root/tried; exit 1; fi', 'echo two'] },
    ],
    killed: 'build',
    referenceExit: 0,
    // Beyond every type's first occurrence: a middle phase's start, and a wait of the artifact.
    alsoInSample: ['phase.started@server.wait_running', 'wait.started@image.wait'],
    recover: 'resume',
    expect: { images: 1, snapshots: 1, creates: ONE_OF_EACH },
  },
  {
    // The image never becomes available: image.wait fails, the cleanup after the failure deletes
    // the image, the snapshot, the server and its volume. Killed during it, `kiln resume` refuses
    // (or fails again) and names `kiln gc`, which removes the rest.
    name: 'cleanup after a failure',
    sim: { faults: { 'POST /images': { stuck: 1 } } },
    builder: { image_creation_timeout: '1s' },
    provisioners: [{ type: 'shell', inline: ['echo one'] }],
    killed: 'build',
    referenceExit: 1,
    window: (events) => events.slice(events.findIndex((e) => e.type === 'phase.failed')),
    recover: 'resume-fails-then-gc',
    expect: { images: 0, snapshots: 0, creates: ONE_OF_EACH },
  },
  {
    // The build cache (issue 24): a checkpoint after the upload of a local file (the temporary key
    // out of authorized_keys, power off, a snapshot, an image, power on, reconnect), then a
    // shell-local step that changes that file, so that the checkpoint asked for after it is
    // skipped (its key no longer describes the disk). Exactly one checkpoint whatever the kill.
    name: 'checkpoint',
    localFile: 'one\n',
    provisioners: (localFile) => [
      { type: 'file', source: localFile, destination: '/root/uploaded' },
      { type: 'shell-local', inline: [`echo changed >> ${localFile}`] },
      { type: 'shell', inline: ['cat /root/uploaded'] },
    ],
    buildArgs: ['--checkpoint-after', '0', '--checkpoint-after', '1'],
    killed: 'build',
    referenceExit: 0,
    // Also the stop and start of the checkpoint, and the provisioning after it.
    alsoInSample: ['key.cleared', 'server.poweroff.requested', 'server.poweron.requested:2', 'server.running:2', 'provisioner.started:2'],
    recover: 'resume',
    expect: { images: 2, snapshots: 2, creates: { 'POST /servers': 1, 'POST /snapshots': 2, 'POST /images': 2 } },
  },
  {
    // A resume killed, then resumed again: the first build died after its server was created but
    // before that was recorded, so the resume finds it by its tags (server.created, reconciled).
    name: 'resume',
    provisioners: [{ type: 'shell', inline: ['echo one'] }, { type: 'shell', inline: ['echo two'] }],
    setup: async (c) => {
      const crashed = await c.build(CRASH_AFTER_CALL_SETUP);
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
      return startedBuildId(crashed);
    },
    killed: 'resume',
    referenceExit: 0,
    alsoInSample: ['phase.started:2', 'provisioner.succeeded:2', 'image.created', 'server.deleted'],
    recover: 'resume',
    expect: { images: 1, snapshots: 1, creates: ONE_OF_EACH },
  },
  {
    // SIGTERM during provisioning: the build stops at the next safe point and exits 130.
    name: 'interrupt',
    provisioners: [{ type: 'shell', inline: ['echo one'] }, { type: 'shell', inline: ['echo two'] }],
    killed: 'build',
    sigtermAt: 'provisioner.started',
    referenceExit: 130,
    window: (events) => events.slice(events.findIndex((e) => e.type === 'build.interrupted')),
    recover: 'resume',
    expect: { images: 1, snapshots: 1, creates: ONE_OF_EACH },
  },
  {
    // The server was deleted by hand before provisioning: the resume records it missing and
    // creates a new one (the one case with two server creates).
    name: 'server deleted by hand',
    provisioners: [{ type: 'shell', inline: ['echo one'] }],
    setup: async (c) => {
      const crashed = await c.build({ KILN_CRASH_AT: 'server.running' });
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
      const id = startedBuildId(crashed);
      const client = new ScalewayClient({ apiUrl: c.sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
      await terminateServerByHand(client, id);
      return id;
    },
    killed: 'resume',
    referenceExit: 0,
    recover: 'resume',
    expect: { images: 1, snapshots: 1, creates: { ...ONE_OF_EACH, 'POST /servers': 2 } },
  },
  {
    // Today's Scaleway (issue 11): a PRO2 (no local storage) with an SBS root of a chosen size and
    // IOPS and one extra block volume: block volume created before the server, IOPS changed, one
    // Block API snapshot per volume, an image of both, every volume deleted afterwards.
    name: 'SBS root and a block volume',
    builder: {
      commercial_type: 'PRO2-XXS',
      root_volume: { type: 'sbs_volume', size_in_gb: 15, iops: 15000 },
      block_volume: [{ size_in_gb: 10 }],
    },
    provisioners: [{ type: 'shell', inline: ['echo root >> /root/runs', 'echo data >> /mnt/vol1/runs'] }],
    killed: 'build',
    referenceExit: 0,
    // The shared events on the SBS paths (server create with a volumes map, Block API snapshots and deletes).
    alsoInSample: [
      'phase.started@volumes.create',
      'phase.started@volumes.iops',
      'server.create.requested',
      'server.created',
      'snapshot.create.requested',
      'snapshot.created',
      'wait.started@volume_snapshots.wait',
      'image.created',
      'volume.delete.requested',
      'volume.deleted',
      'volume.delete.requested:2',
      'after:server.created',
      'after:snapshot.created',
      'after:image.created',
      'after:volume.deleted',
    ],
    recover: 'resume',
    expect: { images: 1, snapshots: 2, creates: { 'POST /block/volumes': 1, 'POST /servers': 1, 'POST /block/snapshots': 2, 'POST /images': 1 } },
  },
  {
    // The plugin's keys (issue 12): a private NIC attached after boot and deleted by the cleanup,
    // user data waited for through cloud-init, the machine id emptied before shutdown.
    name: 'private NIC, user data, machine cleanup',
    builderFor: async (sim) => {
      const client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
      const network = await client.callApi({ method: 'POST', path: '/vpc/v2/regions/fr-par/private-networks', json: { name: 'crash-matrix', project_id: PROJECT }, kind: 'create' });
      return {
        private_network_ids: [String(network.id)],
        user_data: { 'cloud-init': '#!/bin/sh\necho by-cloud-init > /etc/from-user-data\n' },
        cleanup_machine_related_data: 'true',
      };
    },
    provisioners: [{ type: 'shell', inline: ['echo one'] }],
    killed: 'build',
    referenceExit: 0,
    // The shared types on the NIC path: the NIC's phase, the stop after the machine cleanup, the server's delete after its NIC's.
    alsoInSample: ['phase.started@network.attach', 'phase.started@machine.cleanup', 'server.poweroff.requested', 'server.deleted', 'after:server.deleted'],
    recover: 'resume',
    expect: { images: 1, snapshots: 1, creates: { ...ONE_OF_EACH, 'POST /servers/{id}/private_nics': 1 } },
  },
  {
    // Post-processors (issue 13) run once the image exists: a manifest and a shell-local step.
    name: 'post-processors',
    provisioners: [{ type: 'shell', inline: ['echo one'] }],
    postProcessors: (slug) => [
      { type: 'manifest', output: `${slug}.manifest.json` },
      { type: 'shell-local', inline: ['echo post-processed'] },
    ],
    killed: 'build',
    referenceExit: 0,
    // The shared types once the image exists: the post-processing phase's start and end, the build's success.
    alsoInSample: ['phase.started@postprocess', 'phase.succeeded@postprocess', 'build.succeeded'],
    recover: 'resume',
    expect: { images: 1, snapshots: 1, creates: ONE_OF_EACH },
  },
  {
    // keep_server: the server and its volume stay after success, on purpose (server.kept).
    name: 'keep_server',
    builder: { keep_server: true },
    provisioners: [{ type: 'shell', inline: ['echo one'] }],
    killed: 'build',
    referenceExit: 0,
    recover: 'resume',
    expect: { servers: 1, volumes: 1, images: 1, snapshots: 1, creates: ONE_OF_EACH },
  },
  {
    // `kiln gc` cleaning what a failed --on-error abort build kept.
    name: 'gc',
    provisioners: [{ type: 'shell', inline: ['exit 3'] }],
    buildArgs: ['--on-error', 'abort'],
    setup: async (c) => {
      const failed = await c.build();
      assert.equal(failed.code, 1, failed.stderr);
      return startedBuildId(failed);
    },
    killed: 'gc',
    referenceExit: 0,
    recover: 'gc',
    // Whether the killed gc or the next one removed what the failed build kept, the build ends cleaned.
    expect: { images: 0, snapshots: 0, status: 'cleaned', creates: { 'POST /servers': 1 } },
  },
];

/** Runs the scenario's killed command (after its setup); returns the build id and the result. */
async function runKilled(c: CaseWorld, crashEnv: Record<string, string>): Promise<{ id: string; result: KilnResult; seqBefore: number }> {
  const s = c.scenario;
  if (s.killed === 'build') {
    const result = await c.build(crashEnv, s.sigtermAt);
    return { id: startedBuildId(result), result, seqBefore: 0 };
  }
  const id = await s.setup!(c);
  const seqBefore = (await c.events(id)).at(-1)?.seq ?? 0;
  const result =
    s.killed === 'resume' ? await c.run(['resume', id, '--json'], crashEnv) : await c.run(['gc', '--build', id, '--force'], crashEnv);
  return { id, result, seqBefore };
}

/**
 * An after-call kill must land between the call and its result (src/engine/tracked.ts): the log
 * ends with the call's intent (or, for a call without one, not with its result), and the killed
 * process recorded the result of exactly n - 1 earlier such calls. Killed later, the case would
 * only repeat a KILN_CRASH_AT one and test no change the log does not know of.
 */
async function checkKilledBetweenCallAndResult(c: CaseWorld, id: string, result: EventType, nth: number, seqBefore: number): Promise<void> {
  const intent = (Object.keys(INTENT_RESULT) as EventType[]).find((type) => INTENT_RESULT[type] === result);
  const events = await c.events(id);
  const last = events.at(-1)?.type;
  if (intent) assert.equal(last, intent, `killed after the call of ${result}: the log should end with its intent`);
  else assert.notEqual(last, result, `killed after the call of ${result}: the log should not hold its result yet`);
  assert.equal(events.filter((e) => e.seq > seqBefore && e.type === result && !e.data.reconciled).length, nth - 1, `killed after call ${nth} of ${result}`);
}

/** The creates the simulator saw with the build's tag, by route (`POST /servers`, `POST /block/volumes`, …). */
function createsOf(sim: Simulator, id: string): Record<string, number> {
  return Object.fromEntries(Object.entries(sim.requestCounts(`kiln-build=${id}`)).filter(([route]) => route.startsWith('POST ') && !route.endsWith('/action')));
}

/** Brings the build to its end after the killed command, and checks the cloud, the count of creates and the log. */
async function recoverAndCheck(c: CaseWorld, id: string): Promise<void> {
  const s = c.scenario;
  const client = new ScalewayClient({ apiUrl: c.sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  /** A gc that finds something of the build removes it and marks the build cleaned; one that finds nothing leaves the status. */
  const gcToEnd = async (): Promise<BuildStatus> => {
    const left = Object.values(await cloudOfBuild(client, id)).some((list) => list.length > 0);
    const before = (await withStore(c.db, (store) => store.getBuild(id)))!.status;
    const gc = await c.run(['gc', '--build', id, '--force']);
    assert.equal(gc.code, 0, gc.stdout + gc.stderr);
    return left ? 'cleaned' : before;
  };
  let status: BuildStatus;
  if (s.recover === 'resume') {
    const resumed = await c.run(['resume', id, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    status = 'succeeded';
  } else if (s.recover === 'resume-fails-then-gc') {
    const resumed = await c.run(['resume', id]);
    assert.equal(resumed.code, 1, resumed.stdout + resumed.stderr);
    assert.equal((await withStore(c.db, (store) => store.getBuild(id)))!.status, 'failed', `a resume of a failed build leaves it failed: ${resumed.stderr}`);
    status = await gcToEnd();
  } else {
    status = await gcToEnd();
  }
  const { status: fixed, ...expected } = s.expect;
  status = fixed ?? status;
  const { servers, volumes, snapshots, images } = await cloudOfBuild(client, id);
  assert.deepEqual(
    { servers: servers.length, volumes: volumes.length, snapshots: snapshots.length, images: images.length, creates: createsOf(c.sim, id) },
    { servers: 0, volumes: 0, ...expected },
    `build ${id}`,
  );
  if (images.length === 1) {
    const used = [images[0]!.root_volume?.id, ...Object.values(images[0]!.extra_volumes ?? {}).map((v) => (v as { id: string }).id)].sort();
    assert.deepEqual(used, snapshots.map((snapshot) => snapshot.id).sort(), 'the image is made of exactly the build’s snapshots');
  }
  // The log: whole, every intent closed once, and the status it and the projection tell.
  const [events, record] = await withStore(c.db, async (store) => [await store.events(id), await store.getBuild(id)] as const);
  checkLog(events, { endedBy: s.recover === 'resume' ? 'resume' : 'gc' });
  assert.deepEqual(
    { log: statusOfLog(events), projection: record!.status, projectedUpTo: record!.lastSeq },
    { log: status, projection: status, projectedUpTo: events.length },
    `build ${id}: its status after the ${s.recover}`,
  );
}

interface KillPoint {
  /** The KILN_CRASH_AT or KILN_CRASH_AFTER_CALL value. */
  env: Record<string, string>;
  type: EventType;
  /** The phase of the event killed after (KILN_CRASH_AT), or of the call's result. */
  phase: PhaseName | null;
  /** The n-th append of `type` (or call recorded by it) of the killed process. */
  nth: number;
  label: string;
  /** What the sample counts as covered by it: its event type, or "after:<result>:<n>". */
  sampleKey: string;
  /** Named in the scenario's `alsoInSample`. */
  also?: boolean;
}

/**
 * All the kill points of a scenario, from the events its killed command appended in the reference
 * run: each (phase, event type) pair at its first occurrence, each type's last occurrence, each
 * call of CLOUD_CHANGE_RESULTS, and its `alsoInSample` points ("type", "type:n", "type@phase",
 * "after:result[:n]").
 */
function killPoints(s: Scenario, appended: BuildEvent[]): KillPoint[] {
  const windowed = new Set((s.window ? s.window(appended) : appended).map((e) => e.seq));
  const points = new Map<string, KillPoint>();
  const at = (type: EventType, n: number) => (n === 1 ? type : `${type}:${n}`);
  const addAt = (e: BuildEvent, n: number): KillPoint => {
    const spec = at(e.type, n);
    if (!points.has(spec)) {
      const label = `killed right after ${spec} (${e.phase ?? 'no phase'})`;
      points.set(spec, { env: { KILN_CRASH_AT: spec }, type: e.type, phase: e.phase, nth: n, label, sampleKey: e.type });
    }
    return points.get(spec)!;
  };
  const addAfter = (e: BuildEvent, n: number): KillPoint => {
    const spec = at(e.type, n);
    if (!points.has(`after:${spec}`)) {
      const label = `killed after call ${n} recorded by ${e.type} (${e.phase ?? 'no phase'}), before recording it`;
      points.set(`after:${spec}`, { env: { KILN_CRASH_AFTER_CALL: spec }, type: e.type, phase: e.phase, nth: n, label, sampleKey: `after:${e.type}:${n}` });
    }
    return points.get(`after:${spec}`)!;
  };
  // n counts the process's own appends of a type (as KILN_CRASH_AT does), and its own calls (a
  // result reconcile found made no call).
  const nth = new Map<number, number>();
  const calls = new Map<number, number>();
  const counts = new Map<EventType, { appends: number; calls: number }>();
  for (const e of appended) {
    const count = counts.get(e.type) ?? { appends: 0, calls: 0 };
    counts.set(e.type, count);
    nth.set(e.seq, ++count.appends);
    if (CLOUD_CHANGE_RESULTS.includes(e.type) && !e.data.reconciled) calls.set(e.seq, ++count.calls);
  }
  const pairs = new Set<string>();
  const inWindow = appended.filter((e) => windowed.has(e.seq));
  for (const e of inWindow) {
    const pair = `${e.phase}|${e.type}`;
    if (!pairs.has(pair)) {
      pairs.add(pair);
      addAt(e, nth.get(e.seq)!);
    }
    if (inWindow.filter((o) => o.type === e.type).at(-1) === e) addAt(e, nth.get(e.seq)!);
    if (calls.has(e.seq)) addAfter(e, calls.get(e.seq)!);
  }
  for (const extra of s.alsoInSample ?? []) {
    const after = extra.startsWith('after:');
    const [spec, inPhase] = extra.slice(after ? 'after:'.length : 0).split('@') as [string, string | undefined];
    const [type, n] = spec.split(':') as [EventType, string | undefined];
    const e = appended.find(
      (o) => o.type === type && (inPhase === undefined || o.phase === inPhase) && (n === undefined || (after ? calls : nth).get(o.seq) === Number(n)),
    );
    assert.ok(e && (!after || calls.has(e.seq)), `${s.name}: "${extra}" is not ${after ? 'a call its killed command makes' : 'appended by its killed command'}`);
    (after ? addAfter(e, calls.get(e.seq)!) : addAt(e, nth.get(e.seq)!)).also = true;
  }
  return [...points.values()];
}

/** The sample of `npm test`: the scenario's points whose sample key no earlier kept point has, and its `alsoInSample`. */
function samplePoints(all: KillPoint[], sampled: Set<string>): KillPoint[] {
  return all.filter((p) => {
    const keep = p.also || !sampled.has(p.sampleKey);
    sampled.add(p.sampleKey);
    return keep;
  });
}

// ---- the matrix's test files call declareCrashMatrix (the tests are declared from the reference runs) ----

/** Cases (and reference runs) at once: each is a few short-lived kiln processes that mostly wait
 * (on the simulator's latencies, on reconciliation), so three share two cores well. */
const CONCURRENCY = 3;

async function inBatches<T, R>(items: readonly T[], width: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(run))));
  return results;
}

/** Scenarios whose cases run in test files of their own on SQLite (each file within the runner's per-file limit). */
export const SPLIT_OUT = ['build', 'cleanup after a failure', 'checkpoint'];

/** The scenarios of the PostgreSQL files: in `npm test` the `build` one's (its sample's KILN_CRASH_AT points), in `npm run test:full` every one. */
export const POSTGRES_SCENARIOS = FULL_TESTS ? SCENARIOS.map((s) => s.name) : ['build'];

export interface MatrixPart {
  /** The scenarios whose cases this test file runs (by name). */
  scenarios: string[];
  /** Only the i-th of n equal slices of each scenario's cases (a long scenario split over files). */
  slice?: [number, number];
  /** Whether this file checks that every event type has a kill point (one file does). */
  coverage?: boolean;
  /** The store every case uses (default: SQLite); PostgreSQL gives each case a database of its own. */
  store?: MatrixStore;
}

/**
 * Makes the reference runs a part needs (its scenarios and those before them, which decide what
 * the sample keeps) and declares its tests: every kill point with FULL_TESTS, else the sample.
 * The matrix is split over several test files so that they run side by side.
 */
export async function declareCrashMatrix(part: MatrixPart): Promise<void> {
  for (const name of part.scenarios) assert.ok(SCENARIOS.some((s) => s.name === name), `no scenario named "${name}"`);
  const last = Math.max(...part.scenarios.map((name) => SCENARIOS.findIndex((s) => s.name === name)));
  // The full tier needs no earlier scenario's reference: nothing depends on what they cover.
  const needed = part.coverage ? SCENARIOS : FULL_TESTS ? SCENARIOS.filter((s) => part.scenarios.includes(s.name)) : SCENARIOS.slice(0, last + 1);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-crash-matrix-'));
  const sims = new Map<Scenario, Simulator>();
  const plan: { scenario: Scenario; all: KillPoint[]; points: KillPoint[]; reference: { id: string; events: BuildEvent[]; world: CaseWorld } }[] = [];
  const store = part.store ?? 'sqlite';
  const drops: (() => Promise<void>)[] = [];
  const world = async (sim: Simulator, s: Scenario, name: string) => new CaseWorld(sim, dir, s, name, await caseDb(store, dir, name.replace(/\W+/g, '_'), drops));
  const sampled = new Set<string>();
  let referenceFailure: unknown;
  try {
    // The reference runs, a few at a time; the kill points are then derived in SCENARIOS' order.
    const references = await inBatches(needed, CONCURRENCY, async (s) => {
      const sim = await startTestSimulator(s.sim);
      sims.set(s, sim);
      if (s.builderFor) simBuilders.set(s, await s.builderFor(sim));
      const c = await world(sim, s, `${s.name} reference`);
      const { id, result, seqBefore } = await runKilled(c, {});
      assert.equal(result.code, s.referenceExit, `${s.name}: the reference run: ${result.stderr}`);
      return { id, events: await c.events(id), seqBefore, world: c };
    });
    needed.forEach((s, i) => {
      const { id, events, seqBefore, world: c } = references[i]!;
      const all = killPoints(s, events.filter((e) => e.seq > seqBefore));
      // On PostgreSQL the sample leaves out the after-call points: what they test (reconcile by tags) is the same on both stores.
      const sample = samplePoints(all, sampled).filter((p) => store === 'sqlite' || p.env.KILN_CRASH_AT);
      plan.push({ scenario: s, all, points: FULL_TESTS ? all : sample, reference: { id, events, world: c } });
    });
  } catch (error) {
    referenceFailure = error;
  }

  after(async () => {
    await Promise.all([...sims.values()].map((s) => s.close()));
    for (const drop of drops) await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the reference runs of the scenarios', () => {
    if (referenceFailure) throw referenceFailure;
  });

  if (part.coverage) {
    test('every event type and phase has a kill point, and every call that changes the cloud an after-call point', (t) => {
      assert.ifError(referenceFailure);
      const all = plan.flatMap((p) => p.all);
      const at = all.filter((p) => p.env.KILN_CRASH_AT);
      const after = all.filter((p) => p.env.KILN_CRASH_AFTER_CALL);
      const sample = plan.flatMap((p) => (FULL_TESTS ? samplePoints(p.all, sampled) : p.points));
      for (const p of plan) t.diagnostic(`crash matrix: ${p.scenario.name}: ${p.all.length} kill points, ${p.points.length} in this tier`);
      t.diagnostic(
        `crash matrix: ${new Set(at.map((p) => p.type)).size} of ${EVENT_TYPES.length} event types and ${new Set(at.map((p) => `${p.phase}|${p.type}`)).size} (phase, type) pairs killed at; ` +
          `${new Set(after.map((p) => p.type)).size} of ${CLOUD_CHANGE_RESULTS.length} cloud-changing calls (${after.length} with their ordinals) killed after; ` +
          `${all.length} cases in all, ${sample.length} in npm test's sample, in ${plan.length} scenarios`,
      );
      assert.deepEqual(
        EVENT_TYPES.filter((type) => !at.some((p) => p.type === type)),
        [],
        'event types no scenario produces: add a scenario whose template produces them (see the top of crash-matrix.ts)',
      );
      assert.deepEqual(
        PHASES.filter((phase) => !at.some((p) => p.type === 'phase.started' && p.phase === phase)),
        [],
        'phases no scenario starts: add a scenario whose template runs them (see the top of crash-matrix.ts)',
      );
      assert.deepEqual(CLOUD_CHANGE_RESULTS.filter((type) => !after.some((p) => p.type === type)), [], 'calls no scenario makes');
      // The sample keeps every event type and every call ordinal once.
      const keys = (points: KillPoint[]) => [...new Set(points.map((p) => p.sampleKey))].sort();
      assert.deepEqual(keys(sample), keys(all), 'the sample misses a type or a call ordinal');
    });
  }

  for (const { scenario, points, reference } of plan.filter((p) => part.scenarios.includes(p.scenario.name))) {
    const [i, n] = part.slice ?? [1, 1];
    const size = Math.ceil(points.length / n);
    const mine = points.slice((i - 1) * size, i * size);
    describe(`crash matrix: ${scenario.name}${n > 1 ? ` (part ${i} of ${n})` : ''}`, { concurrency: CONCURRENCY }, () => {
      const sim = sims.get(scenario)!;
      if (i === 1) {
        test('not killed: ends as expected', { timeout: 120_000 }, async () => {
          await recoverAndCheck(reference.world, reference.id);
        });
      }
      for (const point of mine) {
        test(point.label, { timeout: 120_000 }, async () => {
          const c = await world(sim, scenario, `${scenario.name} ${point.label}`);
          const { id, result, seqBefore } = await runKilled(c, point.env);
          assert.equal(result.signal, 'SIGKILL', `the ${scenario.killed} should have been killed: ${result.stderr}`);
          if (point.env.KILN_CRASH_AFTER_CALL) await checkKilledBetweenCallAndResult(c, id, point.type, point.nth, seqBefore);
          await recoverAndCheck(c, id);
        });
      }
    });
  }
}
