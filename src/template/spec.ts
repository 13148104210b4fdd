// BuildSpec: one validated, typed build, produced by the template loader from what the user
// wrote (template, variables, environment, Scaleway config file) and consumed by the engine.
// It is the contract between `src/template` and everything downstream. Durations are in
// milliseconds. Fields marked SECRET never reach the event log, the projection, logs or --json:
// `redactSpec` (in this module's loader) replaces them before anything is stored or printed.
import type { PhaseName } from '../../machines/phases.js';

export interface PhasePolicyOverride {
  attempts?: number;
  attemptTimeoutMs?: number;
  phaseTimeoutMs?: number;
  backoff?: { initialMs?: number; factor?: number; maxMs?: number; jitter?: number };
}

/** The `index` of the error-cleanup-provisioner (it is not in the `provisioners` list). */
export const ERROR_CLEANUP_INDEX = -1;

export interface ProvisionerCommon {
  /** Index in the template's `provisioners` array (stable across only/except filtering);
   *  ERROR_CLEANUP_INDEX for the error-cleanup-provisioner. */
  index: number;
  pauseBeforeMs: number;
  maxRetries: number;
  /** 0 = no timeout. */
  timeoutMs: number;
  /** continue_on_error (Packer 1.16): once its attempts are spent, a failure is recorded and the
   *  build goes on. Absent: false. */
  continueOnError?: boolean;
}

export interface ShellProvisionerSpec extends ProvisionerCommon {
  type: 'shell';
  /** Inline commands; when present they become one script with `inlineShebang` (unless the
   *  commands start with their own `#!` and no inline_shebang was written, as in Packer). */
  inline?: string[];
  /** Absolute paths of local scripts, in order (from `script` and `scripts`). */
  scripts: string[];
  /** `environment_vars` then `env` (which wins), each NAME=value. */
  environmentVars: string[];
  /** Go's printf format of one variable in `{{.Vars}}` or the var file: `%s='%s' ` by default. */
  envVarFormat: string;
  /** Write the variables to a file on the server (`{{.EnvVarFile}}`) instead of `{{.Vars}}`. */
  useEnvVarFile: boolean;
  /** Keeps the `{{.Path}}`, `{{.Vars}}` and `{{.EnvVarFile}}` fields (filled in when the script
   *  runs); other template functions are already evaluated. Default `chmod +x {{.Path}}; {{.Vars}} {{.Path}}`. */
  executeCommand: string;
  inlineShebang: string;
  /** True when the template wrote inline_shebang. */
  inlineShebangSet: boolean;
  remoteFolder: string;
  /** Where each script is uploaded (remote_path, or remote_folder/remote_file); else
   *  `<remoteFolder>/script_<n>.sh`, n chosen when the provisioner runs. */
  remotePath?: string;
  /** Upload scripts as they are; otherwise CRLF line ends become LF (Packer's `binary`). */
  binary: boolean;
  /** Leave the uploaded script (and var file) on the server. */
  skipClean: boolean;
  /** How long to keep trying to upload and start a script (a server that reboots). */
  startRetryTimeoutMs: number;
  /** Pause after the provisioner succeeded. */
  pauseAfterMs: number;
  expectDisconnect: boolean;
  validExitCodes: number[];
}

export interface FileProvisionerSpec extends ProvisionerCommon {
  type: 'file';
  /** Absolute local paths for uploads; remote paths for downloads. A trailing "/" is kept
   *  (Packer: a directory's contents rather than the directory). */
  sources: string[];
  /** Remote path for uploads; absolute local path for downloads. */
  destination: string;
  direction: 'upload' | 'download';
  /** Text to write to `destination` (instead of sources): a file, or `pkr-file-content` in a directory ending in "/". */
  content?: string;
}

export interface ShellLocalProvisionerSpec extends ProvisionerCommon {
  type: 'shell-local';
  inline?: string[];
  command?: string;
  scripts: string[];
  /** `environment_vars` then `env` (which wins), each NAME=value. */
  environmentVars: string[];
  /** Go's printf format of one variable in `{{.Vars}}`: `%s='%s' ` by default. */
  envVarFormat: string;
  /** The program and its arguments, each with the `{{.Vars}}`, `{{.Script}}` and `{{.Command}}`
   *  fields kept (filled in when it runs). Default `["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]`. */
  executeCommand: string[];
  inlineShebang: string;
  /** The inline script's file name extension (without the dot), if any. */
  tempfileExtension?: string;
  /** Run only on these operating systems (Go's names: linux, darwin, …). */
  onlyOn?: string[];
  validExitCodes: number[];
}

