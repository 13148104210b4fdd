// --debug: one line per API attempt on stderr, the same for `kiln build` and `kiln resume`.
import type { RequestReport } from '../../scaleway/index.js';
import { redactText } from '../../template/index.js';

/** The onRequest hook of a run under --debug (undefined without it); `secrets` are hidden in errors. */
export function debugRequests(debug: boolean | undefined, err: (line: string) => void, secrets: readonly string[]): ((r: RequestReport) => void) | undefined {
  if (!debug) return undefined;
  return (r) =>
    err(`debug: ${r.method} ${r.path} → ${r.status ?? 'no answer'} (attempt ${r.attempt}, ${r.durationMs} ms)${r.error ? ` ${redactText(r.error, secrets)}` : ''}`);
}

