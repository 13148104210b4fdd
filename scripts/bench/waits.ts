// Item 10: the waits' schedule, modelled — the real prediction and polling schedule replayed against
// the simulator's realistic latencies, with no clock: what fewer API calls cost in lag.
import { firstPollDelay, POLL_SCHEDULE, pollDelay, predictWait, type PollSchedule, type WaitRecord } from '../../src/scaleway/index.js';
import { markdownTable, millis } from '../lib/stats.js';
import { WARM_UP_BUILDS } from './e2e.js';
import type { SectionResult, Settings } from './section.js';

/**
 * Replays the one polling schedule against the simulator's realistic latencies (uniform ±25 %),
 * learning from its own past waits as kiln does: looks and lag per wait for a few numbers of looks
 * in the predicted window (POLL_SCHEDULE.windowLooks), next to the plain schedule. With the API's
 * stamps a past wait's duration is exact (`apiDurationMs`); without them it is the midpoint between
 * the last miss and the hit. The boot wait of an SSH build watches its sign (the SSH port
 * answering, noticed within the probe's 100 ms gap); a build without SSH has none. A snapshot or
 * image of latency 0 is `available` in its create's answer (as on real Scaleway): no look. Shows
 * what fewer API calls cost in lag, without timing.
 */
export async function waitModel(s: Settings): Promise<SectionResult> {
  const realistic: Record<string, number> = { 'server.boot': 8_000, 'server.stop': 4_000, snapshot: 1_000, image: 3_000 };
  const asReal: Record<string, number> = { ...realistic, snapshot: 0, image: 0 };
  const builds = s.quick ? 200 : 1_000;
  const PROBE_GAP_MS = 100;
  /** The calls of a build with history that are not looks (name checks, creates, actions, the root volume's PATCH and DELETE, the server's DELETE). */
  const OTHER_CALLS = 10;
  /** Packer 1.6.6's calls for the same template (the e2e section measures them): the calls target. */
  const PACKER_CALLS = 14;
  /** Looks and lag (ms) per wait kind, averaged over the replayed builds. */
  const replay = (latencies: Record<string, number>, schedule: Partial<PollSchedule> | null, o: { sshSign: boolean; exact: boolean }) => {
    let seed = 14;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const perWait: Record<string, { looks: number; lag: number }> = {};
    /** Each measured build's looks, summed over its waits. */
    const buildLooks = Array.from({ length: builds }, () => 0);
    for (const [wait, base] of Object.entries(latencies)) {
      const key = { wait, zone: 'fr-par-1', commercialType: 'DEV1-S', volumeType: 'l_ssd', sizeClass: '32GB' };
      const history: WaitRecord[] = [];
      const signed = o.sshSign && wait === 'server.boot';
      let looks = 0;
      let lag = 0;
      for (let b = 0; b < WARM_UP_BUILDS + builds; b++) {
        const changeAt = base * (0.75 + 0.5 * random());
        const signAt = changeAt + PROBE_GAP_MS * random();
        const prediction = schedule ? predictWait(history, key) : undefined;
        let t = firstPollDelay(0, prediction, signed, schedule ?? {});
        let n = 0;
        let lastMiss: number | undefined;
        let onSign = false;
        if (base === 0) t = 0; // answered by the create: no look
        else
          for (;;) {
            n++;
            if (t >= changeAt) break;
            lastMiss = t;
            const next = t + pollDelay(t, schedule ?? {}, prediction, signed);
            onSign = signed && signAt < next;
            t = onSign ? Math.max(signAt, t + POLL_SCHEDULE.minMs) : next;
          }
        history.push({ key, durationMs: t, ...(onSign ? {} : { lastMissMs: lastMiss }), ...(o.exact ? { apiDurationMs: changeAt } : {}), whole: true });
        if (b >= WARM_UP_BUILDS) {
          buildLooks[b - WARM_UP_BUILDS]! += n;
          looks += n / builds;
          lag += (t - changeAt) / builds;
        }
      }
      perWait[wait] = { looks, lag };
    }
    const waits = Object.values(perWait);
    const meanLooks = waits.reduce((sum, w) => sum + w.looks, 0);
    const calls = buildLooks.map((n) => OTHER_CALLS + n).sort((x, y) => x - y);
    return [
      ...Object.keys(latencies).map((w) => `${perWait[w]!.looks.toFixed(1)} / ${millis(perWait[w]!.lag)}`),
      meanLooks.toFixed(1),
      `${(OTHER_CALLS + meanLooks).toFixed(1)} / ${calls[Math.floor(builds / 2)]} / ${calls[builds - 1]} / ${((100 * calls.filter((c) => c <= PACKER_CALLS).length) / builds).toFixed(0)} %`,
      millis(waits.reduce((sum, w) => sum + w.lag, 0)),
    ];
  };
  const kilns = (n: number) => (n === POLL_SCHEDULE.windowLooks ? " (kiln's)" : '');
  const placed = [1, 2, 3, 4, 20];
  const looksLabel = (n: number) => (n === 20 ? '20 looks in the window (a look every 0.1 × spread, the schedule before)' : `${n} look${n > 1 ? 's' : ''} in the window`);
  const rows = [
    ['snapshot 1 s, image 3 s: plain schedule (cold, no history), no SSH sign', ...replay(realistic, null, { sshSign: false, exact: true })],
    ['snapshot 1 s, image 3 s: plain schedule (cold, no history), SSH sign for the boot', ...replay(realistic, null, { sshSign: true, exact: true })],
    ...[1, 2, 20].map((n) => [`snapshot 1 s, image 3 s: ${looksLabel(n)}, durations from the looks (no stamps)`, ...replay(realistic, { windowLooks: n }, { sshSign: true, exact: false })]),
    ...placed.map((n) => [`snapshot 1 s, image 3 s: ${looksLabel(n)}, exact durations${kilns(n)}`, ...replay(realistic, { windowLooks: n }, { sshSign: true, exact: true })]),
    ...placed.map((n) => [`snapshot and image answered \`available\` (real Scaleway): ${looksLabel(n)}, exact durations${kilns(n)}`, ...replay(asReal, { windowLooks: n }, { sshSign: true, exact: true })]),
  ];
  return {
    rows: [],
    details: [
      `**The waits' schedule, modelled** (${builds} builds after ${WARM_UP_BUILDS} of warm-up replayed through \`predictWait\` and \`pollDelay\` against the realistic latencies, boot 8 s, stop 4 s, and snapshot 1 s, image 3 s or 0 (answered \`available\` by the create), each ±25 %; the boot watches its SSH sign except in the first row; looks / lag per wait, then the four waits of one build summed; calls per build = ${OTHER_CALLS} calls that are not looks + the looks, as mean / median / max / share of builds with ≤ ${PACKER_CALLS} (Packer's); no clock involved):\n\n` +
        markdownTable(['schedule', 'boot', 'stop', 'snapshot', 'image', 'looks per build', `calls per build (mean / median / max / ≤ ${PACKER_CALLS})`, 'lag per build'], rows),
    ],
  };
}
