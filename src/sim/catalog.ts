// What the simulated cloud offers before anyone creates anything: zones, commercial types,
// bootscripts and the marketplace images (with their public instance images and root
// snapshots). Everything here is derived deterministically, so ids are the same in every
// simulator run and survive a restart with a state directory.
import { stableUuid } from './random.js';

export const ZONES = [
  'fr-par-1', 'fr-par-2', 'fr-par-3',
  'nl-ams-1', 'nl-ams-2', 'nl-ams-3',
  'pl-waw-1', 'pl-waw-2', 'pl-waw-3',
] as const;
export type Zone = (typeof ZONES)[number];

/** The region a zone is in: its prefix (`fr-par-1` → `fr-par`), where VPC private networks live. */
export function regionOfZone(zone: Zone): string {
  return zone.replace(/-\d+$/, '');
}

/** VPC regions: the zones' prefixes. */
export const REGIONS = [...new Set(ZONES.map(regionOfZone))];

/** Scaleway's pre-2020 region names, still accepted in paths. */
const LEGACY_ZONES: Record<string, Zone> = { par1: 'fr-par-1', ams1: 'nl-ams-1' };

/** The canonical zone for a path segment, or undefined when Scaleway would reject it. */
export function resolveZone(segment: string): Zone | undefined {
  if ((ZONES as readonly string[]).includes(segment)) return segment as Zone;
  return LEGACY_ZONES[segment];
}

export type Arch = 'x86_64' | 'arm' | 'arm64';

export interface CommercialType {
  ncpus: number;
  ram: number; // bytes
  arch: Arch;
  hourly_price: number;
  /** Local volume size range, bytes ({0, 0}: no local storage, SBS volumes only). */
  volumes_constraint: { min_size: number; max_size: number };
  /** Default root volume size for a server created from an image, bytes. */
  defaultVolumeSize: number;
  /** False for the types with no local storage (PRO2, PLAY2, POP2, ENT1, COPARM1): l_ssd is refused. */
  localStorage: boolean;
}

const GB = 1_000_000_000;
const GiB = 1024 ** 3;

function type(arch: Arch, ncpus: number, ramGiB: number, price: number, minGB: number, maxGB: number): CommercialType {
  return {
    ncpus,
    ram: ramGiB * GiB,
    arch,
    hourly_price: price,
    volumes_constraint: { min_size: minGB * GB, max_size: maxGB * GB },
    defaultVolumeSize: Math.min(maxGB, Math.max(minGB, 20)) * GB,
    localStorage: true,
  };
}

/** A current type without local storage: its root volume is an SBS block volume. */
function sbsOnly(arch: Arch, ncpus: number, ramGiB: number, price: number): CommercialType {
  return { ncpus, ram: ramGiB * GiB, arch, hourly_price: price, volumes_constraint: { min_size: 0, max_size: 0 }, defaultVolumeSize: 0, localStorage: false };
}

/** The seed's (2020) commercial types and a few current ones. */
export const COMMERCIAL_TYPES: Record<string, CommercialType> = {
  'START1-XS': type('x86_64', 1, 1, 0.004, 25, 25),
  'START1-S': type('x86_64', 2, 2, 0.008, 50, 50),
  'START1-M': type('x86_64', 4, 4, 0.016, 100, 100),
  'START1-L': type('x86_64', 8, 8, 0.032, 200, 200),
  C1: type('arm', 4, 2, 0.006, 50, 50),
  C2S: type('x86_64', 4, 8, 0.024, 50, 250),
  C2M: type('x86_64', 8, 16, 0.036, 50, 500),
  C2L: type('x86_64', 8, 32, 0.048, 50, 600),
  'ARM64-2GB': type('arm64', 4, 2, 0.006, 50, 50),
  'ARM64-4GB': type('arm64', 6, 4, 0.012, 100, 100),
  'ARM64-8GB': type('arm64', 8, 8, 0.024, 200, 200),
  'ARM64-16GB': type('arm64', 16, 16, 0.048, 200, 200),
  'ARM64-32GB': type('arm64', 32, 32, 0.096, 300, 300),
  'ARM64-64GB': type('arm64', 48, 64, 0.192, 400, 400),
  'ARM64-128GB': type('arm64', 64, 128, 0.384, 500, 500),
  'X64-15GB': type('x86_64', 6, 15, 0.05, 200, 200),
  'X64-30GB': type('x86_64', 8, 30, 0.1, 300, 300),
  'X64-60GB': type('x86_64', 10, 60, 0.18, 400, 400),
  'X64-120GB': type('x86_64', 12, 120, 0.36, 500, 500),
  // Local storage limits as `GET /products/servers` gave them in 2024 (reference/scaleway-modern-api.md §2.4).
  'DEV1-S': type('x86_64', 2, 2, 0.0088, 10, 20),
  'DEV1-M': type('x86_64', 3, 4, 0.0198, 10, 40),
  'DEV1-L': type('x86_64', 4, 8, 0.042, 10, 80),
  'DEV1-XL': type('x86_64', 4, 12, 0.063, 10, 120),
  'GP1-XS': type('x86_64', 4, 16, 0.091, 10, 150),
  'GP1-S': type('x86_64', 8, 32, 0.187, 10, 300),
  'STARDUST1-S': type('x86_64', 1, 1, 0.00015, 10, 10),
  // No local storage: SBS block volumes only.
  'PLAY2-PICO': sbsOnly('x86_64', 1, 2, 0.014),
  'PLAY2-NANO': sbsOnly('x86_64', 2, 4, 0.027),
  'PRO2-XXS': sbsOnly('x86_64', 2, 8, 0.055),
  'PRO2-XS': sbsOnly('x86_64', 4, 16, 0.11),
  'PRO2-S': sbsOnly('x86_64', 8, 32, 0.219),
  'POP2-2C-8G': sbsOnly('x86_64', 2, 8, 0.0735),
  'ENT1-S': sbsOnly('x86_64', 8, 32, 0.38),
  'COPARM1-2C-8G': sbsOnly('arm64', 2, 8, 0.0426),
  // Windows types boot only Windows images (and Windows images only these), from SBS roots as on
  // Scaleway (POP2-2C-8G-WIN with windows_server_2022: a 25 GB sbs_5k root, reference/scaleway-modern-api.md §7).
  'POP2-2C-8G-WIN': sbsOnly('x86_64', 2, 8, 0.2),
};

