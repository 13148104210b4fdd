// Wire types of the Scaleway Instance API v1, exactly as they travel (snake_case), limited to the
// fields kiln reads. Field names follow shared/reference/scaleway-api.md. Dates are RFC 3339
// strings or null. Unknown extra fields are left on the objects untouched.

export type Arch = 'x86_64' | 'arm' | 'arm64';
export type ServerState = 'running' | 'stopped' | 'stopped in place' | 'starting' | 'stopping' | 'locked';
export type ServerAction = 'poweron' | 'poweroff' | 'terminate' | 'reboot' | 'stop_in_place';
export type VolumeType = 'l_ssd' | 'b_ssd' | 'sbs_volume' | (string & {});

export interface ServerRef { id: string; name: string }

export interface Volume {
  id: string;
  name: string;
  volume_type: VolumeType;
  size: number;
  state: 'available' | 'snapshotting' | 'error' | (string & {});
  server: ServerRef | null;
  zone: string;
  boot?: boolean;
  tags?: string[];
  project?: string;
  organization?: string;
  creation_date?: string | null;
  modification_date?: string | null;
}

export interface PublicIpRef { id: string; address: string; dynamic: boolean }

export interface Bootscript {
  id: string;
  title: string;
  architecture: Arch;
  default: boolean;
  public: boolean;
  kernel?: string;
  initrd?: string;
  bootcmdargs?: string;
  dtb?: string;
  organization?: string;
  project?: string;
  zone?: string;
}

export interface Image {
  id: string;
  name: string;
  arch: Arch;
  state: 'creating' | 'available' | 'error' | (string & {});
  root_volume: { id: string; name: string; size: number; volume_type: VolumeType } | null;
  extra_volumes: Record<string, unknown>;
  default_bootscript: Bootscript | null;
  from_server: string | null;
  public: boolean;
  project: string;
  organization: string;
  tags: string[];
  zone: string;
  creation_date: string | null;
  modification_date?: string | null;
}

export interface Server {
  id: string;
  name: string;
  organization: string;
  project: string;
  state: ServerState;
  state_detail: string;
  allowed_actions: string[];
  tags: string[];
  commercial_type: string;
  arch: Arch;
  boot_type: 'local' | 'bootscript' | (string & {});
  bootscript: Bootscript | null;
  image: Image | null;
  public_ip: PublicIpRef | null;
  private_ip: string | null;
  volumes: Record<string, Volume>;
  security_group: { id: string; name: string } | null;
  creation_date: string | null;
  modification_date: string | null;
  zone: string;
  protected: boolean;
  enable_ipv6: boolean;
  dynamic_ip_required: boolean;
  location: unknown;
  maintenances: unknown[];
}

export interface Snapshot {
  id: string;
  name: string;
  volume_type: VolumeType;
  size: number;
  state: 'snapshotting' | 'available' | 'error' | (string & {});
  base_volume: { id: string; name: string } | null;
  project: string;
  organization: string;
  tags: string[];
  zone: string;
  creation_date: string | null;
  modification_date: string | null;
  error_details?: string | null;
}

export interface Ip {
  id: string;
  address: string;
  reverse: string | null;
  server: ServerRef | null;
  organization: string;
  project: string;
  tags: string[];
  zone: string;
}

export interface Task {
  id: string;
  description: string;
  status: 'pending' | 'started' | 'success' | 'failure' | 'retry' | (string & {});
  href_from: string;
  href_result: string;
  progress?: number;
  started_at?: string | null;
  terminated_at?: string | null;
  zone?: string;
}

export interface ServerType {
  ncpus: number;
  ram: number;
  arch: Arch;
  hourly_price: number;
  monthly_price?: number;
  alt_names?: string[];
  volumes_constraint?: { min_size: number; max_size: number };
  per_volume_constraint?: unknown;
  baremetal?: boolean;
  end_of_service?: boolean;
}

