// The official Scaleway SDK's client, pointed at a test simulator: the SDK tests drive the
// simulator with it, unchanged, as a Scaleway user's program would.
import { createClient } from '@scaleway/sdk-client';
import type { Simulator } from '../helpers/sim.js';

/** The project the SDK tests create their resources in. */
export const SDK_PROJECT = '7b3f2a1e-0c4d-4e5f-9a6b-1c2d3e4f5a6b';

/** A client of the SDK for `sim`, in `zone` (and `region`, for the regional APIs such as VPC). */
export function sdkClient(sim: Pick<Simulator, 'apiUrl'>, zone = 'fr-par-1', region?: string): ReturnType<typeof createClient> {
  return createClient({
    // The SDK checks the credentials' formats before any request.
    accessKey: 'SCWXXXXXXXXXXXXXXXXX',
    secretKey: '11111111-2222-4333-8444-555555555555',
    defaultProjectId: SDK_PROJECT,
    defaultZone: zone,
    ...(region ? { defaultRegion: region } : {}),
    apiURL: sim.apiUrl,
  });
}
