// The transition scheduler: the background state changes the simulated cloud owes after a
// request (a server booting, a snapshot becoming available…). Each is kept in the world, so a
// restarted simulator resumes it, and armed on a timer. Transitions that only change records end
// here (finish); those that need I/O — a server's boot, stop or terminate — are carried out by
// the simulation. Every latency imposed on a server adds to its floor: the time a perfect client
// could not beat. Tests may hold a kind of transition back to watch a transient state.
import type { Transition } from './latency.js';
import { isBlockSnapshot, now, settleVolumeOf, type PendingTransition, type WorldData } from './world.js';

/** Per request: a `stuck` fault makes the transitions it starts never complete. */
export interface RequestContext {
  stuck: boolean;
  /** An `error_state` fault: the transition it starts ends in the resource's error state. */
  failing?: boolean;
}

/** A transition before it is given its due time. */
export type TransitionRequest = Omit<PendingTransition, 'dueAt'>;

export interface SchedulerOptions {
  /** Carries out a due transition that needs I/O: a server's boot, reboot, stop or terminate. */
  carryOut(pending: PendingTransition): Promise<void>;
  /** Keeps the world after a transition ended. */
  persist(): void;
  log(message: string): void;
}

export class TransitionScheduler {
  private readonly timers = new Map<PendingTransition, NodeJS.Timeout>();
  /** Per server, the latencies imposed on its floor in this run (for benchmarks: lag per wait). */
  private readonly imposed = new Map<string, { kind: string; ms: number }[]>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Transitions held back by a test (hold/release): due ones wait here until released. */
  private readonly held = new Set<Transition>();
  private readonly waiting: PendingTransition[] = [];
  private stopped = false;

  constructor(
    private readonly world: WorldData,
    private readonly options: SchedulerOptions,
  ) {}

  /** True once close() was called: no transition starts or ends any more. */
  get closed(): boolean {
    return this.stopped;
  }

  /**
   * Owes a transition `ms` from now, adding it to the floor of server `floorOf`. A latency of 0
   * means the change has already happened when the request is answered: for a snapshot, an image
   * or a block volume the resource is put in its final state now (the create answers it, as real
   * Scaleway answers an instance snapshot or image `available`) and nothing is scheduled; its 0 ms
   * still shows in floorParts, so a bench can match the client's wait to it. A private NIC's sync
   * of 0 ms ends the same way. A server's transition of 0 ms still completes in the background, at
   * once (a boot attaches SSH and runs cloud-init).
   */
  schedule(request: TransitionRequest, ms: number, floorOf: string | null, ctx: RequestContext): void {
    if (ctx.stuck) return; // the fault: this transition never completes
    // One reading of the clock: the floor grows by exactly `ms` when nothing overlaps.
    const at = Date.now();
    const dueAt = at + ms;
    if (floorOf) {
      // Transitions that overlap (snapshots of several volumes taken at once) count once: the
      // floor grows by the part of this one not already covered by an earlier one.
      const busy = (this.world.busyUntil ??= {});
      const from = Math.max(at, busy[floorOf] ?? 0);
      const added = Math.max(0, dueAt - from);
      this.world.floors[floorOf] = (this.world.floors[floorOf] ?? 0) + added;
      busy[floorOf] = Math.max(busy[floorOf] ?? 0, dueAt);
      this.imposed.set(floorOf, [...(this.imposed.get(floorOf) ?? []), { kind: request.kind, ms: added }]);
    }
    if (ms === 0 && isWithoutIo(request.kind) && !this.held.has(this.latencyKindOf(request))) {
      this.finish(request, false);
      return;
    }
    const pending: PendingTransition = { ...request, dueAt };
    this.world.pending.push(pending);
    this.arm(pending);
  }

  /** Drops every transition owed to this resource. */
  cancel(targetId: string): void {
    for (const pending of this.world.pending.filter((p) => p.targetId === targetId)) {
      clearTimeout(this.timers.get(pending));
      this.timers.delete(pending);
      this.world.pending.splice(this.world.pending.indexOf(pending), 1);
    }
  }

  /** Drops the transitions owed to this resource if one of them is of this kind. */
  cancelOf(kind: PendingTransition['kind'], targetId: string): void {
    if (this.world.pending.some((p) => p.kind === kind && p.targetId === targetId)) this.cancel(targetId);
  }

