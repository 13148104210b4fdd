// Progress output of `kiln build` / `kiln resume`, from the build events as they are appended:
// - `json`: one JSON object per event (the event itself, camelCase keys as every --json of kiln: docs/json.md), for machines;
// - `plain`: one line per step, for logs and pipes — no timestamps (Packer adds them only with
//   -timestamp-ui, the `timestamped` renderer of machine.ts), a phase only once it is done (its
//   `done in` line; a retry or a failure says its own line), a failure's cause once;
// - `tty`: a live list of phases per build (the running one with elapsed time, attempts and the
//   last retry reason) under the scrolling provisioner output and messages.
import { PHASES, type PhaseName } from '../../../machines/phases.js';
import type { Artifact, BuildEvent } from '../../store/index.js';
import { ERROR_CLEANUP_INDEX } from '../../template/spec.js';
import { describeArtifact, describeError, describeEvent, formatElapsed, outputLines, timeLeft } from '../../view/index.js';

export interface ProgressRenderer {
  /** A build this process runs: its events are rendered under `builderName`. */
  track(buildId: string, builderName: string, phasesToShow?: readonly PhaseName[]): void;
  onEvent(event: BuildEvent): void;
  /** A line about a build that is no event of its log (a retry of the API client's own); nothing in --json. */
  note(buildId: string, text: string): void;
  /** Holds live output while the terminal asks the user something (--on-error ask). */
  suspend(): void;
  resume(): void;
  /** Stops live updates; prints nothing more. */
  close(): void;
}

export type OutputMode = 'json' | 'plain' | 'tty';

export function createRenderer(mode: OutputMode, out: NodeJS.WritableStream = process.stdout): ProgressRenderer {
  if (mode === 'json') return new JsonRenderer(out);
  if (mode === 'tty') return new TtyRenderer(out as NodeJS.WriteStream);
  return new PlainRenderer(out);
}

/** The JSON form of an event: what `--json` prints and `kiln show --events --json` returns. */
export function eventJson(e: BuildEvent): Record<string, unknown> {
  return { buildId: e.buildId, seq: e.seq, at: e.at, type: e.type, phase: e.phase, attempt: e.attempt, data: e.data };
}

export function artifactJson(buildId: string, builderName: string, a: Artifact): Record<string, unknown> {
  return {
    type: 'artifact',
    buildId,
    builder: builderName,
    imageId: a.imageId,
    imageName: a.imageName,
    snapshotId: a.snapshotId,
    snapshotName: a.snapshotName,
    // Multi-volume images: every snapshot, root first.
    ...(a.snapshots ? { snapshots: a.snapshots.map((x) => ({ id: x.id, name: x.name, ...(x.volumeId ? { volumeId: x.volumeId } : {}) })) } : {}),
    zone: a.zone,
  };
}

class JsonRenderer implements ProgressRenderer {
  private readonly ids = new Set<string>();
  constructor(private readonly out: NodeJS.WritableStream) {}
  track(buildId: string): void {
    this.ids.add(buildId);
  }
  onEvent(e: BuildEvent): void {
    if (this.ids.has(e.buildId)) this.out.write(JSON.stringify(eventJson(e)) + '\n');
  }
  note(): void {}
  suspend(): void {}
  resume(): void {}
  close(): void {}
}

class PlainRenderer implements ProgressRenderer {
  private readonly names = new Map<string, string>();
  /** Builds whose failure's cause was printed (a phase.failed line). */
  private readonly causeShown = new Set<string>();
  constructor(private readonly out: NodeJS.WritableStream) {}
  track(buildId: string, builderName: string): void {
    this.names.set(buildId, builderName);
  }
  onEvent(e: BuildEvent): void {
    const name = this.names.get(e.buildId);
    if (name === undefined) return;
    for (const o of outputLines(e)) this.out.write(`    ${name}: ${o.line}\n`);
    const text = plainLine(e, this.causeShown.has(e.buildId));
    if (e.type === 'phase.failed' && !e.data.continued) this.causeShown.add(e.buildId);
    if (text !== null) this.out.write(`==> ${name}: ${text}\n`);
  }
  note(buildId: string, text: string): void {
    const name = this.names.get(buildId);
    if (name !== undefined) this.out.write(`==> ${name}: ${text}\n`);
  }
  suspend(): void {}
  resume(): void {}
  close(): void {}
}

