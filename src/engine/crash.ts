// Test-only crash points, to prove that a build survives kill -9 anywhere (issue 6, issue 19):
//   KILN_CRASH_AT=<event type>[:<n>]     SIGKILL this process right after the n-th append (default
//                                        the 1st) of that event type by this process — whichever
//                                        command appends it (build, resume, gc);
//   KILN_CRASH_AFTER_CALL=<result type>  SIGKILL right after the API call whose result that event
//                                        records returned, before the result is appended (one of
//                                        CLOUD_CHANGE_RESULTS: the call changed the cloud, the log
//                                        does not know it yet). Its one caller is tracked.ts, the
//                                        helper every cloud-changing call goes through.
// The crash matrix (test/cli-build/crash-matrix.ts) kills each scenario's command at every event
// type its reference run appends, and after every call of CLOUD_CHANGE_RESULTS it makes; its
// coverage test fails for an event type (EVENT_TYPES) or a call that no scenario reaches.
import type { BuildEvent, BuildStore, EventType } from '../store/index.js';

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL cannot be caught; this line is never reached.
  throw new Error('unreachable');
}

/** A store listener that kills the process at the configured event, or null when none is set. */
export function crashAtListener(env: NodeJS.ProcessEnv = process.env): ((event: BuildEvent) => void) | null {
  const spec = env.KILN_CRASH_AT;
  if (!spec) return null;
  const [type, nth] = spec.split(':');
  const wanted = nth ? Number(nth) : 1;
  let seen = 0;
  return (event) => {
    if (event.type === type && ++seen === wanted) die();
  };
}

/** Arms KILN_CRASH_AT on the store a command writes through (once per process). */
export function armCrashPoint(store: BuildStore, env: NodeJS.ProcessEnv = process.env): void {
  const listener = crashAtListener(env);
  if (listener) store.subscribe(listener);
}

/** Called right after an API call that changed the cloud returned, before `result` is appended. */
export function crashAfterCall(result: EventType, env: NodeJS.ProcessEnv = process.env): void {
  if (env.KILN_CRASH_AFTER_CALL === result) die();
}
