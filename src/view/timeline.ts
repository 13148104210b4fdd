// A build's timeline, folded from its events: the phases with their start, duration, attempts and
// errors, and the processes that drove it (started, resumed, crashed, ended), each phase beside how
// long it usually takes. `kiln show` prints it as a table, the HTML report and `kiln ui` draw it.
import { durationWindow } from '../scaleway/predict.js';
import type { BuildEvent, PhaseDuration } from '../store/index.js';
import { describeError, describeEvent } from './describe.js';

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

const TERMINAL = new Set(['build.succeeded', 'build.failed', 'build.interrupted', 'build.cleaned']);

/**
 * Folds a build's events into its timeline. Each phase gets its usual duration: a wait's from the
 * prediction it ran with, any other phase's from `past` (other builds of the same template:
 * BuildStore.phaseHistory).
 */
export function timeline(events: readonly BuildEvent[], past: readonly PhaseDuration[] = []): TimelineEntry[] {
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
        const index = typeof d.provisionerIndex === 'number' ? d.provisionerIndex : undefined;
        if (open && open.name === e.phase && open.provisionerIndex === index && open.status === 'running' && e.attempt > 1) {
          open.attempts = e.attempt;
          break;
        }
        closeOpen(e.at, 'abandoned');
        open = { kind: 'phase', name: `${e.phase}${d.reason === 'failure' ? ' (rollback)' : ''}`, provisionerIndex: index, startedAt: e.at, attempts: e.attempt, status: 'running', errors: [] };
        if (open.name !== e.phase) open.name = e.phase!;
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
          closeOpen(e.at, 'failed');
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
