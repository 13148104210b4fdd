// How long the simulated cloud takes to change a resource's state. Every transition happens
// in the background after one of these durations (0 for a snapshot, an image, a block volume or
// a NIC: it is done in the request's answer); the simulator adds each one it imposes to the server's "floor"
// (the time a perfect client could not beat). Profiles: `fast` (tests), `realistic` (round figures,
// ±25 %: the benches' own), `recorded` (what real Scaleway took in the recordings: real-world ratios).
import { seededRandom } from './random.js';

/** The transitions that take time. `stop` is also the first half of `terminate` and `reboot`;
 * `volume` is a block volume's creation or IOPS change, `blockSnapshot` a Block API snapshot,
 * `nic` a private NIC's sync. */
export const TRANSITIONS = ['boot', 'stop', 'snapshot', 'image', 'volume', 'blockSnapshot', 'nic'] as const;
export type Transition = (typeof TRANSITIONS)[number];

export type LatencyOption = 'fast' | 'realistic' | 'recorded' | Partial<Record<string, number>>;

/** The named profiles `--latency` takes. */
export const LATENCY_PROFILES = ['fast', 'realistic', 'recorded'] as const;

/** Fast enough for tests, slow enough that a client really sees the transient states. */
const FAST: Record<Transition, number> = { boot: 40, stop: 25, snapshot: 20, image: 20, volume: 10, blockSnapshot: 20, nic: 30 };
/**
 * Real Scaleway's durations, from the Scaleway Packer plugin's cassettes (recorded against the real
 * API in 2025–2026, internal/tests/testdata/packer-e2e-*.cassette.yaml; test/fixtures/cassettes/
 * holds the ones kiln replays) and reference/scaleway-modern-api.md:
 * - boot ~8 s (earlier observations; the recordings show 2–10 s from poweron to running);
 * - stop ~4 s (earlier observations, kept; the recordings show 25–70 s from poweroff to stopped);
 * - snapshot 0 and image 0: an instance (l_ssd) snapshot of a stopped server and an image answer
 *   `available` in their create's answer (4 recordings agree), nothing to wait for;
 * - block volume ~1 s; block snapshot ~5 s (`creating` → `available`, packer-e2e-block and the
 *   reference, 10–50 GB volumes); a private NIC syncs in ~35 s.
 * A latency of 0 means the create answers the final state and nothing is scheduled
 * (TransitionScheduler.schedule); the spread leaves 0 at 0.
 */
const REALISTIC: Record<Transition, number> = { boot: 8000, stop: 4000, snapshot: 0, image: 0, volume: 1000, blockSnapshot: 5000, nic: 35000 };
/** ±spread applied to realistic latencies, so clients are not tuned to exact numbers. */
const REALISTIC_SPREAD = 0.25;

const secs = (least: number, most = least): [number, number] => [least * 1000, most * 1000];
/**
 * What real Scaleway took, change by change, as recorded in the Packer plugin's cassettes
 * (test/fixtures/cassettes; derived there by test/sim/recorded-durations.ts, which checks these
 * intervals): one [least, most] interval per recorded change, since the recordings look every ~5 s
 * with 1 s stamps. Boots took 0–11 s, stops 51–77 s, block snapshots 1–6 s; instance snapshots and
 * images none. A block volume's readiness is not recorded (the realistic ~1 s is kept); a private
 * NIC synced in 33–37 s (reference/scaleway-modern-api.md §3).
 */
export const RECORDED: Record<Transition, [number, number][]> = {
  boot: [secs(1, 6), secs(6, 11), secs(0, 5), secs(5, 10)],
  stop: [secs(51, 56), secs(56, 61), secs(51, 56), secs(72, 77)],
  snapshot: [secs(0), secs(0)],
  image: [secs(0), secs(0), secs(0), secs(0)],
  volume: [secs(1)],
  blockSnapshot: [secs(1, 6), secs(1, 6), secs(1, 6)],
  nic: [secs(33, 37)],
};

export class LatencyModel {
  private readonly base: Record<Transition, number>;
  private readonly spread: number;
  /** The `recorded` profile: each duration is drawn from one recorded change's interval. */
  private readonly recorded: Record<Transition, [number, number][]> | undefined;
  private readonly random: () => number;

  constructor(option: LatencyOption | string | undefined, seed: number) {
    this.random = seededRandom(seed ^ 0x5eed1a7e);
    const profile = (LATENCY_PROFILES as readonly unknown[]).includes(option);
    const parsed = typeof option === 'string' && !profile ? parseLatencyJson(option) : (option as Exclude<LatencyOption, string> | (typeof LATENCY_PROFILES)[number] | undefined);
    this.recorded = parsed === 'recorded' ? RECORDED : undefined;
    if (parsed === undefined || parsed === 'fast' || parsed === 'recorded') {
      this.base = { ...FAST };
      this.spread = 0;
    } else if (parsed === 'realistic') {
      this.base = { ...REALISTIC };
      this.spread = REALISTIC_SPREAD;
    } else {
      this.base = { ...FAST, ...validateLatencyObject(parsed) };
      this.spread = 0;
    }
  }

  /** The duration, in ms, of the next transition of this kind. */
  next(transition: Transition): number {
    if (this.recorded) {
      const samples = this.recorded[transition];
      const [least, most] = samples[Math.floor(this.random() * samples.length)]!;
      return Math.round(least + (most - least) * this.random());
    }
    const base = this.base[transition];
    if (this.spread === 0) return base;
    return Math.round(base * (1 - this.spread + 2 * this.spread * this.random()));
  }
}

function parseLatencyJson(text: string): Partial<Record<string, number>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      `latency: expected "fast", "realistic", "recorded" or a JSON object of milliseconds such as '{"boot":2000,"stop":1000}', got ${JSON.stringify(text)}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`latency: the JSON must be an object of milliseconds per transition (${TRANSITIONS.join(', ')})`);
  return value as Partial<Record<string, number>>;
}

function validateLatencyObject(value: Partial<Record<string, number>>): Partial<Record<Transition, number>> {
  const result: Partial<Record<Transition, number>> = {};
  for (const [key, ms] of Object.entries(value)) {
    if (!(TRANSITIONS as readonly string[]).includes(key))
      throw new Error(`latency: unknown transition "${key}"; use ${TRANSITIONS.join(', ')}`);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new Error(`latency: "${key}" must be a number of milliseconds >= 0, got ${JSON.stringify(ms)}`);
    result[key as Transition] = ms;
  }
  return result;
}
