// What the HTML report and `kiln ui` show of one build, folded from its record and events (pure):
// the stretches of the processes that drove it (host, how each ended), one bar per phase attempt,
// the waits with the window kiln predicted, the kills, resumes and interruptions, the resources
// and their fate, the provisioners' output, the error and what to do next. The phase durations,
// resource fates, status and sentences are `kiln show`'s and `kiln ls`'s own (src/view).
import type { BuildEvent, BuildRecord, ErrorInfo, PhaseDuration } from '../store/index.js';
import { buildCacheLines, describeArtifact, describeError, describeEvent, displayStatus, durationMs, nextSteps, ranOnEmbeddedSim, outputLines, resourceFates, timeline, type ResourceFate } from '../view/index.js';

/** How the process of a stretch stopped driving the build. */
export type StretchEnd = 'succeeded' | 'failed' | 'interrupted' | 'killed' | 'running' | 'gone';

/** One process's time with the build: from `build.started` or `build.resumed` to its end. */
export interface Stretch {
  index: number;
  resumed: boolean;
  host: string | null;
  pid: number | null;
  /** Epoch ms. */
  startAt: number;
  endAt: number;
  end: StretchEnd;
  /** Where a resumed stretch started over. */
  fromPhase?: string;
  /** The API calls its process recorded (`api.calls`); none when it was killed first. */
  apiCalls?: { calls: number; retries: number };
}

/** `abandoned`: another phase started while it had no end (as `kiln show` says). */
export type AttemptOutcome = 'succeeded' | 'retried' | 'failed' | 'interrupted' | 'killed' | 'abandoned' | 'running';

/** One attempt of one phase: a bar of the timeline. */
export interface AttemptBar {
  /** The timeline row: the phase, its provisioner, and whether it ran to clean up after a failure. */
  row: number;
  phase: string;
  provisionerIndex?: number;
  attempt: number;
  stretch: number;
  startAt: number;
  endAt: number;
  outcome: AttemptOutcome;
  error?: string;
}

/** A wait on a state change: how long it took, and the window kiln expected from past waits. */
export interface WaitMark {
  row: number;
  what: string;
  /** From the action that started the change (the wait's own clock), epoch ms. */
  startAt: number;
  endAt: number;
  finished: boolean;
  expectedMs?: number;
  spreadMs?: number;
  samples?: number;
  looks?: number;
  apiDurationMs?: number;
}

export interface Marker {
  kind: 'resumed' | 'killed' | 'interrupted' | 'failed' | 'cleaned' | 'missing';
  at: number;
  label: string;
}

export interface TimelineRow {
  phase: string;
  provisionerIndex?: number;
  /** The provisioner's type (shell, file, shell-local). */
  provisionerType?: string;
  /** Ran on the failure path (the cleanup after a failed phase). */
  rollback: boolean;
  /** `kiln show`'s duration of the phase (first start to end, retries included), within each stretch, summed. */
  durationMs?: number;
  /** How long it usually takes (± spread), as `kiln show` says. */
  typicalMs?: number;
  typicalSpreadMs?: number;
}

export interface OutputRun {
  attempt: number;
  stretch: number;
  lines: { stream: string; line: string }[];
}

export interface ProvisionerOutput {
  index: number;
  type?: string;
  runs: OutputRun[];
}

export interface ResourceRow extends ResourceFate {
  /** For people: created, deleted, kept (the image), kept on purpose, left for gc, removed by gc… */
  fateLabel: string;
}