/** `-WIN` commercial types run Windows images only. */
export function isWindowsType(name: string): boolean {
  return name.toUpperCase().endsWith('-WIN');
}

/** The wire form of `GET /products/servers` entries. */
export function presentCommercialType(ct: CommercialType): Record<string, unknown> {
  return {
    alt_names: [],
    arch: ct.arch,
    ncpus: ct.ncpus,
    ram: ct.ram,
    gpu: 0,
    hourly_price: ct.hourly_price,
    monthly_price: Math.round(ct.hourly_price * 730 * 100) / 100,
    baremetal: false,
    volumes_constraint: ct.volumes_constraint,
    per_volume_constraint: { l_ssd: ct.localStorage ? { min_size: 1 * GB, max_size: 800 * GB } : { min_size: 0, max_size: 0 } },
    hot_snapshots_local_volume: ct.localStorage,
    network: { sum_internal_bandwidth: 200_000_000, sum_internet_bandwidth: 200_000_000, ipv6_support: true, interfaces: [] },
    capabilities: { block_storage: true, boot_types: ['local', 'bootscript', 'rescue'] },
    scratch_storage_max_size: null,
    block_bandwidth: 1_000_000_000,
    end_of_service: false,
  };
}

/** The arch of marketplace local images a commercial type can boot. */
export function typesForArch(arch: Arch, os?: MarketplaceOs): string[] {
  const windows = os?.os.id === 'windows';
  return Object.entries(COMMERCIAL_TYPES)
    .filter(([name, ct]) => ct.arch === arch && isWindowsType(name) === windows)
    .map(([name]) => name);
}

/** The organization/project that owns public images, snapshots and bootscripts. */
export const SCALEWAY_ORGANIZATION = stableUuid('organization', 'scaleway-marketplace');

export interface MarketplaceOs {
  label: string;
  name: string;
  /** What `createBaseDisk` writes into the disk's /etc/os-release. */
  os: { id: string; versionId: string; prettyName: string };
  /** Default: every arch of MARKETPLACE_ARCHES. */
  arches?: Arch[];
  /** Its root snapshot's size (default PUBLIC_IMAGE_SIZE). */
  rootSize?: number;
}

