// Where credentials and defaults come from when the template does not set them, as the
// Scaleway tools do: environment variables, then the Scaleway config file
// (~/.config/scw/config.yaml, or $SCW_CONFIG_PATH; profile from $SCW_PROFILE or `active_profile`).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Problems } from './errors.js';
import { isObject } from './fields.js';

/** The settings a Scaleway profile can give kiln. */
export interface ScalewaySettings {
  accessKey?: string;
  secretKey?: string;
  projectId?: string;
  organizationId?: string;
  zone?: string;
  apiUrl?: string;
}

export type SettingName = keyof ScalewaySettings;

/** Environment variables read for each setting, current name first, then legacy names. */
export const ENV_NAMES: Record<SettingName, { current: string; legacy?: string }> = {
  accessKey: { current: 'SCW_ACCESS_KEY', legacy: 'SCALEWAY_API_ACCESS_KEY' },
  secretKey: { current: 'SCW_SECRET_KEY', legacy: 'SCALEWAY_API_TOKEN' },
  projectId: { current: 'SCW_DEFAULT_PROJECT_ID' },
  organizationId: { current: 'SCW_DEFAULT_ORGANIZATION_ID' },
  zone: { current: 'SCW_DEFAULT_ZONE' },
  apiUrl: { current: 'SCW_API_URL' },
};

/** Keys of a profile in config.yaml, for each setting. */
export const CONFIG_KEYS: Record<SettingName, string> = {
  accessKey: 'access_key',
  secretKey: 'secret_key',
  projectId: 'default_project_id',
  organizationId: 'default_organization_id',
  zone: 'default_zone',
  apiUrl: 'api_url',
};

export interface ScalewayConfigFile {
  path: string;
  profile: string;
  /** Why nothing was read, for "where kiln looked" messages: 'not found', 'no profile "x"', … */
  status: 'loaded' | 'not found' | 'unreadable' | 'invalid' | 'profile missing';
  settings: ScalewaySettings;
}

/** The config file's location: explicit path, $SCW_CONFIG_PATH, $XDG_CONFIG_HOME/scw, ~/.config/scw. */
export function scalewayConfigPath(env: Readonly<Record<string, string | undefined>>, explicit?: string): string {
  if (explicit) return explicit;
  if (env.SCW_CONFIG_PATH) return env.SCW_CONFIG_PATH;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'scw', 'config.yaml');
  return join(env.HOME || homedir(), '.config', 'scw', 'config.yaml');
}

export async function readScalewayConfig(
  env: Readonly<Record<string, string | undefined>>,
  explicitPath: string | undefined,
  problems: Problems,
): Promise<ScalewayConfigFile> {
  const path = scalewayConfigPath(env, explicitPath);
  let profile = env.SCW_PROFILE || 'default';
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing) problems.add(path, `cannot read the Scaleway config file: ${(error as Error).message}`);
    if (missing && env.SCW_PROFILE) {
      problems.add('SCW_PROFILE', `asks for the profile "${env.SCW_PROFILE}" but the Scaleway config file ${path} does not exist`, 'unset SCW_PROFILE or set SCW_CONFIG_PATH to your config file');
    }
    return { path, profile, status: missing ? 'not found' : 'unreadable', settings: {} };
  }

  // Loaded only when there is a file to parse: most runs (CI, env credentials) never need it.
  const { parseDocument } = await import('yaml');
  const document = parseDocument(content, { logLevel: 'error' });
  if (document.errors.length > 0) {
    // yaml's own message quotes the offending line, which may hold a key: give only the position.
    const first = document.errors[0]!;
    const where = first.linePos ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    problems.add(path, `the Scaleway config file is not valid YAML${where} (${first.code})`, 'fix the file, or point SCW_CONFIG_PATH at another one');
    return { path, profile, status: 'invalid', settings: {} };
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // yaml refuses aliases that expand too far ("billion laughs"): a file no Scaleway tool writes.
    if (!(error instanceof ReferenceError)) throw error;
    problems.add(path, 'the Scaleway config file uses YAML aliases that expand too far (more than yaml\'s limit of 100)', 'write the profile\'s keys out, or point SCW_CONFIG_PATH at another file');
    return { path, profile, status: 'invalid', settings: {} };
  }
  if (data === null || data === undefined) return { path, profile, status: 'loaded', settings: {} };
  if (!isObject(data)) {
    problems.add(path, 'the Scaleway config file must be a YAML mapping of keys such as access_key, secret_key, default_zone');
    return { path, profile, status: 'invalid', settings: {} };
  }

  if (!env.SCW_PROFILE && typeof data.active_profile === 'string' && data.active_profile) profile = data.active_profile;
  const settings = pickSettings(data);
  if (profile === 'default') return { path, profile, status: 'loaded', settings };

  // A named profile overrides the top-level (default) values key by key, as scaleway-sdk-go does.
  const profiles = isObject(data.profiles) ? data.profiles : {};
  // Own keys only: a profile named "constructor" or "__proto__" is not Object's.
  const named = Object.hasOwn(profiles, profile) ? profiles[profile] : undefined;
  if (!isObject(named)) {
    const known = Object.keys(profiles);
    problems.add(
      env.SCW_PROFILE ? 'SCW_PROFILE' : `${path}: active_profile`,
      `the profile "${profile}" is not in the Scaleway config file ${path}`,
      known.length ? `its profiles are ${known.join(', ')}` : 'the file defines no profiles',
    );
    return { path, profile, status: 'profile missing', settings };
  }
  return { path, profile, status: 'loaded', settings: { ...settings, ...pickSettings(named) } };
}

function pickSettings(data: Record<string, unknown>): ScalewaySettings {
  const settings: ScalewaySettings = {};
  for (const [name, key] of Object.entries(CONFIG_KEYS) as Array<[SettingName, string]>) {
    const value = data[key];
    if (typeof value === 'string' && value !== '') settings[name] = value;
  }
  return settings;
}
