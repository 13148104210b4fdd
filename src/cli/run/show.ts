// `kiln show <build-id>`: a build's timeline (phases with start, duration, attempts, errors; the
// resources it created and their fate; the artifact), or with --events its raw event log.
import { BuildIdError, type BuildEvent, type BuildRecord, type PhaseDuration } from '../../store/index.js';
import { buildCacheLines, describeArtifact, describeError, describeEvent, displayStatus, formatElapsed, outputLines, ranOnEmbeddedSim, readBuild, resourceFates, SIMULATOR_GONE, timeline } from '../../view/index.js';
import { openStoreFor } from './open-store.js';
import { eventJson } from '../render/progress.js';
import { formatTable } from '../render/table.js';
import { lsJson } from './ls.js';

export interface ShowArgs {
  id: string;
  json: boolean;
  events: boolean;
  /** The HTML report instead (src/cli/run/report.ts). */
  html?: boolean;
  db?: string;
}

/** `kiln show` for people. */
export function human(build: BuildRecord, events: BuildEvent[], past: readonly PhaseDuration[] = [], now: number = Date.now()): string {
  const lines: string[] = [];
  const status = displayStatus(build, now, ranOnEmbeddedSim(events));
  lines.push(`Build ${build.id}  ${status}${build.phase ? ` (phase ${build.phase})` : ''}`);
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
  // Incremental builds: the checkpoint the build started from (its lineage), and the ones it made.
  const cache = buildCacheLines(events);
  if (cache.length > 0) lines.push('', 'Build cache', ...cache.map((line) => `  ${line}`));
  if (build.artifact) lines.push('', 'Artifact', `  ${describeArtifact(build.artifact)}`);
  if (build.error && build.status !== 'succeeded') lines.push('', 'Error', `  ${describeError(build.error)}`);
  if (status === SIMULATOR_GONE) {
    lines.push('', 'The simulator embedded in `kiln build --sim` ended with the process that ran this build, and everything the build created with it: nothing to resume or remove.');
  } else if (build.status === 'failed' || build.status === 'interrupted' || status !== build.status) {
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
  const opened = await openStoreFor('show', argv.db);
  if ('exitCode' in opened) return opened.exitCode;
  const { store } = opened;
  try {
    let build: BuildRecord;
    try {
      build = await store.findBuild(argv.id);
    } catch (error) {
      if (!(error instanceof BuildIdError)) throw error;
      process.stderr.write(`kiln show: ${error.message}\n`);
      return 2;
    }
    const { events, past, now } = await readBuild(store, build);
    if (argv.json) {
      const body: Record<string, unknown> = {
        build: { ...lsJson(build, now, displayStatus(build, now, ranOnEmbeddedSim(events)) === SIMULATOR_GONE), templateHash: build.templateHash, onError: build.onError, error: build.error, artifact: build.artifact, spec: build.spec },
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
