// `kiln show <build-id>`: a build's timeline (phases with start, duration, attempts, errors; the
// resources it created and their fate; the artifact), or with --events its raw event log.
import { durationWindow } from '../../scaleway/predict.js';
import type { BuildEvent, BuildRecord } from '../../store/index.js';
import { openStoreFor } from './open-store.js';
import { describeArtifact, describeError, describeEvent, formatElapsed, outputLines } from '../render/describe.js';
import { eventJson } from '../render/progress.js';
import { formatTable } from '../render/table.js';
import { displayStatus, lsJson } from './ls.js';

export interface ShowArgs {
  id: string;
  json: boolean;
  events: boolean;
  db?: string;
}

export interface TimelineEntry {
  kind: 'phase' | 'build';
  /** Phase name, or the build event (started, resumed, crashed, interrupted, failed, succeeded). */
  name: string;
  provisionerIndex?: number;
  startedAt: string;
  durationMs?: number;
  attempts?: number;
  status: string;
  errors: string[];
  /** How long the phase usually takes (± spread): a wait's prediction, else other builds of the template; none without history. */
  typicalMs?: number;
  typicalSpreadMs?: number;
}

export interface ResourceFate {
  kind: 'server' | 'volume' | 'private_nic' | 'snapshot' | 'image';
  id: string;
  createdAt: string;
  /** `kept`: still there (`onPurpose`: keep_server kept it). */
  fate: 'kept' | 'deleted' | 'missing';
  onPurpose?: boolean;
  reconciled: boolean;
  /** `block` for SBS volumes and snapshots (the Block API's). */
  api?: 'block';
}

const TERMINAL = new Set(['build.succeeded', 'build.failed', 'build.interrupted', 'build.cleaned']);

/** How long a phase took in another build of the same template (BuildStore.phaseHistory). */
export interface PastPhase {
  phase: string;
  provisionerIndex?: number;
  durationMs: number;
}

/**
 * Folds a build's events into its timeline. Each phase gets its usual duration: a wait's from the
 * prediction it ran with, any other phase's from `past` (other builds of the same template).
 */
export function timeline(events: readonly BuildEvent[], past: readonly PastPhase[] = []): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  let open: TimelineEntry | undefined;
  let ended = true;
  const closeOpen = (at: string, status: string) => {
    if (open && open.status === 'running') {
      open.status = status;
      open.durationMs = Date.parse(at) - Date.parse(open.startedAt);
    }
  };
  for (const e of events) {
    const d = e.data;
    switch (e.type) {
      case 'build.started':
      case 'build.resumed':
        if (e.type === 'build.resumed' && !ended) {
          // The previous process left no end: it was killed (or crashed).
          closeOpen(e.at, 'crashed');
          out.push({ kind: 'build', name: 'crashed', startedAt: e.at, status: 'process ended without recording an end', errors: [] });
        }
        ended = false;
        out.push({ kind: 'build', name: e.type.slice('build.'.length), startedAt: e.at, status: describeEvent(e) ?? '', errors: [] });
        break;
      case 'phase.started': {
        // The error-cleanup-provisioner has a row of its own (no provisioner index).
        const index = typeof d.provisionerIndex === 'number' && !d.errorCleanup ? d.provisionerIndex : undefined;
        const name = d.errorCleanup ? 'error-cleanup-provisioner' : e.phase!;
        if (open && open.name === name && open.provisionerIndex === index && open.status === 'running' && e.attempt > 1) {
          open.attempts = e.attempt;
          break;
        }
        closeOpen(e.at, 'abandoned');
        open = { kind: 'phase', name, provisionerIndex: index, startedAt: e.at, attempts: e.attempt, status: 'running', errors: [] };
        out.push(open);
        break;
      }
      case 'phase.retrying':
        open?.errors.push(`attempt ${e.attempt}: ${describeError(d.error)}`);
        break;
      case 'wait.started':
        if (open && open.status === 'running' && typeof d.expectedMs === 'number') {
          open.typicalMs = d.expectedMs;
          open.typicalSpreadMs = Number(d.spreadMs) || 0;
        }
        break;
      case 'phase.succeeded':
        closeOpen(e.at, 'succeeded');
        break;
      case 'phase.failed':
        if (open && open.status === 'running') {
          open.errors.push(describeError(d.error));
          closeOpen(e.at, d.continued ? 'failed, continued (continue_on_error)' : 'failed');
        }
        break;
      default:
        if (TERMINAL.has(e.type)) {
          closeOpen(e.at, e.type === 'build.interrupted' ? 'interrupted' : 'failed');
          ended = true;
          out.push({ kind: 'build', name: e.type.slice('build.'.length), startedAt: e.at, status: describeEvent(e) ?? '', errors: [] });
        }
    }
  }
  for (const entry of out) {
    if (entry.kind !== 'phase' || entry.typicalMs !== undefined) continue;
    const usual = durationWindow(past.filter((p) => p.phase === entry.name && p.provisionerIndex === entry.provisionerIndex).map((p) => p.durationMs));
    if (usual) [entry.typicalMs, entry.typicalSpreadMs] = [usual.expectedMs, usual.spreadMs];
  }
  return out;
}

