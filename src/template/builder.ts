// The `scaleway` builder's keys: the seed's (api_access_key, api_token, region, boottype, …),
// the current plugin's (access_key, secret_key, project_id, zone, …) and kiln's own
// (kiln_phase_policy). Credentials not in the template come from the environment, then the
// Scaleway config file. Checks here are offline; the API-backed ones happen in `prepare`.
import { PHASES, isPhaseName, type PhaseName } from '../../machines/phases.js';
import type { BuildSpec, PhasePolicyOverride } from './spec.js';
import { FieldReader, isObject, describeType } from './fields.js';
import { ENV_NAMES, CONFIG_KEYS, type ScalewayConfigFile, type SettingName } from './credentials.js';
import { COMMUNICATOR_KEYS, UNSUPPORTED_COMMUNICATOR_KEYS, readCommunicator } from './communicator.js';
import { didYouMean } from './suggest.js';
import { readBlockVolumes, readRootVolume } from './volumes.js';

export const DEFAULT_API_URL = 'https://api.scaleway.com';

/** Instance zones kiln accepts. */
export const ZONES = ['fr-par-1', 'fr-par-2', 'fr-par-3', 'nl-ams-1', 'nl-ams-2', 'nl-ams-3', 'pl-waw-1', 'pl-waw-2', 'pl-waw-3'] as const;

/** The seed's regions and the zone each one means. */
export const LEGACY_REGIONS: Readonly<Record<string, string>> = { par1: 'fr-par-1', ams1: 'nl-ams-1' };

/** The Instance API's boot types; kiln, the plugin and Packer ≥ 1.6.3 default to `local`. */
export const BOOT_TYPES = ['local', 'bootscript', 'rescue'] as const;

/** Defaults of the builder's timeouts (those of the Scaleway Packer plugin; state_timeout: kiln's). */
export const TIMEOUT_DEFAULTS = {
  serverCreationMs: 10 * 60_000,
  serverShutdownMs: 10 * 60_000,
  snapshotCreationMs: 60 * 60_000,
  imageCreationMs: 60 * 60_000,
  stateMs: 10 * 60_000,
} as const;

/** Keys of one entry of `kiln_phase_policy`. */
export const PHASE_POLICY_KEYS = ['attempts', 'attempt_timeout', 'phase_timeout', 'initial_backoff', 'max_backoff', 'backoff_factor', 'jitter'] as const;

const SCALEWAY_KEYS = [
  'type', 'name',
  'access_key', 'secret_key', 'project_id', 'organization_id', 'zone', 'api_url',
  'api_access_key', 'api_token', 'region',
  'image', 'commercial_type', 'server_name', 'image_name', 'snapshot_name', 'boottype', 'bootscript', 'image_size_in_gb',
  'remove_volume', 'tags', 'server_tags', 'user_data', 'user_data_timeout', 'root_volume', 'block_volume',
  'security_group_id', 'keep_server', 'admin_password_encryption_ssh_key_id', 'cleanup_machine_related_data', 'private_network_ids',
  'server_creation_timeout', 'server_shutdown_timeout', 'snapshot_creation_timeout', 'image_creation_timeout', 'state_timeout',
  'kiln_phase_policy',
] as const;

export const BUILDER_KEYS: readonly string[] = [...SCALEWAY_KEYS, ...COMMUNICATOR_KEYS];

