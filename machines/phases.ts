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
  'network.attach',
  'ssh.connect',
  'provision',
  // A checkpoint (incremental builds): an image of the server's volumes between two provisioners,
  // after which provisioning goes on. Entered only from `provision`, after the provisioners the
  // build's facts name (`checkpointKeys`), never in the order of this list.
  'checkpoint',
  'user_data.wait',
  'machine.cleanup',
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
  // Post-processors (manifest, shell-local) run once the image exists and the server is gone, as
  // Packer runs them after the builder; a failure here leaves the image (the build fails).
  'postprocess',
] as const;

export type PhaseName = (typeof PHASES)[number];

export function isPhaseName(value: string): value is PhaseName {
  return (PHASES as readonly string[]).includes(value);
}

/** Phases that run only when the template asks for what they do (block volumes, a root IOPS change,
 * private_network_ids, user data, cleanup_machine_related_data, post-processors); the engine says
 * which (`optionalPhases` of the machine's input, from src/engine/phases/optional.ts). The
 * volume_snapshots phases are not among them: they run when the server has extra volumes, which
 * an image can bring as well as block_volume (the machine reads server.create's facts). */
export const OPTIONAL_PHASES: readonly PhaseName[] = [
  'volumes.create',
  'volumes.iops',
  'network.attach',
  'user_data.wait',
  'machine.cleanup',
  'postprocess',
];
