// The Scaleway client: one object for everything kiln does in the cloud. It is the Instance API
// (instance.ts), with the Block Storage API as `block` (block.ts), the marketplace's label lookup
// (marketplace.ts), and the shared retry loop (transport.ts) open to the per-API modules that
// take the client as it is (network.ts). Every call goes through that one loop, so every API
// answers with the same typed errors (errors.ts) and is retried by the same rules.
import { BlockApi } from './block.js';
import { InstanceApi } from './instance.js';
import { resolveMarketplaceImage } from './marketplace.js';
import { Transport, type ClientOptions } from './transport.js';
import type { Arch } from './types.js';
import { collect, parseJson, type CallOptions, type Query, type RequestSpec } from './wire.js';

export class ScalewayClient extends InstanceApi {
  /** The Block Storage API (SBS volumes and their snapshots), through this client's retry loop. */
  readonly block: BlockApi;

  constructor(options: ClientOptions) {
    super(new Transport(options));
    this.block = new BlockApi(this.transport);
  }

  /**
   * A marketplace label (`ubuntu_jammy`, `ubuntu-jammy`) → the image UUID for this zone and
   * commercial type, and its arch. NotFoundError names the nearest labels when there is no match.
   */
  resolveMarketplaceImage(label: string, commercialType: string, o?: CallOptions): Promise<{ id: string; arch: Arch }> {
    return resolveMarketplaceImage(this.transport, label, commercialType, o);
  }

  // ---- for the per-API modules (network.ts, …): the shared retry loop and error types ------

  /** The region of this client's zone (`fr-par-1` → `fr-par`), for regional APIs such as VPC. */
  get region(): string {
    return this.zone.replace(/-\d+$/, '');
  }

  /** One call through the shared retry loop; the parsed JSON object answered, or `{}` for 204. */
  async callApi(call: Omit<RequestSpec, 'text'>, o?: CallOptions): Promise<Record<string, unknown>> {
    const answer = await this.transport.call(call, o);
    return answer.status === 204 || answer.text === '' ? {} : parseJson(answer);
  }

  /** Every page of a list (Instance-style `page`/`per_page`, `X-Total-Count`). */
  listAll<T>(path: string, key: string, filter: Query, o?: CallOptions): Promise<T[]> {
    return collect(this.transport.pages<T>(path, key, filter, o));
  }
}
