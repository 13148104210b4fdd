// Every route the simulator serves, per API. Instance routes are relative to
// `/instance/v1/zones/{zone}` and Block routes to `/block/v1/zones/{zone}` (or v1alpha1); the
// Marketplace's and VPC's paths are absolute. src/sim/index.ts matches requests against them.
import { BLOCK_ROUTES } from './block.js';
import { NETWORK_ROUTES } from './instance/network.js';
import { PRODUCT_ROUTES } from './instance/products.js';
import { SERVER_ROUTES } from './instance/servers.js';
import { STORAGE_ROUTES } from './instance/storage.js';
import { MARKETPLACE_ROUTES } from './marketplace.js';
import type { Route } from './route.js';
import { VPC_ROUTES } from './vpc.js';

export type { Route } from './route.js';

/** The Instance API's routes (zoned), then the Marketplace's and VPC's (absolute paths). */
export const ROUTES: Route[] = [...SERVER_ROUTES, ...STORAGE_ROUTES, ...NETWORK_ROUTES, ...PRODUCT_ROUTES, ...MARKETPLACE_ROUTES, ...VPC_ROUTES];

export { BLOCK_ROUTES };
