// What the bench reads back from a kiln build's own event log: where its time went, and how each
// of its waits compared with the latency the simulator imposed.
import type { BuildEvent } from '../../src/store/index.js';

/** Where kiln's time goes in one build, from its own event log. */
export function breakdown(events: BuildEvent[], wallMs: number, floorMs: number, phases: Record<string, number[]>): Record<string, number> {
  const at = (e: BuildEvent) => Date.parse(e.at);
  let waiting = 0;
  let active = 0;
  const open = new Map<string, number>();
  for (const e of events) {
    const key = `${e.phase}#${e.attempt}#${String(e.data.provisionerIndex ?? '')}`;
    if (e.type === 'phase.started') open.set(key, at(e));
    if (e.type === 'phase.succeeded' || e.type === 'phase.failed' || e.type === 'phase.retrying') {
      const started = open.get(key);
      if (started === undefined) continue;
      const ms = at(e) - started;
      const name = e.phase === 'provision' ? `provision #${String(e.data.provisionerIndex ?? '?')}` : String(e.phase);
      (phases[name] ??= []).push(ms);
      if (e.phase && /wait/.test(e.phase)) waiting += ms;
      else active += ms;
    }
  }
  const first = events[0] ? at(events[0]) : 0;
  const last = events.length > 0 ? at(events[events.length - 1]!) : 0;
  return {
    'waits beyond the floor (polling lag)': waiting - floorMs,
    'active phases (API calls, SSH, provisioners, cleanup)': active,
    'between phases (machine + store)': last - first - waiting - active,
    'process start to first event, last event to exit': wallMs - (last - first),
  };
}

/** One wait of a build, against the latency the simulator imposed on it. */
export interface WaitSeen {
  kind: string;
  /** How much later than the simulator's latency kiln noticed the change. */
  lagMs: number;
  /** The API calls of the wait. */
  looks: number;
  /** Whether the wait had a prediction from past builds. */
  predicted: boolean;
}

/** Each `wait.finished` of a build, matched in order with the latencies the simulator imposed on its server (`sim.floorParts`). */
export function waitsSeen(events: readonly BuildEvent[], imposed: readonly { kind: string; ms: number }[]): WaitSeen[] {
  const left = [...imposed];
  const seen: WaitSeen[] = [];
  for (const e of events.filter((x) => x.type === 'wait.finished')) {
    const kind = String((e.data.key as { wait?: string } | undefined)?.wait);
    const at = left.findIndex((p) => p.kind === kind);
    if (at < 0) continue;
    const [floor] = left.splice(at, 1);
    seen.push({ kind, lagMs: Number(e.data.durationMs) - floor!.ms, looks: Number(e.data.looks), predicted: typeof e.data.expectedMs === 'number' });
  }
  return seen;
}