  /** Holds back every transition of these kinds: one that falls due waits for release(). Lets a
   *  test observe a transient state (starting, stopping…) for as long as it needs. */
  hold(kinds: readonly Transition[]): void {
    for (const kind of kinds) this.held.add(kind);
  }

  /** Lets held transitions of these kinds complete (those already due at once). */
  release(kinds: readonly Transition[]): void {
    for (const kind of kinds) this.held.delete(kind);
    for (const pending of this.waiting.splice(0)) {
      if (this.held.has(this.latencyKindOf(pending))) this.waiting.push(pending);
      else this.track(this.complete(pending));
    }
  }

  /** The sum of latencies imposed on a server (the floor a perfect client reaches). */
  floorMs(serverId: string): number {
    return this.world.floors[serverId] ?? 0;
  }

  /** The latencies imposed on a server's floor, one per transition in order (this run only). */
  floorParts(serverId: string): { kind: string; ms: number }[] {
    return this.imposed.get(serverId) ?? [];
  }

  /** Arms the transitions a previous run left pending. */
  resume(): void {
    for (const pending of this.world.pending) this.arm(pending);
  }

  /** Stops every timer and waits for the transitions being carried out. */
  async close(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  /** The latency kind a transition took, by which hold() names it: a reboot's last part is a
   *  boot, and the snapshot of a Block volume a `blockSnapshot`. */
  private latencyKindOf(transition: TransitionRequest): Transition {
    switch (transition.kind) {
      case 'server.boot':
      case 'server.reboot':
        return 'boot';
      case 'server.stop':
      case 'server.stop_in_place':
      case 'server.terminate':
        return 'stop';
      case 'nic.sync':
        return 'nic';
      case 'volume.ready':
        return 'volume';
      case 'snapshot': {
        const snapshot = this.world.snapshots[transition.targetId];
        return snapshot && isBlockSnapshot(snapshot) ? 'blockSnapshot' : 'snapshot';
      }
      case 'image':
        return 'image';
    }
  }

  private arm(pending: PendingTransition): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(pending);
      if (this.held.has(this.latencyKindOf(pending))) this.waiting.push(pending);
      else this.track(this.complete(pending));
    }, Math.max(0, pending.dueAt - Date.now()));
    this.timers.set(pending, timer);
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.options.log(`transition failed: ${(error as Error).message}`));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async complete(pending: PendingTransition): Promise<void> {
    if (this.stopped) return;
    const index = this.world.pending.indexOf(pending);
    if (index < 0) return; // cancelled meanwhile
    this.world.pending.splice(index, 1);
    if (isWithoutIo(pending.kind)) this.finish(pending);
    else await this.options.carryOut(pending);
    this.options.persist();
  }

  /** The end of a transition without I/O: the resource takes its final state.
   *  `changed` is false when it ends in the answer that created it (one change: its creation). */
  private finish(transition: TransitionRequest, changed = true): void {
    switch (transition.kind) {
      case 'snapshot': {
        const snapshot = this.world.snapshots[transition.targetId];
        if (!snapshot) break;
        snapshot.state = 'available';
        // Recorded: a block snapshot's updated_at stays its creation time when it becomes available.
        if (changed && !isBlockSnapshot(snapshot)) snapshot.modification_date = now();
        settleVolumeOf(this.world, snapshot);
        break;
      }
      case 'nic.sync': {
        const nic = this.world.private_nics?.[transition.targetId];
        if (!nic || nic.state !== 'syncing') break;
        nic.state = transition.outcome === 'syncing_error' ? 'syncing_error' : 'available';
        if (changed) nic.modification_date = now();
        break;
      }
      case 'volume.ready': {
        const volume = this.world.volumes[transition.targetId];
        if (!volume) break;
        if (volume.pending_iops) volume.perf_iops = volume.pending_iops;
        volume.pending_iops = null;
        volume.block_transient = null;
        if (changed) volume.modification_date = now();
        break;
      }
      case 'image': {
        const image = this.world.images[transition.targetId];
        if (!image) break;
        image.state = 'available';
        if (changed) image.modification_date = now();
        break;
      }
      default:
        throw new Error(`finish: ${transition.kind} needs I/O; the simulation carries it out`);
    }
  }
}

/** Transitions that only change records (finish), so a latency of 0 puts the resource in its final state in the answer. */
function isWithoutIo(kind: PendingTransition['kind']): boolean {
  return kind === 'snapshot' || kind === 'image' || kind === 'volume.ready' || kind === 'nic.sync';
}