export const MARKETPLACE_OSES: MarketplaceOs[] = [
  { label: 'ubuntu_jammy', name: 'Ubuntu 22.04 Jammy Jellyfish', os: { id: 'ubuntu', versionId: '22.04', prettyName: 'Ubuntu 22.04.4 LTS' } },
  { label: 'ubuntu_focal', name: 'Ubuntu 20.04 Focal Fossa', os: { id: 'ubuntu', versionId: '20.04', prettyName: 'Ubuntu 20.04.6 LTS' } },
  { label: 'debian_bookworm', name: 'Debian Bookworm', os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' } },
  { label: 'debian_bullseye', name: 'Debian Bullseye', os: { id: 'debian', versionId: '11', prettyName: 'Debian GNU/Linux 11 (bullseye)' } },
  // What Scaleway offers today; appended so that the older labels keep their places in the list.
  { label: 'ubuntu_noble', name: 'Ubuntu 24.04 Noble Numbat', os: { id: 'ubuntu', versionId: '24.04', prettyName: 'Ubuntu 24.04.1 LTS' } },
  { label: 'debian_trixie', name: 'Debian Trixie', os: { id: 'debian', versionId: '13', prettyName: 'Debian GNU/Linux 13 (trixie)' } },
  { label: 'windows_server_2022', name: 'Windows Server 2022', os: { id: 'windows', versionId: '2022', prettyName: 'Windows Server 2022 Datacenter' }, arches: ['x86_64'], rootSize: 25 * 1_000_000_000 },
];

export const MARKETPLACE_ARCHES: Arch[] = ['x86_64', 'arm64'];

/** One public instance image per (OS, zone, arch, storage): the marketplace's "local images".
 * `instance_local` boots from an l_ssd snapshot, `instance_sbs` from a block (`sbs_snapshot`) one;
 * a server create with a label gets the variant its root volume needs. */
export interface PublicImageSeed {
  imageId: string;
  snapshotId: string;
  zone: Zone;
  arch: Arch;
  os: MarketplaceOs;
  type: 'instance_local' | 'instance_sbs';
}

/** Size of the marketplace images' root snapshots (10 GB, as recorded for ubuntu_jammy). */
export const PUBLIC_IMAGE_SIZE = 10 * GB;

export const MARKETPLACE_EPOCH = '2024-04-25T09:00:00.000000+00:00';

export function publicImageSeeds(): PublicImageSeed[] {
  const seeds: PublicImageSeed[] = [];
  for (const os of MARKETPLACE_OSES)
    for (const zone of ZONES)
      for (const arch of os.arches ?? MARKETPLACE_ARCHES) {
        seeds.push({ imageId: stableUuid('image', os.label, zone, arch), snapshotId: stableUuid('snapshot', os.label, zone, arch), zone, arch, os, type: 'instance_local' });
        seeds.push({ imageId: stableUuid('image-sbs', os.label, zone, arch), snapshotId: stableUuid('snapshot-sbs', os.label, zone, arch), zone, arch, os, type: 'instance_sbs' });
      }
  return seeds;
}

/** `GET /marketplace/v1/images` entries. */
export function marketplaceImages(): Record<string, unknown>[] {
  const seeds = publicImageSeeds();
  return MARKETPLACE_OSES.map((os) => {
    const versionId = stableUuid('version', os.label);
    return {
      id: stableUuid('marketplace-image', os.label),
      name: os.name,
      label: os.label,
      description: `${os.name} for Scaleway Instances`,
      logo: '',
      categories: ['distribution'],
      organization: { id: SCALEWAY_ORGANIZATION, name: 'Scaleway' },
      public: true,
      valid_until: null,
      creation_date: MARKETPLACE_EPOCH,
      modification_date: MARKETPLACE_EPOCH,
      current_public_version: versionId,
      versions: [
        {
          id: versionId,
          name: MARKETPLACE_EPOCH.slice(0, 10),
          creation_date: MARKETPLACE_EPOCH,
          modification_date: MARKETPLACE_EPOCH,
          local_images: seeds
            .filter((seed) => seed.os === os && seed.type === 'instance_local')
            .map((seed) => ({
              id: seed.imageId,
              arch: seed.arch,
              zone: seed.zone,
              compatible_commercial_types: typesForArch(seed.arch, seed.os),
            })),
        },
      ],
    };
  });
}

/** `GET /marketplace/v2/local-images` entries. */
export function marketplaceLocalImages(): Record<string, unknown>[] {
  return publicImageSeeds().map((seed) => ({
    id: seed.imageId,
    arch: seed.arch,
    zone: seed.zone,
    compatible_commercial_types: seed.type === 'instance_local' ? typesForArch(seed.arch, seed.os).filter((t) => COMMERCIAL_TYPES[t]!.localStorage) : typesForArch(seed.arch, seed.os),
    label: seed.os.label,
    type: seed.type,
  }));
}

export interface Bootscript {
  id: string;
  title: string;
  architecture: Arch;
  kernel: string;
  initrd: string;
  dtb: string;
  bootcmdargs: string;
  default: boolean;
  public: boolean;
  organization: string;
  project: string;
  zone: Zone;
}

/** Legacy bootscripts (the seed's `boottype: bootscript`), one default per arch and zone. */
export function bootscripts(zone: Zone): Bootscript[] {
  return (['x86_64', 'arm64', 'arm'] as Arch[]).map((arch) => ({
    id: stableUuid('bootscript', arch, zone),
    title: `${arch} mainline 4.14.119 rev1`,
    architecture: arch,
    kernel: `http://169.254.42.24/kernel/${arch}-mainline-lts-4.14-4.14.119-rev1/vmlinuz-4.14.119`,
    initrd: `http://169.254.42.24/initrd/initrd-Linux-${arch}-v3.14.6.gz`,
    dtb: '',
    bootcmdargs: 'LINUX_COMMON scaleway boot=local nbd.max_part=16',
    default: true,
    public: true,
    organization: SCALEWAY_ORGANIZATION,
    project: SCALEWAY_ORGANIZATION,
    zone,
  }));
}