/**
 * The plain renderer's line for an event, or null: a phase's start (or a provisioner's end) says nothing its `done in`
 * line, a retry or a failure does not say (a later attempt's start is kept: it follows a retry
 * line); the build's end does not repeat the failure's cause (its phase's failure line said it)
 * nor the artifact (the artifact report after the build lists it).
 */
export function plainLine(e: BuildEvent, causeShown: boolean): string | null {
  if (e.type === 'phase.started' && e.attempt <= 1) return null;
  if (e.type === 'provisioner.succeeded' && !e.data.errorCleanup) return null; // its phase's `done in` line says it
  if (e.type === 'build.failed' && causeShown) return `Build failed in ${String(e.phase)}${e.data.cleanedUp ? ' (everything it created was removed)' : ''}`;
  if (e.type === 'build.succeeded') return 'Build finished';
  return describeEvent(e);
}

type PhaseStatus = 'pending' | 'running' | 'retrying' | 'done' | 'failed';

interface PhaseRow {
  label: string;
  phase: PhaseName;
  provisionerIndex?: number;
  status: PhaseStatus;
  startedAt?: number;
  endedAt?: number;
  attempt: number;
  note?: string;
  /** A wait with history: when its change started and how long it usually takes. */
  expected?: { startedAt: number; ms: number; spreadMs: number };
  /** While retrying: the phase's deadline (epoch ms), for the time left. */
  deadlineAt?: number;
}

interface TrackedBuild {
  id: string;
  name: string;
  rows: PhaseRow[];
  state: string;
  /** A phase's failure, with its cause, was printed. */
  causeShown?: boolean;
}

/** Phases that run only when the server turns out to have extra volumes (an image can bring them). */
const RUNS_IF_FOUND: ReadonlySet<PhaseName> = new Set(['volume_snapshots.create', 'volume_snapshots.wait']);

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ICON: Record<PhaseStatus, string> = { pending: '·', running: '', retrying: '↻', done: '✓', failed: '✗' };

class TtyRenderer implements ProgressRenderer {
  private readonly builds = new Map<string, TrackedBuild>();
  private blockLines = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private suspended = false;
  /** Log lines that arrived while suspended. */
  private held: string[] = [];

  constructor(private readonly out: NodeJS.WriteStream) {
    this.startTimer();
  }

  private startTimer(): void {
    this.timer = setInterval(() => this.redraw([]), 200);
    this.timer.unref();
  }

  suspend(): void {
    this.suspended = true;
    clearInterval(this.timer);
    this.blockLines = 0; // the prompt goes below the block; the next draw starts afresh
  }

  resume(): void {
    this.suspended = false;
    this.startTimer();
    const held = this.held;
    this.held = [];
    this.redraw(held);
  }

  track(buildId: string, builderName: string, phasesToShow: readonly PhaseName[] = PHASES): void {
    const rows: PhaseRow[] = phasesToShow.map((phase) => ({ label: phase, phase, status: 'pending', attempt: 0 }));
    this.builds.set(buildId, { id: buildId, name: builderName, rows, state: 'running' });
  }