/** The `ansible` provisioner: `ansible-playbook` on this machine, connected straight to the server. */
export interface AnsibleProvisionerSpec extends ProvisionerCommon {
  type: 'ansible';
  /** Absolute local path. */
  playbookFile: string;
  /** The executable (no shell): default `ansible-playbook`. */
  command: string;
  /** Passed as they are, after kiln's own `-e` arguments (Packer's order). */
  extraArguments: string[];
  /** NAME=value, set in ansible-playbook's (and ansible-galaxy's) environment. */
  ansibleEnvVars: string[];
  /** `--ssh-extra-args`; default `-o IdentitiesOnly=yes` when Ansible is given a key file. */
  sshExtraArgs: string[];
  groups: string[];
  emptyGroups: string[];
  /** Default `default`. */
  hostAlias: string;
  /** `ansible_user`; absent: the communicator's ssh_username. */
  user?: string;
  /** The inventory's host line, with `{{ .HostAlias }}`, `{{ .Host }}`, `{{ .User }}`, `{{ .Port }}`
   *  (and the `{{ .ID }}`-style build values) filled in when it runs. */
  inventoryFileTemplate?: string;
  /** Absolute local directory the inventory file is written in (its group_vars/host_vars apply). */
  inventoryDirectory?: string;
  keepInventoryFile: boolean;
  /** Absolute local path of a requirements file for `ansible-galaxy`. */
  galaxyFile?: string;
  galaxyCommand: string;
  galaxyForceInstall: boolean;
  galaxyForceWithDeps: boolean;
  rolesPath?: string;
  collectionsPath?: string;
  /** use_proxy as written: kiln connects directly either way (true is said once, when it runs). */
  useProxy?: boolean;
  /** use_sftp: Ansible copies files over SFTP instead of scp (Packer's ANSIBLE_SCP_IF_SSH). */
  useSftp: boolean;
}

/** The `ansible-local` provisioner: uploads playbooks and their files, runs `ansible-playbook` on the server. */
export interface AnsibleLocalProvisionerSpec extends ProvisionerCommon {
  type: 'ansible-local';
  /** Absolute local paths (`playbook_file`, or `playbook_files` in order). */
  playbookFiles: string[];
  /** True when they came from `playbook_file` (uploaded to the staging directory's top). */
  singlePlaybook: boolean;
  playbookDir?: string;
  playbookPaths: string[];
  rolePaths: string[];
  collectionPaths: string[];
  groupVars?: string;
  hostVars?: string;
  inventoryFile?: string;
  inventoryGroups: string[];
  /** Joined with spaces into the remote command line, as Packer does (the remote shell reads them). */
  extraArguments: string[];
  /** Default `PYTHONUNBUFFERED=1 ansible-playbook`. */
  command: string;
  /** Absent: `/tmp/packer-provisioner-ansible-local/<uuid>`, a new one per run. */
  stagingDirectory?: string;
  cleanStagingDirectory: boolean;
  galaxyFile?: string;
  galaxyCommand: string;
  galaxyForceInstall: boolean;
  /** Absent: `<staging>/galaxy_roles` and `<staging>/galaxy_collections`. */
  galaxyRolesPath?: string;
  galaxyCollectionsPath?: string;
}

export type ProvisionerSpec = ShellProvisionerSpec | FileProvisionerSpec | ShellLocalProvisionerSpec | AnsibleProvisionerSpec | AnsibleLocalProvisionerSpec;

/** Packer's `manifest` post-processor: appends this build's artifact to a JSON file. */
export interface ManifestPostProcessorSpec {
  type: 'manifest';
  /** Index in the template's post-processors (flattened sequences), stable across only/except. */
  index: number;
  /** Its `name`, else its type: what -only/-except select post-processors by. */
  name: string;
  /** Absolute path; default `packer-manifest.json` in the template's directory. */
  output: string;
  /** Packer's option: write only the file names of `files` (a Scaleway artifact has none). */
  stripPath: boolean;
  customData: Record<string, string>;
}

/** Packer's `shell-local` post-processor: the shell-local provisioner's keys, run after the image exists. */
export type ShellLocalPostProcessorSpec = ShellLocalProvisionerSpec & {
  /** Its `name`, else its type: what -only/-except select post-processors by. */
  name: string;
};

export type PostProcessorSpec = ManifestPostProcessorSpec | ShellLocalPostProcessorSpec;

export interface SshCommunicatorSpec {
  type: 'ssh';
  username: string;
  port: number;
  timeoutMs: number;
  /** Absolute path; when absent kiln makes a temporary ed25519 key pair (root only). */
  privateKeyFile?: string;
  /** SECRET */
  password?: string;
  handshakeAttempts: number;
  /** 0 = no keep-alives (a negative ssh_keep_alive_interval, as in Packer). */
  keepAliveIntervalMs: number;
  /** 0 = none. */
  readWriteTimeoutMs: number;
  agentAuth: boolean;
}

export type CommunicatorSpec = SshCommunicatorSpec | { type: 'none' };

/** `root_volume`: empty when the template asks for nothing (the API then decides: an SBS root on
 *  types without local storage, l_ssd elsewhere). */
