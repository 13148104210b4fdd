// Talking to a running simulator over its HTTP API, as any Scaleway client would: the bench and
// the soak create fixtures with it and count what is left.
export const BENCH_TOKEN = '3b6c1ab2-7f35-4a2c-9b1e-5d0c7e0a9f11';
export const BENCH_PROJECT = '6a0c2d6e-2f4a-4c7e-8a3b-1f9e8d7c6b5a';
export const BENCH_ACCESS_KEY = 'SCWKILNBENCH00000000';
export const ZONE = 'fr-par-1';

export class SimApi {
  constructor(
    readonly apiUrl: string,
    readonly zone: string = ZONE,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const url = path.startsWith('/marketplace') ? `${this.apiUrl}${path}` : `${this.apiUrl}/instance/v1/zones/${this.zone}${path}`;
    const response = await fetch(url, {
      method,
      headers: { 'X-Auth-Token': BENCH_TOKEN, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : {}) as T };
  }

  /** Like request, but a non-2xx answer is an error. */
  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, json } = await this.request<T>(method, path, body);
    if (status >= 300) throw new Error(`${method} ${path}: HTTP ${status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Every item of a paged list (`key` is e.g. "servers"), optionally filtered by a tag. */
  async listAll<T>(key: string, query: Record<string, string> = {}): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
      const params = new URLSearchParams({ ...query, page: String(page), per_page: '100' });
      const json = await this.ok<Record<string, T[]>>('GET', `/${key}?${params}`);
      const batch = json[key] ?? [];
      items.push(...batch);
      if (batch.length < 100) return items;
    }
  }

  /** Every item of a paged Block Storage API list (`volumes`, `snapshots`): `page_size`, `total_count` in the body. */
  async listAllBlock<T>(key: string): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
      const response = await fetch(`${this.apiUrl}/block/v1/zones/${this.zone}/${key}?page=${page}&page_size=100`, { headers: { 'X-Auth-Token': BENCH_TOKEN } });
      if (!response.ok) throw new Error(`GET block ${key}: HTTP ${response.status}`);
      const json = (await response.json()) as Record<string, unknown>;
      const batch = (json[key] as T[] | undefined) ?? [];
      items.push(...batch);
      if (batch.length < 100 || items.length >= Number(json.total_count)) return items;
    }
  }

}

/**
 * The id of the marketplace image `label` for `commercialType` in `zone`, resolved as Packer 1.6.6
 * does it (the marketplace asks for no token).
 */
export async function marketplaceImageId(sim: { apiUrl: string }, label: string, commercialType: string, zone: string = ZONE): Promise<string> {
  interface MarketplaceImage {
    label: string;
    current_public_version: string;
    versions: { id: string; local_images: { id: string; zone: string; compatible_commercial_types: string[] }[] }[];
  }
  const response = await fetch(`${sim.apiUrl}/marketplace/v1/images?per_page=100`);
  if (!response.ok) throw new Error(`GET /marketplace/v1/images: HTTP ${response.status}`);
  const { images } = (await response.json()) as { images: MarketplaceImage[] };
  const image = images.find((i) => i.label === label);
  const version = image?.versions.find((v) => v.id === image.current_public_version);
  const local = version?.local_images.find((l) => l.zone === zone && l.compatible_commercial_types.includes(commercialType));
  if (!local) throw new Error(`the simulator's marketplace has no ${label} for ${commercialType} in ${zone}`);
  return local.id;
}