  private row(b: TrackedBuild, phase: PhaseName, provisionerIndex?: number): PhaseRow | undefined {
    if (phase !== 'provision') return b.rows.find((r) => r.phase === phase);
    let row = b.rows.find((r) => r.phase === 'provision' && r.provisionerIndex === provisionerIndex);
    if (!row) {
      // One row per provisioner, created as they start, in place of the generic one.
      const generic = b.rows.findIndex((r) => r.phase === 'provision' && r.provisionerIndex === undefined);
      const last = b.rows.map((r) => r.phase).lastIndexOf('provision');
      row = { label: provisionerIndex === ERROR_CLEANUP_INDEX ? 'error-cleanup' : `provision #${provisionerIndex}`, phase, provisionerIndex, status: 'pending', attempt: 0 };
      if (generic >= 0) b.rows.splice(generic, 1, row);
      else b.rows.splice(last + 1, 0, row);
    }
    return row;
  }

  onEvent(e: BuildEvent): void {
    const b = this.builds.get(e.buildId);
    if (!b) return;
    const log: string[] = [];
    const now = Date.parse(e.at);
    const d = e.data;
    // The error-cleanup-provisioner gets a row of its own, after the provisioners'.
    const provisionerIndex = d.errorCleanup ? ERROR_CLEANUP_INDEX : typeof d.provisionerIndex === 'number' ? d.provisionerIndex : undefined;
    switch (e.type) {
      case 'phase.started': {
        const r = e.phase && this.row(b, e.phase, provisionerIndex);
        if (r) {
          if (e.attempt <= 1 || r.startedAt === undefined) r.startedAt = now;
          r.status = 'running';
          r.attempt = e.attempt;
          r.deadlineAt = undefined;
          if (e.attempt <= 1) r.note = undefined;
        }
        break;
      }
      case 'phase.retrying': {
        const r = e.phase && b.rows.find((x) => x.phase === e.phase && x.status !== 'done');
        if (r) {
          r.status = 'retrying';
          r.note = `attempt ${e.attempt} failed: ${describeError(d.error)}`;
          const left = timeLeft(d.deadlineAt, now);
          r.deadlineAt = left === undefined ? undefined : now + left;
        }
        log.push(`${b.name}: ${describeEvent(e)}`);
        break;
      }
      case 'phase.succeeded': {
        const r = e.phase && (e.phase === 'provision' ? this.row(b, e.phase, provisionerIndex) : b.rows.find((x) => x.phase === e.phase));
        if (r) {
          r.status = 'done';
          r.endedAt = now;
          r.note = undefined;
        }
        break;
      }
      case 'phase.failed': {
        const r = e.phase && b.rows.find((x) => x.phase === e.phase && (x.status === 'running' || x.status === 'retrying'));
        if (r) {
          r.status = 'failed';
          r.endedAt = now;
          r.note = `${d.continued ? 'continued: ' : ''}${describeError(d.error)}`;
        }
        log.push(`${b.name}: ${describeEvent(e)}`);
        if (!d.continued) b.causeShown = true;
        break;
      }
      case 'wait.started': {
        const r = e.phase && b.rows.find((x) => x.phase === e.phase);
        if (r && typeof d.expectedMs === 'number') {
          r.expected = { startedAt: now - (Number(d.elapsedMs) || 0), ms: d.expectedMs, spreadMs: Number(d.spreadMs) || 0 };
        }
        break;
      }
      case 'provision.output':
        for (const o of outputLines(e)) log.push(`    ${b.name}: ${o.line}`);
        break;
      case 'build.started':
      case 'build.resumed':
      case 'build.succeeded':
      case 'build.failed':
      case 'build.interrupted':
      case 'cleanup.started':
        b.state = e.type;
        log.push(`${b.name}: ${plainLine(e, b.causeShown === true)}`);
        break;
      default:
        break;
    }
    this.redraw(log);
  }

  note(buildId: string, text: string): void {
    const b = this.builds.get(buildId);
    if (b) this.redraw([`${b.name}: ${text}`]);
  }

