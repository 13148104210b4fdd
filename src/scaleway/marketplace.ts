// The Scaleway Marketplace API (`/marketplace/v1/images`): label → image UUID, the way Scaleway's
// tools resolve `image: ubuntu_jammy`: label with `-` as `_`, exact label match, the version named
// `current_public_version`, and in it the local image for the build's zone that is compatible with
// the (upper-cased) commercial type.
import { NotFoundError } from './errors.js';
import type { Transport } from './transport.js';
import type { Arch, MarketplaceImage } from './types.js';
import { collect, type CallOptions } from './wire.js';

/** The whole catalogue (every page), then `pickMarketplaceImage` for the transport's zone. */
export async function resolveMarketplaceImage(
  transport: Transport,
  label: string,
  commercialType: string,
  o?: CallOptions,
): Promise<{ id: string; arch: Arch }> {
  const catalogue = await collect(transport.pages<MarketplaceImage>('/marketplace/v1/images', 'images', {}, o));
  return pickMarketplaceImage(catalogue, label, transport.zone, commercialType);
}

export function normalizeLabel(label: string): string {
  return label.trim().replace(/-/g, '_');
}

/** Edit distance, to suggest the labels closest to a mistyped one. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Up to `count` labels nearest to `wanted`: containing it (or contained in it) first, then by edit distance. */
export function nearbyLabels(wanted: string, labels: string[], count = 5): string[] {
  const scored = [...new Set(labels)].map((label) => ({
    label,
    score: (label.includes(wanted) || wanted.includes(label) ? 0 : 100) + distance(wanted, label),
  }));
  scored.sort((x, y) => x.score - y.score || x.label.localeCompare(y.label));
  return scored.slice(0, count).map((s) => s.label);
}

export function pickMarketplaceImage(
  catalogue: MarketplaceImage[],
  label: string,
  zone: string,
  commercialType: string,
): { id: string; arch: Arch } {
  const wanted = normalizeLabel(label);
  const type = commercialType.trim().toUpperCase();
  const entry = catalogue.find((image) => image.label === wanted);
  if (!entry) {
    const near = nearbyLabels(wanted, catalogue.map((image) => image.label));
    throw new NotFoundError(
      `No marketplace image has the label "${wanted}"${wanted !== label ? ` (from "${label}")` : ''}.` +
        (near.length ? ` Nearby labels: ${near.join(', ')}.` : ' The marketplace returned no images.') +
        ' Set `image` to one of them, or to an image UUID.',
      { status: null, type: 'not_found', resource: 'marketplace_image', resourceId: wanted, retryable: false },
    );
  }
  const version = entry.versions.find((v) => v.id === entry.current_public_version);
  if (!version) {
    throw new NotFoundError(
      `The marketplace image "${wanted}" names current version ${entry.current_public_version}, which it does not list. Use an image UUID instead.`,
      { status: null, type: 'not_found', resource: 'marketplace_image', resourceId: wanted, retryable: false },
    );
  }
  const local = version.local_images.find(
    (li) => li.zone === zone && li.compatible_commercial_types.map((t) => t.toUpperCase()).includes(type),
  );
  if (!local) {
    const inZone = version.local_images.filter((li) => li.zone === zone);
    const offered = inZone.length
      ? `In ${zone} it runs on: ${[...new Set(inZone.flatMap((li) => li.compatible_commercial_types))].join(', ')}.`
      : `It is offered in: ${[...new Set(version.local_images.map((li) => li.zone))].join(', ') || 'no zone'}.`;
    throw new NotFoundError(
      `The marketplace image "${wanted}" has no local image for commercial type ${type} in ${zone}. ${offered} Change commercial_type or zone.`,
      { status: null, type: 'not_found', resource: 'marketplace_image', resourceId: wanted, retryable: false },
    );
  }
  return { id: local.id, arch: local.arch };
}