export interface BuildReport {
  id: string;
  templatePath: string;
  templateHash: string;
  builderName: string;
  onError: string;
  /** `kiln ls`'s status (a running build whose process is gone says so). */
  status: string;
  running: boolean;
  createdAt: string;
  updatedAt: string;
  /** `kiln ls`'s duration: first event to last. */
  durationMs: number;
  /** The time processes were driving it (the stretches added up). */
  activeMs: number;
  hosts: string[];
  /** API calls recorded by the stretches that counted them; `uncounted`: stretches killed before they could. */
  apiCalls: { calls: number; retries: number; uncounted: number };
  artifact?: string;
  imageId?: string;
  startAt: number;
  endAt: number;
  stretches: Stretch[];
  rows: TimelineRow[];
  bars: AttemptBar[];
  waits: WaitMark[];
  markers: Marker[];
  resources: ResourceRow[];
  outputs: ProvisionerOutput[];
  /** The build cache's story: the checkpoint it started from and the ones it made or skipped, a line each. */
  cache: string[];
  error?: { text: string; phase?: string; hint: string };
  eventCount: number;
  lastSeq: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The provisioner types of the (redacted) spec, by index. */
function provisionerTypes(spec: unknown): Map<number, string> {
  const out = new Map<number, string>();
  const list = (spec as { provisioners?: unknown } | null)?.provisioners;
  if (Array.isArray(list)) list.forEach((p: { index?: unknown; type?: unknown }, i) => typeof p?.type === 'string' && out.set(num(p.index) ?? i, p.type));
  return out;
}

function fateLabel(r: ResourceFate, status: BuildRecord['status'], running: boolean): string {
  const how = r.reconciled ? ' (found by its tags on resume)' : '';
  if (r.fate === 'deleted') return `deleted${how}`;
  if (r.fate === 'missing') return 'gone (deleted outside kiln)';
  if (r.onPurpose) return 'kept on purpose (keep_server)';
  if (status === 'cleaned') return 'removed by kiln gc';
  if (status === 'succeeded' && (r.kind === 'image' || r.kind === 'snapshot')) return `kept: the artifact${how}`;
  if (running) return `in use${how}`;
  return `left for kiln gc${how}`;
}

/** Folds a build into its report. `now` is the store's clock (a running build's bars end there). */
export function buildReport(record: BuildRecord, events: readonly BuildEvent[], past: readonly PhaseDuration[] = [], now: number = Date.now()): BuildReport {
  const status = displayStatus(record, now, ranOnEmbeddedSim(events));
  const running = status === 'running';
  const lastAt = events.length > 0 ? Date.parse(events[events.length - 1]!.at) : Date.parse(record.updatedAt);
  const types = provisionerTypes(record.spec);

  const stretches: Stretch[] = [];
  const rows: TimelineRow[] = [];
  const rowOf = new Map<string, number>();
  const bars: AttemptBar[] = [];
  const waits: WaitMark[] = [];
  const markers: Marker[] = [];
  const outputs = new Map<number, ProvisionerOutput>();
  let open: AttemptBar | undefined;
  let openWait: WaitMark | undefined;
  let stretch: Stretch | undefined;
  let lastSeen = Date.parse(record.createdAt);

  const closeAttempt = (at: number, outcome: AttemptOutcome, error?: string) => {
    if (open) Object.assign(open, { endAt: at, outcome }, error ? { error } : {});
    if (openWait) openWait.endAt = at;
    open = undefined;
    openWait = undefined;
  };
  const closeStretch = (at: number, end: StretchEnd) => {
    if (!stretch || stretch.end !== 'running') return;
    stretch.endAt = at;
    stretch.end = end;
  };

  for (const e of events) {
    const at = Date.parse(e.at);
    const d = e.data;
    switch (e.type) {
      case 'build.started':
      case 'build.resumed':
        if (stretch?.end === 'running') {
          // The previous process recorded no end: it was killed (or crashed) after its last event.
          closeAttempt(lastSeen, 'killed');
          closeStretch(lastSeen, 'killed');
          markers.push({ kind: 'killed', at: lastSeen, label: `process ${stretch.pid ?? '?'} on ${stretch.host ?? '?'} ended without recording an end (killed)` });
        }
        stretch = {
          index: stretches.length,
          resumed: e.type === 'build.resumed',
          host: str(d.host) ?? null,
          pid: num(d.pid) ?? null,
          startAt: at,
          endAt: at,
          end: 'running',
          ...(e.type === 'build.resumed' && str(d.fromPhase) ? { fromPhase: str(d.fromPhase) } : {}),
        };
        stretches.push(stretch);
        if (e.type === 'build.resumed') markers.push({ kind: 'resumed', at, label: describeEvent(e) ?? 'resumed' });
        break;
      case 'phase.started': {
        closeAttempt(at, 'abandoned');
        const index = num(d.provisionerIndex);
        const rollback = d.reason === 'failure';
        const key = `${e.phase}#${index ?? ''}#${rollback}`;
        let row = rowOf.get(key);
        if (row === undefined) {
          row = rows.length;
          rowOf.set(key, row);
          rows.push({ phase: e.phase ?? '?', ...(index !== undefined ? { provisionerIndex: index, provisionerType: types.get(index) } : {}), rollback });
        }
        open = { row, phase: e.phase ?? '?', ...(index !== undefined ? { provisionerIndex: index } : {}), attempt: e.attempt, stretch: stretch?.index ?? 0, startAt: at, endAt: at, outcome: 'running' };
        bars.push(open);
        break;
      }
      case 'phase.retrying':
        closeAttempt(at, 'retried', describeError(d.error));
        break;
      case 'phase.succeeded':
        closeAttempt(at, 'succeeded');
        break;
      case 'phase.failed':
        closeAttempt(at, 'failed', describeError(d.error));
        break;
      case 'provisioner.started':
        if (open && open.provisionerIndex !== undefined && str(d.type)) rows[open.row]!.provisionerType ??= str(d.type);
        break;
      case 'wait.started':
        if (open) {
          openWait = {
            row: open.row,
            what: str(d.what) ?? 'a state change',
            startAt: at - (num(d.elapsedMs) ?? 0),
            endAt: at,
            finished: false,
            ...(num(d.expectedMs) !== undefined ? { expectedMs: num(d.expectedMs), spreadMs: num(d.spreadMs) ?? 0, samples: num(d.samples) } : {}),
          };
          waits.push(openWait);
        }
        break;
      case 'wait.finished':
        if (openWait) {
          Object.assign(openWait, { endAt: at, finished: true, looks: num(d.looks) });
          if (num(d.apiDurationMs) !== undefined) openWait.apiDurationMs = num(d.apiDurationMs);
          openWait = undefined;
        }
        break;
      case 'provision.output': {
        const index = num(d.index) ?? open?.provisionerIndex ?? -1;
        let out = outputs.get(index);
        if (!out) outputs.set(index, (out = { index, type: types.get(index), runs: [] }));
        const attempt = open?.provisionerIndex === index ? open.attempt : e.attempt;
        const stretchIndex = stretch?.index ?? 0;
        let run = out.runs.at(-1);
        if (!run || run.attempt !== attempt || run.stretch !== stretchIndex) out.runs.push((run = { attempt, stretch: stretchIndex, lines: [] }));
        for (const line of outputLines(e)) run.lines.push(line);
        break;
      }
      case 'api.calls':
        // Appended after its process's end: it belongs to the latest stretch.
        if (stretch) stretch.apiCalls = { calls: num(d.calls) ?? 0, retries: num(d.retries) ?? 0 };
        break;
      case 'build.interrupted':
        closeAttempt(at, 'interrupted');
        closeStretch(at, 'interrupted');
        markers.push({ kind: 'interrupted', at, label: describeEvent(e) ?? 'interrupted' });
        break;
      case 'build.failed':
        closeAttempt(at, 'failed', describeError(d.error));
        closeStretch(at, 'failed');
        markers.push({ kind: 'failed', at, label: describeEvent(e) ?? 'failed' });
        break;
      case 'build.succeeded':
        closeAttempt(at, 'succeeded');
        closeStretch(at, 'succeeded');
        break;
      case 'build.cleaned':
        markers.push({ kind: 'cleaned', at, label: describeEvent(e) ?? 'cleaned' });
        break;
      case 'resource.missing':
        markers.push({ kind: 'missing', at, label: describeEvent(e) ?? 'a resource was missing' });
        break;
      default:
        break;
    }
    if (e.type !== 'api.calls' && e.type !== 'build.cleaned') lastSeen = at;
  }
  // The last stretch, still open: its process drives it now, or is gone without a word.
  const end = running ? Math.max(now, lastSeen) : lastSeen;
  if (stretch?.end === 'running') {
    if (!running) markers.push({ kind: 'killed', at: lastSeen, label: `process ${stretch.pid ?? '?'} on ${stretch.host ?? '?'} is gone without recording an end: \`kiln resume ${record.id}\`` });
    closeAttempt(end, running ? 'running' : 'killed');
    if (running) stretch.endAt = end;
    else closeStretch(end, 'gone');
  }

  // A row's duration is `kiln show`'s (a phase's first start to its end, retries and their backoff
  // included), counted within each stretch: the time no process drove the build is no phase's.
  for (const [row, info] of rows.entries()) {
    const spans = new Map<number, [number, number]>();
    for (const b of bars) {
      if (b.row !== row) continue;
      const span = spans.get(b.stretch);
      spans.set(b.stretch, span ? [Math.min(span[0], b.startAt), Math.max(span[1], b.endAt)] : [b.startAt, b.endAt]);
    }
    if (!bars.some((b) => b.row === row && b.outcome === 'running')) info.durationMs = [...spans.values()].reduce((sum, [a, b]) => sum + (b - a), 0);
  }
  // How long each phase usually takes, as `kiln show` says (a wait's prediction, else other builds of the template).
  for (const entry of timeline(events, past)) {
    if (entry.kind !== 'phase' || entry.typicalMs === undefined) continue;
    for (const row of rows) if (row.phase === entry.name && row.provisionerIndex === entry.provisionerIndex && !row.rollback) [row.typicalMs, row.typicalSpreadMs] = [entry.typicalMs, entry.typicalSpreadMs];
  }

  const counted = stretches.filter((s) => s.apiCalls);
  const failed = [...events].reverse().find((e) => e.type === 'build.failed');
  const report: BuildReport = {
    id: record.id,
    templatePath: record.templatePath,
    templateHash: record.templateHash,
    builderName: record.builderName,
    onError: record.onError,
    status,
    running,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    durationMs: running ? end - Date.parse(record.createdAt) : durationMs(record),
    activeMs: stretches.reduce((sum, s) => sum + (s.endAt - s.startAt), 0),
    hosts: [...new Set(stretches.map((s) => s.host).filter((h): h is string => h !== null))],
    apiCalls: {
      calls: counted.reduce((sum, s) => sum + s.apiCalls!.calls, 0),
      retries: counted.reduce((sum, s) => sum + s.apiCalls!.retries, 0),
      uncounted: stretches.length - counted.length - (running ? 1 : 0),
    },
    ...(record.artifact ? { artifact: describeArtifact(record.artifact), imageId: record.artifact.imageId } : {}),
    startAt: stretches[0]?.startAt ?? Date.parse(record.createdAt),
    endAt: Math.max(end, ...stretches.map((s) => s.endAt)),
    stretches,
    rows,
    bars,
    waits,
    markers,
    resources: resourceFates(events).map((r) => ({ ...r, fateLabel: fateLabel(r, record.status, running) })),
    outputs: [...outputs.values()].sort((a, b) => a.index - b.index),
    cache: buildCacheLines(events),
    eventCount: events.length,
    lastSeq: record.lastSeq,
  };
  if (record.status === 'failed') {
    const phase = failed?.phase ?? record.phase ?? undefined;
    const error: ErrorInfo = record.error ?? { name: 'Error', message: 'no error was recorded', retryable: false };
    report.error = {
      text: describeError(error),
      ...(phase ? { phase } : {}),
      hint: nextSteps({ buildId: record.id, builderName: record.builderName, status: 'failed', failure: { phase: phase ?? 'start-up', error }, cleanedUp: failed?.data.cleanedUp === true, phase }),
    };
  } else if (record.status === 'interrupted' || (record.status === 'running' && !running)) {
    const interrupted = [...events].reverse().find((e) => e.type === 'build.interrupted');
    report.error = {
      text: record.status === 'interrupted' ? `interrupted: ${str(interrupted?.data.reason) ?? 'stopped at a safe point'}` : 'the process that ran this build is gone without recording an end (killed, or its machine stopped)',
      ...(record.phase ? { phase: record.phase } : {}),
      hint: nextSteps({ buildId: record.id, builderName: record.builderName, status: 'interrupted', phase: record.phase }),
    };
  }
  return report;
}