/** The resources the build created and what became of them. */
export function resourceFates(events: readonly BuildEvent[]): ResourceFate[] {
  const out = new Map<string, ResourceFate>();
  const add = (kind: ResourceFate['kind'], id: unknown, at: string, reconciled: boolean, block = false) => {
    if (typeof id === 'string' && !out.has(id)) out.set(id, { kind, id, createdAt: at, fate: 'kept', reconciled, ...(block ? { api: 'block' as const } : {}) });
  };
  for (const e of events) {
    const d = e.data;
    if (e.type === 'server.created') {
      add('server', d.serverId, e.at, d.reconciled === true);
      const block = Array.isArray(d.blockVolumeIds) ? d.blockVolumeIds : [];
      if (Array.isArray(d.volumeIds)) for (const v of d.volumeIds) add('volume', v, e.at, d.reconciled === true, block.includes(v));
    } else if (e.type === 'block_volume.created') add('volume', d.volumeId, e.at, d.reconciled === true, true);
    else if (e.type === 'volume_snapshot.created') add('snapshot', d.snapshotId, e.at, d.reconciled === true, true);
    else if (e.type === 'private_nic.created') add('private_nic', d.nicId, e.at, d.reconciled === true);
    else if (e.type === 'server.kept') {
      for (const r of out.values()) if ((r.kind === 'server' || r.kind === 'volume' || r.kind === 'private_nic') && r.fate === 'kept') r.onPurpose = true;
    } else if (e.type === 'snapshot.created') add('snapshot', d.snapshotId, e.at, d.reconciled === true, d.api === 'block');
    else if (e.type === 'image.created') add('image', d.imageId, e.at, d.reconciled === true);
    else if (e.type.endsWith('.deleted')) {
      const id = d.nicId ?? d.serverId ?? d.volumeId ?? d.snapshotId ?? d.imageId;
      const r = typeof id === 'string' ? out.get(id) : undefined;
      if (r) r.fate = 'deleted';
      // terminate deletes local volumes only: SBS ones are detached.
      if (e.type === 'server.deleted' && d.terminated) for (const v of out.values()) if (v.kind === 'volume' && !v.api) v.fate = 'deleted';
      // A server's private NICs go with it.
      if (e.type === 'server.deleted') for (const v of out.values()) if (v.kind === 'private_nic') v.fate = 'deleted';
    } else if (e.type === 'resource.missing') {
      const r = typeof d.id === 'string' ? out.get(d.id) : undefined;
      if (r) r.fate = 'missing';
    }
  }
  return [...out.values()];
}

