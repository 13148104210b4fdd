// Fault injection: per route, the probability that a request meets one of the failures real
// clouds produce. One seeded die is rolled per request, so a given seed and request sequence
// always fail the same way.
import { jsonObjectOption } from './json-option.js';
import { seededRandom } from './random.js';
import { REFUSAL_KINDS } from './refusals.js';

// ghost_create: a create is performed, then answered 500. ghost: the same for any request that
// changes something (POST, PATCH, DELETE): the answer of a change that happened is lost.
// error_state: the transition the request starts ends in the resource's error state (a private NIC: syncing_error).
// The refusals of a real account (refusals.ts) — out_of_stock, quotas_exceeded, permissions_denied,
// denied_authentication, precondition_failed, locked — answer in Scaleway's shape for the route.
export const FAULT_KINDS = ['5xx', '429', '429_no_retry_after', 'reset', 'slow', 'ghost_create', 'ghost', 'stuck', 'error_state', ...REFUSAL_KINDS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Probabilities (0..1) per fault kind for one route, plus the knobs of `slow` and `429`. */
export type RouteFaults = Partial<Record<FaultKind, number>> & {
  /** How long a `slow` answer is delayed, ms (default 2000). */
  slow_ms?: number;
  /** The Retry-After value of a `429`, seconds (default 1). */
  retry_after?: number;
};

/**
 * Keys are `"METHOD /route-pattern"` (the route names of `requestCounts()`, e.g. `"POST /servers"`,
 * `"GET /servers/{id}"`, `"POST /servers/{id}/action"`), `"* /pattern"` for any method, or `"*"`
 * for every Instance API route. The marketplace is only affected when named explicitly.
 */
export type FaultSpec = Record<string, RouteFaults>;

export interface RolledFault {
  kind: FaultKind;
  slowMs: number;
  retryAfter: number;
  /** The status of a `5xx`: 500, 502, 503 or 504. */
  serverErrorStatus: number;
}

export function parseFaults(input: string | FaultSpec | undefined): FaultSpec {
  if (input === undefined) return {};
  const spec = jsonObjectOption('faults', input, '{"POST /servers":{"5xx":0.2},"*":{"429":0.05}}', 'route → {kind: probability}');
  for (const [route, faults] of Object.entries(spec)) {
    if (typeof faults !== 'object' || faults === null || Array.isArray(faults))
      throw new Error(`faults: "${route}" must map to an object such as {"5xx":0.1}`);
    let total = 0;
    for (const [kind, value] of Object.entries(faults as Record<string, unknown>)) {
      if (kind === 'slow_ms' || kind === 'retry_after') {
        if (typeof value !== 'number' || value < 0) throw new Error(`faults: "${route}".${kind} must be a number >= 0`);
        continue;
      }
      if (!(FAULT_KINDS as readonly string[]).includes(kind))
        throw new Error(`faults: "${route}" names unknown fault "${kind}"; known: ${FAULT_KINDS.join(', ')}, slow_ms, retry_after`);
      if (typeof value !== 'number' || value < 0 || value > 1)
        throw new Error(`faults: "${route}".${kind} must be a probability between 0 and 1`);
      total += value;
    }
    if (total > 1 + 1e-9) throw new Error(`faults: the probabilities of "${route}" add up to ${total} (> 1)`);
  }
  return spec as FaultSpec;
}

export class FaultInjector {
  private readonly random: () => number;

  constructor(
    private spec: FaultSpec,
    seed: number,
  ) {
    this.random = seededRandom(seed ^ 0xfa17);
  }

  /** Faults from now on (the cause of a refusal removed, say); the die keeps rolling where it was. */
  replace(spec: FaultSpec): void {
    this.spec = spec;
  }

  /** The fault this request meets, if any. `route` is `"METHOD /pattern"`. */
  roll(route: string, isMarketplace: boolean): RolledFault | undefined {
    const faults = this.faultsFor(route, isMarketplace);
    if (!faults) return undefined;
    const die = this.random();
    let cumulative = 0;
    for (const kind of FAULT_KINDS) {
      cumulative += faults[kind] ?? 0;
      if (die < cumulative) {
        const serverErrorStatus = [500, 502, 503, 504][Math.floor(this.random() * 4)]!;
        return { kind, slowMs: faults.slow_ms ?? 2000, retryAfter: faults.retry_after ?? 1, serverErrorStatus };
      }
    }
    return undefined;
  }

  private faultsFor(route: string, isMarketplace: boolean): RouteFaults | undefined {
    if (this.spec[route]) return this.spec[route];
    const anyMethod = `* ${route.slice(route.indexOf(' ') + 1)}`;
    if (this.spec[anyMethod]) return this.spec[anyMethod];
    return isMarketplace ? undefined : this.spec['*'];
  }
}
