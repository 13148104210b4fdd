// The build's phases, in the order a build runs them (DESIGN.md, "The machine").
// This list is the single definition of phase names: the machine, the retry-policy table, the
// template's per-phase overrides and the renderers all read it.
export const PHASES = [
  'prepare',
  'key',
  // extra block volumes (block_volume), created before the server that attaches them
  'volumes.create',
  'server.create',
  // the root SBS volume's IOPS (root_volume.iops), changed before the server boots
  'volumes.iops',
  'server.start',
  'server.wait_running',
  'ssh.connect',
  'provision',
  'server.stop',
  'server.wait_stopped',
  'snapshot.create',
  // one Block API snapshot per extra volume, asked for before any wait so that all are taken at
  // once; each is waited for within snapshot_creation_timeout
  'volume_snapshots.create',
  'snapshot.wait',
  'volume_snapshots.wait',
  'image.create',
  'image.wait',
  'cleanup',
] as const;

export type PhaseName = (typeof PHASES)[number];

export function isPhaseName(value: string): value is PhaseName {
  return (PHASES as readonly string[]).includes(value);
}