/** `kiln show` for people. */
export function human(build: BuildRecord, events: BuildEvent[], past: readonly PastPhase[] = [], now: number = Date.now()): string {
  const lines: string[] = [];
  lines.push(`Build ${build.id}  ${displayStatus(build, now)}${build.phase ? ` (phase ${build.phase})` : ''}`);
  lines.push(`  template  ${build.templatePath}  (sha256 ${build.templateHash.slice(0, 12)}…)`);
  lines.push(`  builder   ${build.builderName}    on error: ${build.onError}`);
  lines.push(`  started   ${build.createdAt}    updated ${build.updatedAt}`);
  if (build.lease && build.lease.expiresAt > now) lines.push(`  running in process ${build.lease.pid} on ${build.lease.host}`);
  lines.push('', 'Timeline');
  const rows = timeline(events, past).map((t) => {
    // A phase slower than its usual window stands out.
    const slow = t.typicalMs !== undefined && t.durationMs !== undefined && t.durationMs > t.typicalMs + (t.typicalSpreadMs ?? 0);
    return [
      t.startedAt.slice(11, 19),
      t.kind === 'phase' ? `${t.name}${t.provisionerIndex !== undefined ? ` #${t.provisionerIndex}` : ''}` : `[${t.name}]`,
      t.durationMs !== undefined ? formatElapsed(t.durationMs) : '',
      t.typicalMs !== undefined ? `~${formatElapsed(t.typicalMs)}` : '',
      t.attempts !== undefined ? String(t.attempts) : '',
      t.kind === 'phase' ? [t.status + (slow ? ' (slower than usual)' : ''), ...t.errors].join('; ') : t.status,
    ];
  });
  lines.push(formatTable(['AT', 'PHASE', 'TOOK', 'USUALLY', 'ATTEMPTS', 'RESULT'], rows).trimEnd().replace(/^/gm, '  '));
  const fates = resourceFates(events);
  lines.push('', 'Resources');
  if (fates.length === 0) lines.push('  none created');
  else lines.push(formatTable(['KIND', 'ID', 'FATE'], fates.map((f) => [f.api ? `${f.kind} (sbs)` : f.kind, f.id, (f.onPurpose ? 'kept on purpose (keep_server)' : f.fate) + (f.reconciled ? ' (found by tags on resume)' : '')])).trimEnd().replace(/^/gm, '  '));
  if (build.artifact) lines.push('', 'Artifact', `  ${describeArtifact(build.artifact)}`);
  if (build.error && build.status !== 'succeeded') lines.push('', 'Error', `  ${describeError(build.error)}`);
  if (build.status === 'failed' || build.status === 'interrupted' || displayStatus(build, now) !== build.status) {
    lines.push('', `Continue with \`kiln resume ${build.id}\`, or remove what is left with \`kiln gc --build ${build.id} --force\`.`);
  }
  return lines.join('\n') + '\n';
}

function rawEvents(events: BuildEvent[]): string {
  return events
    .map((e) => {
      const text = e.type === 'provision.output' ? outputLines(e).map((o) => `| ${o.line}`).join('\n' + ' '.repeat(8)) : describeEvent(e) ?? '';
      return `${String(e.seq).padStart(5)}  ${e.at}  ${e.type.padEnd(26)} ${(e.phase ?? '').padEnd(20)} ${e.attempt || ''}\n        ${text}`;
    })
    .join('\n') + '\n';
}

export async function runShowCommand(argv: ShowArgs): Promise<number> {
  const store = await openStoreFor('show', argv.db);
  if (!store) return 1;
  try {
    let build: BuildRecord;
    try {
      build = await store.findBuild(argv.id);
    } catch (error) {
      process.stderr.write(`kiln show: ${(error as Error).message}\n`);
      return 2;
    }
    const events = await store.events(build.id);
    const past = await store.phaseHistory({ templateHash: build.templateHash, builderName: build.builderName, excludeBuildId: build.id });
    const now = await store.clock();
    if (argv.json) {
      const body: Record<string, unknown> = {
        build: { ...lsJson(build, now), template_hash: build.templateHash, on_error: build.onError, error: build.error, artifact: build.artifact, spec: build.spec },
        timeline: timeline(events, past),
        resources: resourceFates(events),
      };
      if (argv.events) body.events = events.map(eventJson);
      process.stdout.write(JSON.stringify(body) + '\n');
    } else {
      process.stdout.write(argv.events ? rawEvents(events) : human(build, events, past, now));
    }
    return 0;
  } finally {
    await store.close();
  }
}