const UNSUPPORTED_BUILDER_KEYS: Record<string, string> = {
  ...UNSUPPORTED_COMMUNICATOR_KEYS,
  snapshot_type: 'kiln makes the default snapshot type',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Marketplace labels: lower-case words joined by "_" (a "-" is accepted and mapped to "_" at resolution).
const IMAGE_LABEL = /^[a-z0-9]+(?:[_.-][a-z0-9]+)*$/;
const COMMERCIAL_TYPE = /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export interface BuilderContext {
  index: number;
  name: string;
  env: Readonly<Record<string, string | undefined>>;
  configFile: ScalewayConfigFile;
  templateDir: string;
  /** For `~/` in paths: $HOME of the given environment. */
  home: string;
  initTime: Date;
  uuid: string;
  warnings: string[];
}

// The template's own key (and deprecated alias) for each credential setting.
const TEMPLATE_KEYS: Record<SettingName, { current: string; alias?: string }> = {
  accessKey: { current: 'access_key', alias: 'api_access_key' },
  secretKey: { current: 'secret_key', alias: 'api_token' },
  projectId: { current: 'project_id' },
  organizationId: { current: 'organization_id' },
  zone: { current: 'zone', alias: 'region' },
  apiUrl: { current: 'api_url' },
};

interface Setting {
  value: string;
  /** Where it came from, as a problem path: a key path, an environment variable, the config file. */
  origin: string;
  /** The template key it came from, if any (region's values are legacy regions). */
  templateKey?: string;
}

/** Everything of a BuildSpec that the builder object decides (provisioners come separately). */
export type BuilderPart = Omit<BuildSpec, 'provisioners' | 'force' | 'sensitiveValues'>;

export function readScalewayBuilder(reader: FieldReader, ctx: BuilderContext): BuilderPart | undefined {
  const { problems } = reader.ctx;
  const before = problems.count;
  reader.checkKeys(BUILDER_KEYS, UNSUPPORTED_BUILDER_KEYS);

  const setting = (name: SettingName, options: { secret?: boolean } = {}): Setting | undefined => {
    const keys = TEMPLATE_KEYS[name];
    const current = reader.string(keys.current, options);
    const alias = keys.alias === undefined ? undefined : reader.string(keys.alias, options);
    if (alias !== undefined) {
      ctx.warnings.push(
        current !== undefined
          ? `${reader.path(keys.alias!)} is deprecated and ignored because "${keys.current}" is set`
          : `${reader.path(keys.alias!)} is deprecated: use "${keys.current}" instead`,
      );
    }
    if (current !== undefined) return { value: current, origin: reader.path(keys.current), templateKey: keys.current };
    if (alias !== undefined) return { value: alias, origin: reader.path(keys.alias!), templateKey: keys.alias! };
    const env = ENV_NAMES[name];
    const fromEnv = ctx.env[env.current];
    if (fromEnv) return { value: fromEnv, origin: env.current };
    const fromLegacyEnv = env.legacy ? ctx.env[env.legacy] : undefined;
    if (fromLegacyEnv) {
      ctx.warnings.push(`the environment variable ${env.legacy} is deprecated: use ${env.current} instead`);
      return { value: fromLegacyEnv, origin: env.legacy! };
    }
    const fromFile = ctx.configFile.settings[name];
    if (fromFile) return { value: fromFile, origin: `${ctx.configFile.path} (profile ${ctx.configFile.profile}): ${CONFIG_KEYS[name]}` };
    return undefined;
  };

  // Where kiln looked for a setting, for "missing" messages.
  const lookedIn = (name: SettingName): string => {
    const keys = TEMPLATE_KEYS[name];
    const env = ENV_NAMES[name];
    const file = ctx.configFile;
    const fileState = file.status === 'loaded' ? `profile "${file.profile}"` : file.status === 'profile missing' ? `no profile "${file.profile}"` : file.status;
    return `kiln looked in the template (${[keys.current, keys.alias].filter(Boolean).join(', ')}), the environment (${[env.current, env.legacy].filter(Boolean).join(', ')}) and the Scaleway config file ${file.path} (${CONFIG_KEYS[name]}; ${fileState})`;
  };

  // Credentials and account.
  const secret = setting('secretKey', { secret: true });
  if (!secret) {
    problems.add(reader.path('secret_key'), `no Scaleway secret key is set: ${lookedIn('secretKey')}`, 'set secret_key in the template (from a sensitive variable), export SCW_SECRET_KEY, or add secret_key to your Scaleway config file');
  } else if (!isUuid(secret.value)) {
    // Never echo a secret: describe it.
    problems.add(secret.origin, `is not a Scaleway secret key: expected a UUID (8-4-4-4-12 hexadecimal digits), got ${describeSecret(secret.value)}`, 'copy the secret key from the Scaleway console (Identity and Access Management → API keys)');
  }
  const accessKey = setting('accessKey');
  let projectId = setting('projectId');
  let organizationId = setting('organizationId');
  for (const [id, label] of [[projectId, 'project'], [organizationId, 'organization']] as const) {
    if (id && !isUuid(id.value)) problems.add(id.origin, `"${id.value}" is not a ${label} ID (a UUID)`, `find the ${label} ID in the Scaleway console`);
  }
  // Scaleway creates every resource in a project (older accounts name the organization instead):
  // without one the first create is refused, after the build has started. Say it now.
  // (A warning, not an error: the seed's Basic Example names none and must validate as it is.)
  // The seed: api_access_key is "the organization access key to use to identify your organization".
  // A UUID there, with no project anywhere, is that organization; its default project has its id.
  if (!projectId && !organizationId && accessKey && isUuid(accessKey.value)) {
    organizationId = { value: accessKey.value, origin: accessKey.origin };
    projectId = { value: accessKey.value, origin: accessKey.origin };
    ctx.warnings.push(
      `${accessKey.origin} holds a UUID and no project is set: kiln uses it as the organization ID and its default project (${accessKey.value}), as the seed's api_access_key means; set project_id to build in another project`,
    );
  } else if (accessKey?.templateKey === 'api_access_key' && isUuid(accessKey.value) && !organizationId) {
    // Packer ≤1.5 used api_access_key for the organization ID; a UUID there is probably one.
    ctx.warnings.push(`${accessKey.origin} looks like an organization ID, as api_access_key held in old Packer versions: if it is, set "organization_id" to it`);
  } else if (!projectId && !organizationId) {
    ctx.warnings.push(`no Scaleway project is set (${lookedIn('projectId')}): the build will stop in its prepare phase unless you set project_id, SCW_DEFAULT_PROJECT_ID or default_project_id`);
  }

  const zoneSetting = setting('zone');
  let zone = '';
  if (!zoneSetting) {
    problems.add(reader.path('zone'), `no zone is set: ${lookedIn('zone')}`, `set "zone" (one of ${ZONES.join(', ')}) or the seed's "region" (par1, ams1)`);
  } else if (zoneSetting.templateKey === 'region') {
    const mapped = LEGACY_REGIONS[zoneSetting.value] ?? ((ZONES as readonly string[]).includes(zoneSetting.value) ? zoneSetting.value : undefined);
    if (mapped) zone = mapped;
    else problems.add(zoneSetting.origin, `"${zoneSetting.value}" is not a region`, didYouMean(zoneSetting.value, Object.keys(LEGACY_REGIONS)) ?? `regions are par1 and ams1; for other places set "zone" (${ZONES.join(', ')})`);
  } else {
    const mapped = LEGACY_REGIONS[zoneSetting.value] ?? zoneSetting.value;
    if ((ZONES as readonly string[]).includes(mapped)) zone = mapped;
    else {
      const guess = didYouMean(zoneSetting.value, ZONES);
      problems.add(zoneSetting.origin, `"${zoneSetting.value}" is not a Scaleway zone`, `${guess ? `${guess} ` : ''}zones are ${ZONES.join(', ')}`);
    }
  }

  const apiUrlSetting = setting('apiUrl');
  let apiUrl = DEFAULT_API_URL;
  if (apiUrlSetting) {
    let url: URL | undefined;
    try {
      url = new URL(apiUrlSetting.value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.add(apiUrlSetting.origin, `"${apiUrlSetting.value}" is not an http(s) URL`, `the default is ${DEFAULT_API_URL}`);
    } else apiUrl = apiUrlSetting.value.replace(/\/+$/, '');
  }

  // The server and what it becomes.
  const image = reader.string('image');
  if (image === undefined) problems.add(reader.path('image'), 'the source image is required', 'give an image UUID, or a marketplace label such as "ubuntu_jammy"');
  else if (!isUuid(image) && !IMAGE_LABEL.test(image)) {
    problems.add(reader.path('image'), `"${image}" is neither an image UUID nor a marketplace label`, 'give a UUID such as "8f2f9c2e-7b1a-4a8e-9c6d-2f1e3b4a5c6d", or a label such as "ubuntu_jammy" (lower case, words joined by "_")');
  }
  const commercialType = reader.string('commercial_type');
  if (commercialType === undefined) problems.add(reader.path('commercial_type'), 'the commercial type is required', 'for example "DEV1-S", "PLAY2-NANO" or the seed\'s "START1-S"');
  else if (!COMMERCIAL_TYPE.test(commercialType)) problems.add(reader.path('commercial_type'), `"${commercialType}" is not a commercial type`, 'for example "DEV1-S", "PRO2-XS" or "START1-S"');

  const timestamp = String(Math.floor(ctx.initTime.getTime() / 1000));
  const bootType = reader.enumeration('boottype', BOOT_TYPES) ?? 'local';
  const bootscript = reader.string('bootscript');
  if (bootscript !== undefined && !isUuid(bootscript)) problems.add(reader.path('bootscript'), `"${bootscript}" is not a bootscript ID (a UUID)`);
  if (bootscript !== undefined && bootType !== 'bootscript') ctx.warnings.push(`${reader.path('bootscript')} is ignored because boottype is "${bootType}"${reader.has('boottype') ? '' : ' (the default)'}`);
  if (bootType === 'bootscript') {
    ctx.warnings.push(`${reader.path('boottype')} is "bootscript": Scaleway no longer offers bootscripts, so the API may refuse the server; "local" (the default) boots the image's own kernel`);
  }
  // The plugin's image_size_in_gb (≤ 1.2) sized the image's b_ssd volume, a type Scaleway retired in 2025.
  if (reader.has('image_size_in_gb')) {
    ctx.warnings.push(`${reader.path('image_size_in_gb')} is deprecated and ignored: it sized the image's volume when images had b_ssd volumes, which Scaleway retired; set root_volume.size_in_gb instead, as the plugin's own migration did`);
  }

  const tags = readTags(reader, 'tags');
  const serverTags = readTags(reader, 'server_tags');
  const userData = reader.stringMap('user_data') ?? {};
  const userDataTimeoutMs = reader.duration('user_data_timeout') ?? 0;

  // The current plugin's server options (reference: scaleway-modern-api.md §3, §5, §7).
  const securityGroupId = readUuid(reader, 'security_group_id', 'a security group ID', 'find it with `scw instance security-group list`');
  const adminPasswordKeyId = readUuid(reader, 'admin_password_encryption_ssh_key_id', 'an IAM SSH key ID', 'find it with `scw iam ssh-key list` (an RSA key)');
  const privateNetworkIds = reader.stringList('private_network_ids') ?? [];
  privateNetworkIds.forEach((id, index) => {
    const path = `${reader.path('private_network_ids')}[${index}]`;
    if (id.trim() === '') problems.add(path, 'must not be empty', 'remove the empty entry');
    else if (!isUuid(id)) problems.add(path, `"${id}" is not a private network ID (a UUID)`, 'find it with `scw vpc private-network list`');
  });
  const duplicateNetwork = privateNetworkIds.find((id, index) => privateNetworkIds.indexOf(id) !== index);
  if (duplicateNetwork) problems.add(reader.path('private_network_ids'), `lists ${duplicateNetwork} twice`, 'a server has one NIC per private network: list each once');

  const timeout = (key: string, fallback: number): number => {
    const ms = reader.duration(key);
    return ms === undefined || ms === 0 ? fallback : ms;
  };
  const timeouts = {
    serverCreationMs: timeout('server_creation_timeout', TIMEOUT_DEFAULTS.serverCreationMs),
    serverShutdownMs: timeout('server_shutdown_timeout', TIMEOUT_DEFAULTS.serverShutdownMs),
    snapshotCreationMs: timeout('snapshot_creation_timeout', TIMEOUT_DEFAULTS.snapshotCreationMs),
    imageCreationMs: timeout('image_creation_timeout', TIMEOUT_DEFAULTS.imageCreationMs),
    stateMs: timeout('state_timeout', TIMEOUT_DEFAULTS.stateMs),
  };

  const { root: rootVolume, snapshotName } = readRootVolume(reader, reader.resourceName('snapshot_name') ?? `packer-${timestamp}`);
  const blockVolumes = readBlockVolumes(reader, {
    name: (n) => `packer-${ctx.uuid}-${n}`,
    // As the plugin names them: packer-{{timestamp}} for each (Scaleway allows equal names).
    snapshotName: () => `packer-${timestamp}`,
  });

  const spec: BuilderPart = {
    name: ctx.name,
    type: 'scaleway',
    apiUrl,
    zone,
    ...(projectId ? { projectId: projectId.value } : {}),
    ...(organizationId ? { organizationId: organizationId.value } : {}),
    ...(accessKey ? { accessKey: accessKey.value } : {}),
    secretKey: secret?.value ?? '',
    image: image ?? '',
    // The API's commercial types are upper case; the marketplace compares them upper-cased too.
    commercialType: (commercialType ?? '').toUpperCase(),
    serverName: reader.resourceName('server_name') ?? `packer-${ctx.uuid}`,
    imageName: reader.resourceName('image_name') ?? `packer-${timestamp}`,
    snapshotName,
    rootVolume,
    blockVolumes,
    bootType,
    ...(bootscript !== undefined ? { bootscript } : {}),
    removeVolume: reader.bool('remove_volume') ?? true,
    tags,
    serverTags,
    userData,
    userDataTimeoutMs,
    ...(securityGroupId !== undefined ? { securityGroupId } : {}),
    ...(adminPasswordKeyId !== undefined ? { adminPasswordEncryptionSshKeyId: adminPasswordKeyId } : {}),
    keepServer: reader.bool('keep_server') ?? false,
    // The plugin's string boolean ("true", "1", …; strconv.ParseBool), default "false".
    cleanupMachineRelatedData: reader.bool('cleanup_machine_related_data') ?? false,
    privateNetworkIds,
    timeouts,
    phasePolicy: readPhasePolicy(reader),
    communicator: readCommunicator(reader, ctx, ctx.warnings),
  };
  if (spec.cleanupMachineRelatedData && spec.communicator.type === 'none') {
    ctx.warnings.push(`${reader.path('cleanup_machine_related_data')} is ignored with communicator "none": emptying the machine-id files needs SSH`);
  }
  return problems.count === before ? spec : undefined;
}

function readUuid(reader: FieldReader, key: string, what: string, hint: string): string | undefined {
  const value = reader.string(key);
  if (value === undefined || value === '') return undefined;
  if (!isUuid(value)) {
    reader.ctx.problems.add(reader.path(key), `"${value}" is not ${what} (a UUID)`, hint);
    return undefined;
  }
  return value;
}

function describeSecret(value: string): string {
  if (value.trim() !== value) return `a ${value.length}-character value with leading or trailing spaces`;
  if (/^SCW[A-Z0-9]{17}$/.test(value)) return 'a value shaped like an access key (SCW…): the secret key is the other half of the pair';
  return `a ${value.length}-character value`;
}

// kiln tags its own resources `kiln`, `kiln-build=<id>`, `kiln-phase=<phase>`; gc trusts them.
function readTags(reader: FieldReader, key: string): string[] {
  const tags = reader.stringList(key) ?? [];
  tags.forEach((tag, index) => {
    if (tag === 'kiln' || tag.startsWith('kiln-')) {
      reader.ctx.problems.add(`${reader.path(key)}[${index}]`, `the tag "${tag}" is reserved for kiln's own bookkeeping (kiln gc relies on it)`, 'choose a tag that does not start with "kiln"');
    } else if (tag.startsWith('AUTHORIZED_KEY=')) {
      reader.ctx.problems.add(`${reader.path(key)}[${index}]`, 'AUTHORIZED_KEY tags are set by kiln from the SSH key it uses', 'use ssh_private_key_file to choose the key');
    } else if (tag.trim() === '') {
      reader.ctx.problems.add(`${reader.path(key)}[${index}]`, 'a tag must not be empty');
    }
  });
  return tags;
}

function readPhasePolicy(reader: FieldReader): Partial<Record<PhaseName, PhasePolicyOverride>> {
  const block = reader.object('kiln_phase_policy');
  const policy: Partial<Record<PhaseName, PhasePolicyOverride>> = {};
  if (!block) return policy;
  for (const [phase, value] of Object.entries(block)) {
    const path = `${reader.path('kiln_phase_policy')}.${phase}`;
    if (!isPhaseName(phase)) {
      reader.ctx.problems.add(path, `"${phase}" is not a phase`, didYouMean(phase, PHASES) ?? `the phases are ${PHASES.join(', ')}`);
      continue;
    }
    if (!isObject(value)) {
      reader.ctx.problems.add(path, `must be an object such as {"attempts": 5, "attempt_timeout": "30s"}, not ${describeType(value)}`);
      continue;
    }
    const entry = new FieldReader(value, `${reader.path('kiln_phase_policy')}["${phase}"]`, reader.ctx);
    entry.checkKeys(PHASE_POLICY_KEYS);
    const override: PhasePolicyOverride = {};
    const attempts = entry.int('attempts', { min: 1 });
    if (attempts !== undefined) override.attempts = attempts;
    const attemptTimeout = entry.duration('attempt_timeout');
    if (attemptTimeout !== undefined) override.attemptTimeoutMs = attemptTimeout;
    const phaseTimeout = entry.duration('phase_timeout');
    if (phaseTimeout !== undefined) override.phaseTimeoutMs = phaseTimeout;
    const backoff: NonNullable<PhasePolicyOverride['backoff']> = {};
    const initial = entry.duration('initial_backoff');
    if (initial !== undefined) backoff.initialMs = initial;
    const max = entry.duration('max_backoff');
    if (max !== undefined) backoff.maxMs = max;
    const factor = entry.number('backoff_factor', { min: 1 });
    if (factor !== undefined) backoff.factor = factor;
    const jitter = entry.number('jitter', { min: 0, max: 1 });
    if (jitter !== undefined) backoff.jitter = jitter;
    if (initial !== undefined && max !== undefined && max < initial) {
      reader.ctx.problems.add(`${entry.prefix}.max_backoff`, 'must not be shorter than initial_backoff');
    }
    if (Object.keys(backoff).length) override.backoff = backoff;
    policy[phase] = override;
  }
  return policy;
}
