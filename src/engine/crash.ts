// Test-only crash points, to prove that a build survives kill -9 anywhere (issue 6, issue 19, issue 25):
//   KILN_CRASH_AT=<event type>[:<n>]           SIGKILL this process right after the n-th append
//                                              (default the 1st) of that event type by this
//                                              process — whichever command appends it (build,
//                                              resume, gc); `phase.started:3` is the third phase
//                                              this process starts.
//   KILN_CRASH_AFTER_CALL=<result type>[:<n>]  SIGKILL right after the n-th API call (default the
//                                              1st) of this process whose result that event
//                                              records returned, before the result is appended
//                                              (one of CLOUD_CHANGE_RESULTS: the call changed the
//                                              cloud, the log does not know it yet);
//                                              `volume.deleted:2` is after the second volume's
//                                              delete. Its one caller is tracked.ts, the helper
//                                              every cloud-changing call goes through; a result
//                                              found by reconcile (no call made) is not counted.
// Where the kill points come from: the crash matrix (test/cli-build/crash-matrix.ts) runs each
// scenario once unkilled (its reference run) and derives them from the events that run's killed
// command appended — each (phase, event type) pair and each occurrence of a call of
// CLOUD_CHANGE_RESULTS; see its header for which of them `npm test` samples. Its coverage test
// fails for an event type (EVENT_TYPES), a phase or a call that no scenario reaches.
import type { BuildEvent, BuildStore, EventType } from '../store/index.js';

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL cannot be caught; this line is never reached.
  throw new Error('unreachable');
}

/** `type[:n]` → the type and the ordinal (1 when absent). */
function parsePoint(spec: string): { type: string; nth: number } {
  const [type, nth] = spec.split(':');
  return { type: type!, nth: nth ? Number(nth) : 1 };
}

/** A store listener that kills the process at the configured event, or null when none is set. */
export function crashAtListener(env: NodeJS.ProcessEnv = process.env): ((event: BuildEvent) => void) | null {
  const spec = env.KILN_CRASH_AT;
  if (!spec) return null;
  const { type, nth } = parsePoint(spec);
  let seen = 0;
  return (event) => {
    if (event.type === type && ++seen === nth) die();
  };
}

/** Arms KILN_CRASH_AT on the store a command writes through (once per process). */
export function armCrashPoint(store: BuildStore, env: NodeJS.ProcessEnv = process.env): void {
  const listener = crashAtListener(env);
  if (listener) store.subscribe(listener);
}

/** Calls of the KILN_CRASH_AFTER_CALL type this process made so far. */
let callsSeen = 0;

/** Called right after an API call that changed the cloud returned, before `result` is appended. */
export function crashAfterCall(result: EventType, env: NodeJS.ProcessEnv = process.env): void {
  const spec = env.KILN_CRASH_AFTER_CALL;
  if (!spec) return;
  const { type, nth } = parsePoint(spec);
  if (type === result && ++callsSeen === nth) die();
}
