// Test-only crash points, to prove that a build survives kill -9 anywhere (issue 6):
//   KILN_CRASH_AT=<event type>[:<n>]  SIGKILL this process right after the n-th append (default 1st)
//                                     of that event type;
//   KILN_CRASH_AFTER_CALL=<phase>     SIGKILL right after that phase's API call succeeded, before its
//                                     result is recorded.
import type { BuildEvent } from '../store/index.js';

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

/** Called by a phase right after its API call returned, before recording the result. */
export function crashAfterCall(phase: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env.KILN_CRASH_AFTER_CALL === phase) die();
}