export interface RootVolumeSpec {
  type?: 'l_ssd' | 'sbs_volume';
  sizeGb?: number;
  /** SBS only: 5000 or 15000. */
  iops?: number;
}

/** One `block_volume` entry: an extra SBS volume, empty (`sizeGb`) or a copy of a block snapshot. */
export interface BlockVolumeSpec {
  name: string;
  sizeGb?: number;
  snapshotId?: string;
  iops?: number;
  /** Name of this volume's snapshot in the image (distinct per volume). */
  snapshotName: string;
}

export interface BuildSpec {
  /** The builder's `name` (default: its type, `scaleway`), unique within the template. */
  name: string;
  type: 'scaleway';
  /** Default `https://api.scaleway.com`; never ends with "/". */
  apiUrl: string;
  /** A zone such as `fr-par-1` (legacy regions `par1`/`ams1` already mapped). */
  zone: string;
  projectId?: string;
  organizationId?: string;
  accessKey?: string;
  /** SECRET: the X-Auth-Token. */
  secretKey: string;
  /** Commercial type, upper-cased (`START1-S`); checked against the zone's catalog in prepare. */
  commercialType: string;
  /** A UUID, or a marketplace label (`ubuntu_jammy`) resolved in the prepare phase. */
  image: string;
  /** Default `packer-<uuid>` (the load's `{{uuid}}`). */
  serverName: string;
  /** Defaults `packer-<timestamp>` (the load's `{{timestamp}}`). */
  imageName: string;
  /** The root volume's snapshot: `root_volume.snapshot_name`, else `snapshot_name`, else `packer-<timestamp>`. */
  snapshotName: string;
  rootVolume: RootVolumeSpec;
  /** Extra block volumes, attached as volumes 1…n in this order. */
  blockVolumes: BlockVolumeSpec[];
  bootType: 'local' | 'bootscript' | 'rescue';
  bootscript?: string;
  /** kiln's default is true: the root volume is deleted with the server. */
  removeVolume: boolean;
  /** Tags for the image, the snapshot and volumes. */
  tags: string[];
  serverTags: string[];
  /** user_data key → value, set on the server before it boots. */
  userData: Record<string, string>;
  /** user_data_timeout (default 0): with SSH, the longest wait for cloud-init to finish after
   *  provisioning (0: kiln's 10m when there is user data); without SSH, a plain wait this long. */
  userDataTimeoutMs: number;
  /** security_group_id: sent at server creation; checked to exist in prepare. */
  securityGroupId?: string;
  /** admin_password_encryption_ssh_key_id: an IAM SSH key id sent at server creation (Windows). */
  adminPasswordEncryptionSshKeyId?: string;
  /** keep_server: the server (and its volumes) stay after a successful build, recorded as kept. */
  keepServer: boolean;
  /** cleanup_machine_related_data: truncate the machine-id files after provisioning. */
  cleanupMachineRelatedData: boolean;
  /** private_network_ids: one private NIC per network, attached once the server runs. */
  privateNetworkIds: string[];
  timeouts: {
    serverCreationMs: number;
    serverShutdownMs: number;
    snapshotCreationMs: number;
    imageCreationMs: number;
    stateMs: number;
  };
  /** kiln's own per-phase retry/timeout overrides, template key `kiln_phase_policy`:
   *  `{"server.create": {"attempts": 5, "attempt_timeout": "30s", "phase_timeout": "5m",
   *  "initial_backoff": "1s", "max_backoff": "30s", "backoff_factor": 2, "jitter": 0.2}}`,
   *  phase names from PHASES. Only the keys written are set; `attempts` caps a count that is
   *  otherwise unbounded for transient errors (see DEFAULT_PHASE_POLICIES). */
  phasePolicy: Partial<Record<PhaseName, PhasePolicyOverride>>;
  communicator: CommunicatorSpec;
  /** Provisioners that apply to this builder (only/except already applied), template order. */
  provisioners: ProvisionerSpec[];
  /** error-cleanup-provisioner: run on the server when the build fails from provisioning on, before
   *  the cleanup (as Packer runs it); absent: none. */
  errorCleanupProvisioner?: ProvisionerSpec;
  /** Post-processors that apply to this builder, in order; run once the image is available
   *  (absent: none). */
  postProcessors?: PostProcessorSpec[];
  /** `--force`: the prepare phase skips its "image/snapshot name already taken" check (Packer's -force). */
  force: boolean;
  /** SECRET: the values to hide wherever they appear (sensitive variables, the secret key, the SSH
   *  password). `redactSpec` drops this field and replaces every string containing one of them. */
  sensitiveValues: string[];
}

/** What may be stored or printed: `redactSpec(spec)`. Same shape, secrets replaced by "<sensitive>". */
export type RedactedBuildSpec = Omit<BuildSpec, 'sensitiveValues'>;

/** The placeholder that replaces secrets in stored and printed configuration. */
export const SENSITIVE_PLACEHOLDER = '<sensitive>';
