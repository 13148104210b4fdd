// The gc page's plan: `kiln gc`'s own options (flags as query parameters, credentials from the
// environment and the Scaleway config file) and its planning, without the run record or any
// deletion: the UI never writes, to the store or to the cloud.
import { describeError, GcUsageError } from '../gc/errors.js';
import { resolveGcOptions } from '../gc/options.js';
import { planGc, type GcPlanStore } from '../gc/survey.js';
import type { GcView } from './pages.js';

export interface GcAsk {
  zone?: string;
  allZones?: boolean;
  olderThan?: string;
}

export function gcAskOf(params: URLSearchParams): GcAsk {
  return {
    ...(params.get('zone') ? { zone: params.get('zone')! } : {}),
    ...(params.get('all-zones') ? { allZones: true } : {}),
    ...(params.get('older-than') ? { olderThan: params.get('older-than')! } : {}),
  };
}

/** What `kiln gc` (a dry run) would remove now, or why it cannot tell. */
export async function gcView(store: GcPlanStore, ask: GcAsk, env: NodeJS.ProcessEnv = process.env): Promise<Omit<GcView, 'runs'>> {
  const now = Date.now();
  let options;
  try {
    options = await resolveGcOptions(ask, env);
  } catch (error) {
    if (!(error instanceof GcUsageError)) throw error;
    return { zones: [], now, problem: `kiln gc cannot look at the cloud: ${error.message}` };
  }
  const view = { zones: options.zones, olderThanMs: options.olderThanMs, now };
  try {
    const plan = await planGc({ ...options, store }, undefined, now);
    return { ...view, items: plan.items };
  } catch (error) {
    return { ...view, problem: `${describeError(error)}` };
  }
}
