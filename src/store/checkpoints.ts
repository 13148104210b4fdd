// The build cache's side of the store (migrations/0020_build_cache.sql): the store's secret, the
// checkpoints index and the history checkpoint placement learns from — the types both stores
// share and the mapping of their rows (the same column names in both dialects).
import type { EventData } from './events.js';

/** One named input of a cache key and its hash: never the value itself. */
export interface CheckpointInput {
  name: string;
  hash: string;
}

/** A snapshot a checkpoint image is made of; `block` for the Block API's. */
export interface CheckpointSnapshot {
  id: string;
  api?: 'block';
}

/** What a build that reached a key first records: it makes the checkpoint. */
export interface CheckpointClaim {
  key: string;
  buildId: string;
  apiUrl: string;
  zone: string;
  templatePath: string;
  builderName: string;
  /** The state after this provisioner of the build (0-based). */
  provisionerIndex: number;
  provisionerType: string;
  /** The key's inputs, for explaining a later miss. */
  manifest: readonly CheckpointInput[];
}

/** What a finished checkpoint is. */
export interface CheckpointMade {
  imageId: string;
  snapshots: readonly CheckpointSnapshot[];
  sizeBytes: number | null;
  /** How long the provisioners it covers took in the build that made it: what a hit saves. */
  reachMs: number | null;
  /** When it became available (ISO 8601); default now. */
  createdAt?: string;
}

export interface CheckpointRecord extends CheckpointClaim {
  /** `claimed`: a build is making it; `available`: its image can be built from. */
  status: 'claimed' | 'available';
  imageId: string | null;
  snapshots: CheckpointSnapshot[];
  sizeBytes: number | null;
  reachMs: number | null;
  claimedAt: string;
  createdAt: string | null;
  hits: number;
  lastHitAt: string | null;
  /** The latest build that started from it (gc spares it while that build is alive). */
  lastHitBuild: string | null;
}

/** One build's keys (its `cache.checked` event) and how long its provisioners and checkpoints took. */
export interface CacheHistoryEntry {
  buildId: string;
  checked: EventData;
  /** The build's finished provision and checkpoint phases: `provisionerIndex` for provisioners, `facts` of a checkpoint. */
  phases: { phase: string; provisionerIndex: number | null; durationMs: number | null; facts: EventData | null }[];
}

export interface CheckpointRow {
  key: string;
  status: string;
  build_id: string;
  api_url: string;
  zone: string;
  template_path: string;
  builder_name: string;
  provisioner_index: number;
  provisioner_type: string;
  manifest: string;
  image_id: string | null;
  snapshots: string;
  size_bytes: number | null;
  reach_ms: number | null;
  claimed_at: string;
  created_at: string | null;
  hits: number;
  last_hit_at: string | null;
  last_hit_build: string | null;
}

export function toCheckpoint(row: CheckpointRow): CheckpointRecord {
  return {
    key: row.key,
    status: row.status === 'available' ? 'available' : 'claimed',
    buildId: row.build_id,
    apiUrl: row.api_url,
    zone: row.zone,
    templatePath: row.template_path,
    builderName: row.builder_name,
    provisionerIndex: Number(row.provisioner_index),
    provisionerType: row.provisioner_type,
    manifest: JSON.parse(row.manifest) as CheckpointInput[],
    imageId: row.image_id,
    snapshots: JSON.parse(row.snapshots) as CheckpointSnapshot[],
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    reachMs: row.reach_ms === null ? null : Number(row.reach_ms),
    claimedAt: row.claimed_at,
    createdAt: row.created_at,
    hits: Number(row.hits),
    lastHitAt: row.last_hit_at,
    lastHitBuild: row.last_hit_build,
  };
}

/** The values of a claim, in the order both stores' INSERT lists them (key … manifest, claimed_at). */
export function claimColumns(claim: CheckpointClaim): [string, string, string, string, string, string, number, string, string, string] {
  return [
    claim.key,
    claim.buildId,
    claim.apiUrl,
    claim.zone,
    claim.templatePath,
    claim.builderName,
    claim.provisionerIndex,
    claim.provisionerType,
    JSON.stringify(claim.manifest),
    new Date().toISOString(),
  ];
}

/** The values of a finished checkpoint, in the order both stores' UPDATE lists them. */
export function madeColumns(made: CheckpointMade): [string, string, number | null, number | null, string] {
  return [made.imageId, JSON.stringify(made.snapshots), made.sizeBytes, made.reachMs, made.createdAt ?? new Date().toISOString()];
}

/** Rows of the cache history query: one per phase of a build that checked the cache (or one with no phase). */
export interface CacheHistoryRow {
  build_id: string;
  checked: string;
  phase: string | null;
  provisioner_index: number | null;
  duration_ms: number | null;
  facts: string | null;
}

/** Groups the history rows by build, newest build first (the order of the rows). */
export function toCacheHistory(rows: readonly CacheHistoryRow[]): CacheHistoryEntry[] {
  const byBuild = new Map<string, CacheHistoryEntry>();
  for (const row of rows) {
    let entry = byBuild.get(row.build_id);
    if (!entry) byBuild.set(row.build_id, (entry = { buildId: row.build_id, checked: JSON.parse(row.checked) as EventData, phases: [] }));
    if (row.phase !== null) {
      entry.phases.push({
        phase: row.phase,
        provisionerIndex: row.provisioner_index === null ? null : Number(row.provisioner_index),
        durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
        facts: row.facts === null ? null : (JSON.parse(row.facts) as EventData),
      });
    }
  }
  return [...byBuild.values()];
}