  private renderBlock(): string[] {
    const lines: string[] = [];
    const now = Date.now();
    const spin = SPINNER[this.frame++ % SPINNER.length]!;
    for (const b of this.builds.values()) {
      lines.push(`\x1b[1m${b.name}\x1b[0m  build ${b.id}`);
      const ended = b.state === 'build.succeeded' || b.state === 'build.failed' || b.state === 'build.interrupted';
      for (const r of b.rows) {
        // Only phases that will run: a phase that runs only if the server has extra volumes shows once
        // it starts; once the build ended, what did not run is not listed.
        if (r.status === 'pending' && (ended || RUNS_IF_FOUND.has(r.phase))) continue;
        const icon = r.status === 'running' ? spin : ICON[r.status];
        const elapsed = r.startedAt !== undefined ? formatElapsed((r.endedAt ?? now) - r.startedAt) : '';
        const expected = r.expected ? `  ${waitProgress((r.endedAt ?? now) - r.expected.startedAt, r.expected, r.status === 'running')}` : '';
        const attempt = r.attempt > 1 ? `  attempt ${r.attempt}` : '';
        // A retrying phase says first how long it may still retry (the reason may be clipped).
        const left = r.status === 'retrying' && r.deadlineAt !== undefined ? `  retrying, ${formatElapsed(Math.max(0, r.deadlineAt - now))} left;` : '';
        const note = r.note ? `${left || ' '} ${r.note}` : left;
        const text = `  ${icon} ${r.label.padEnd(20)} ${elapsed.padStart(7)}${expected}${attempt}${note}`;
        const width = this.out.columns || 100;
        const clipped = text.length > width - 1 ? text.slice(0, width - 2) + '…' : text;
        lines.push(r.status === 'pending' ? `\x1b[2m${clipped}\x1b[0m` : r.status === 'failed' ? `\x1b[31m${clipped}\x1b[0m` : clipped);
      }
    }
    return lines;
  }

  private redraw(log: string[]): void {
    if (this.suspended) {
      this.held.push(...log);
      return;
    }
    let text = this.blockLines > 0 ? `\x1b[${this.blockLines}A\x1b[0J` : '';
    for (const line of log) text += line + '\n';
    const block = this.renderBlock();
    text += block.join('\n') + '\n';
    this.blockLines = block.length;
    this.out.write(text);
  }

  close(): void {
    clearInterval(this.timer);
    this.suspended = false;
    this.redraw(this.held);
    this.held = [];
  }
}

const BAR_CELLS = 10;

/** Beyond a wait's predicted window, and by a second at least: a few ms over is no news. */
const LATE_FLOOR_MS = 1_000;

function isLate(waitedMs: number, expected: { ms: number; spreadMs: number }): boolean {
  return waitedMs > expected.ms + expected.spreadMs && waitedMs - expected.ms >= LATE_FLOOR_MS;
}

/**
 * A wait against its prediction: "6.1s of ~8.0s ███████░░░" while it runs, "7.9s, usually ~8.0s"
 * once done; past the predicted window it says so, since that is when a wait is worth a look.
 */
export function waitProgress(waitedMs: number, expected: { ms: number; spreadMs: number }, running: boolean): string {
  const late = isLate(waitedMs, expected);
  if (!running) return `${formatElapsed(waitedMs)}, usually ~${formatElapsed(expected.ms)}${late ? ' (slow)' : ''}`;
  const filled = Math.min(BAR_CELLS, Math.floor((BAR_CELLS * waitedMs) / Math.max(1, expected.ms)));
  const bar = '█'.repeat(filled) + '░'.repeat(BAR_CELLS - filled);
  return `${formatElapsed(waitedMs)} of ~${formatElapsed(expected.ms)} ${bar}${late ? ' later than usual' : ''}`;
}

/** The end-of-build lines, as Packer prints them. */
export function artifactReport(results: { builderName: string; artifact?: Artifact }[]): string {
  const ok = results.filter((r) => r.artifact);
  if (ok.length === 0) return '';
  return ['==> Builds finished. The artifacts of successful builds are:', ...ok.map((r) => `--> ${r.builderName}: ${describeArtifact(r.artifact!)}`)].join('\n') + '\n';
}