/** POST /servers as Packer 1.6.6 sends it; `project` defaults to the client's projectId. */
export interface CreateServerRequest {
  name: string;
  commercial_type: string;
  /** Image UUID, or a marketplace label the API resolves itself (to the local or SBS variant the root volume needs). */
  image: string;
  boot_type?: 'local' | 'bootscript' | 'rescue';
  bootscript?: string;
  project?: string;
  organization?: string;
  tags?: string[];
  dynamic_ip_required?: boolean;
  enable_ipv6?: boolean;
  /** `"0"`: the root volume `{volume_type, size?}`; `"1"`…: existing block volumes `{id, volume_type: "sbs_volume"}`. */
  volumes?: Record<string, unknown>;
  /** A security group id (default: the project's default group). */
  security_group?: string;
  /** An IAM SSH key id that encrypts the Windows Administrator password. */
  admin_password_encryption_ssh_key_id?: string;
}

export interface CreateSnapshotRequest {
  name: string;
  volume_id: string;
  tags?: string[];
  project?: string;
}

export interface CreateImageRequest {
  name: string;
  /** The snapshot id the image boots from (an Instance or a Block snapshot). */
  root_volume: string;
  /** Block snapshots of further volumes, by slot: `{"1": {"id": <snapshot id>}}`. */
  extra_volumes?: Record<string, { id: string }>;
  arch: Arch;
  tags?: string[];
  project?: string;
  public?: false;
  default_bootscript?: string;
}

/** `ids`: only these servers (Scaleway's `servers` filter, comma-separated ids). */
export interface ServerFilter { name?: string; tags?: string[]; project?: string; ids?: string[] }
export interface VolumeFilter { name?: string; tags?: string[]; project?: string }
export interface SnapshotFilter { name?: string; tags?: string[]; project?: string }
export interface ImageFilter { name?: string; public?: boolean; arch?: Arch; project?: string; tags?: string[] }
export interface IpFilter { tags?: string[]; project?: string }

/** The marketplace catalogue entry (GET /marketplace/v1/images). */
export interface MarketplaceImage {
  id: string;
  name: string;
  label: string;
  current_public_version: string;
  versions: Array<{
    id: string;
    name: string;
    local_images: Array<{ id: string; arch: Arch; zone: string; compatible_commercial_types: string[] }>;
  }>;
}

// ---- Block Storage API (bare objects, `project_id`; reference/scaleway-modern-api.md §1) ----

export interface BlockReference {
  id: string;
  product_resource_type: string;
  product_resource_id: string;
  type: string;
  status: string;
}

export interface BlockVolume {
  id: string;
  name: string;
  /** `sbs_5k`, `sbs_15k`. */
  type: string;
  size: number;
  project_id: string;
  status: 'creating' | 'available' | 'in_use' | 'deleting' | 'deleted' | 'resizing' | 'error' | 'snapshotting' | 'locked' | 'updating' | (string & {});
  references: BlockReference[];
  parent_snapshot_id: string | null;
  tags: string[];
  specs: { perf_iops: number | null; class: string } | null;
  last_detached_at: string | null;
  zone: string;
  created_at?: string | null;
}

export interface BlockSnapshot {
  id: string;
  name: string;
  parent_volume: { id: string; name: string; type: string; status: string } | null;
  size: number;
  project_id: string;
  status: 'creating' | 'available' | 'error' | 'deleting' | 'deleted' | 'in_use' | 'locked' | 'exporting' | (string & {});
  references: BlockReference[];
  tags: string[];
  zone: string;
  created_at?: string | null;
  /** The time of its last change (its state's, for a snapshot being taken). */
  updated_at?: string | null;
}

/** Exactly one of `from_empty` / `from_snapshot`. */
export interface CreateBlockVolumeRequest {
  name: string;
  perf_iops?: number;
  from_empty?: { size: number };
  from_snapshot?: { snapshot_id: string; size?: number };
  tags?: string[];
}

export interface BlockFilter { name?: string; tags?: string[]; project_id?: string }
