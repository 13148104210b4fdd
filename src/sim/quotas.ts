// The organization's quotas, which the simulator enforces by itself (`--quotas '{"snapshots":2}'`):
// a create that would go past one is refused as Scaleway refuses it — the Instance API with its own
// 403 `invalid_request_error` "Quota exceeded for this resource." naming the quota, the Block API
// with the standard 403 `quotas_exceeded` and the figures (reference/packer-today.md, "Scaleway's
// error answers"). Deleting what counts lifts the refusal, as on Scaleway.
import { quotaExceeded, type ApiError } from './http.js';
import { jsonObjectOption } from './json-option.js';
import { isBlockSnapshot, isBlockVolume, type Owned, type WorldData } from './world.js';

/** What a quota counts: each kind is one of Scaleway's quotas of an organization. */
export const QUOTA_KINDS = ['servers', 'snapshots', 'images', 'ips', 'block_volumes', 'block_snapshots'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

/** At most this many of each kind per organization (absent: no limit). */
export type QuotaSpec = Partial<Record<QuotaKind, number>>;

const BLOCK_KINDS: readonly QuotaKind[] = ['block_volumes', 'block_snapshots'];

export function parseQuotas(input: string | QuotaSpec | undefined): QuotaSpec {
  if (input === undefined) return {};
  const spec = jsonObjectOption('quotas', input, '{"snapshots":2,"servers":1}', `kind → maximum (kinds: ${QUOTA_KINDS.join(', ')})`);
  for (const [kind, value] of Object.entries(spec)) {
    if (!(QUOTA_KINDS as readonly string[]).includes(kind)) throw new Error(`quotas: unknown kind "${kind}"; known: ${QUOTA_KINDS.join(', ')}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`quotas: "${kind}" must be a whole number >= 0`);
  }
  return spec as QuotaSpec;
}

/**
 * The quota's name as the answer carries it. The one recorded Instance answer names
 * `compute_snapshots_type_b_ssd_available`; the simulator names the others after it.
 */
export function quotaName(kind: QuotaKind, detail: { volumeType?: string; commercialType?: string } = {}): string {
  switch (kind) {
    case 'servers':
      return `compute_servers_type_${(detail.commercialType ?? 'any').toLowerCase().replace(/-/g, '_')}_available`;
    case 'snapshots':
      return `compute_snapshots_type_${detail.volumeType ?? 'l_ssd'}_available`;
    case 'images':
      return 'compute_images_available';
    case 'ips':
      return 'compute_ips_available';
    case 'block_volumes':
      return 'block_storage_volumes';
    case 'block_snapshots':
      return 'block_storage_snapshots';
  }
}

/** The refusal of one more of `kind`, in the words of the API that counts it. */
export function quotaRefusal(kind: QuotaKind, figures: { quota: number; current: number }, detail?: { volumeType?: string; commercialType?: string }): ApiError {
  return quotaExceeded(BLOCK_KINDS.includes(kind) ? 'standard' : 'instance', { resource: quotaName(kind, detail), ...figures });
}

export class Quotas {
  constructor(
    private readonly world: WorldData,
    private readonly spec: QuotaSpec,
  ) {}

  /** How many of `kind` the organization has now. */
  count(kind: QuotaKind, organization: string): number {
    const ours = (r: Owned) => r.organization === organization;
    const { servers, snapshots, images, ips, volumes } = this.world;
    switch (kind) {
      case 'servers':
        return Object.values(servers).filter(ours).length;
      case 'snapshots':
        return Object.values(snapshots).filter((s) => ours(s) && !isBlockSnapshot(s)).length;
      case 'block_snapshots':
        return Object.values(snapshots).filter((s) => ours(s) && isBlockSnapshot(s)).length;
      case 'images':
        return Object.values(images).filter(ours).length;
      case 'ips':
        return Object.values(ips).filter(ours).length;
      case 'block_volumes':
        return Object.values(volumes).filter((v) => ours(v) && isBlockVolume(v)).length;
    }
  }

  /** Refuses (throws Scaleway's answer) a create of `more` of `kind` that would go past its quota. */
  check(kind: QuotaKind, organization: string, more = 1, detail?: { volumeType?: string; commercialType?: string }): void {
    const quota = this.spec[kind];
    if (quota === undefined || more === 0) return;
    const current = this.count(kind, organization);
    if (current + more > quota) throw quotaRefusal(kind, { quota, current }, detail);
  }
}
