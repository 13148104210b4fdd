// `kiln gc`'s options from its flags, the environment and the Scaleway config file, as the template
// loader reads credentials: `kiln gc` runs with them, and `kiln ui`'s gc page plans with them.
import { normalizeZone } from '../scaleway/index.js';
import { DEFAULT_API_URL, ZONES } from '../template/builder.js';
import { ENV_NAMES, readScalewayConfig, type ScalewaySettings, type SettingName } from '../template/credentials.js';
import { parseDuration } from '../template/duration.js';
import { Problems, formatProblems } from '../template/errors.js';
import { GcUsageError } from './errors.js';
import { DEFAULT_SERVER_STOP_TIMEOUT_MS } from './remove.js';

export interface GcArgs {
  olderThan?: string;
  zone?: string;
  allZones?: boolean;
  build?: string;
  force?: boolean;
  json?: boolean;
  db?: string;
  apiUrl?: string;
  waitTimeout?: string;
}

const DEFAULT_ZONE = 'fr-par-1';
const DEFAULT_OLDER_THAN_MS = 3_600_000;

function duration(flag: 'older-than' | 'wait-timeout', text: string): number {
  const ms = parseDuration(text);
  const zeroAllowed = flag === 'older-than';
  if (ms === undefined || ms < 0 || (ms === 0 && !zeroAllowed)) {
    throw new GcUsageError(
      `--${flag} "${text}" is not a ${zeroAllowed ? '' : 'positive '}duration. Use a number with a unit, such as 90s, 30m, 2h or 1h30m` +
        (zeroAllowed ? ' (0 for any age).' : '.'),
    );
  }
  return ms;
}

/** Environment first (current, then legacy names), then the Scaleway config file: as the template loader reads them. */
async function scalewaySettings(env: NodeJS.ProcessEnv): Promise<ScalewaySettings> {
  const problems = new Problems();
  const file = await readScalewayConfig(env, undefined, problems);
  if (problems.count > 0) throw new GcUsageError(formatProblems(problems.list).replace(/^the template has/, 'the Scaleway settings have'));
  const settings: ScalewaySettings = { ...file.settings };
  for (const [name, vars] of Object.entries(ENV_NAMES) as Array<[SettingName, { current: string; legacy?: string }]>) {
    const value = env[vars.current] || (vars.legacy ? env[vars.legacy] : undefined);
    if (value) settings[name] = value;
  }
  return settings;
}

/** Validates the flags and settings into runGc's options (everything but the store). */
export async function resolveGcOptions(args: GcArgs, env: NodeJS.ProcessEnv = process.env) {
  // The flags first: a typo is reported before any file or credential is looked at.
  if (args.zone !== undefined && args.allZones) throw new GcUsageError('--zone and --all-zones exclude each other: give one of them.');
  // With --build the user points at one build's leftovers (as `kiln build --on-error abort`
  // suggests): any age, unless they ask otherwise.
  const olderThanMs =
    args.olderThan !== undefined ? duration('older-than', args.olderThan) : args.build !== undefined ? 0 : DEFAULT_OLDER_THAN_MS;
  const serverStopTimeoutMs = args.waitTimeout !== undefined ? duration('wait-timeout', args.waitTimeout) : DEFAULT_SERVER_STOP_TIMEOUT_MS;

  const settings = await scalewaySettings(env);
  if (!settings.secretKey) {
    throw new GcUsageError('no Scaleway secret key: set SCW_SECRET_KEY, or secret_key in the Scaleway config file (~/.config/scw/config.yaml).');
  }
  let zones: string[];
  if (args.allZones) zones = [...ZONES];
  else {
    const given = args.zone ?? settings.zone ?? DEFAULT_ZONE;
    const where = args.zone !== undefined ? '--zone' : 'the default zone (SCW_DEFAULT_ZONE or default_zone in the Scaleway config file)';
    let zone: string;
    try {
      zone = normalizeZone(given);
    } catch (error) {
      throw new GcUsageError(`${where}: ${(error as Error).message}`);
    }
    if (!(ZONES as readonly string[]).includes(zone)) {
      throw new GcUsageError(`${where}: "${given}" is not a Scaleway zone; zones are ${ZONES.join(', ')}.`);
    }
    zones = [zone];
  }
  return {
    apiUrl: args.apiUrl ?? settings.apiUrl ?? DEFAULT_API_URL,
    secretKey: settings.secretKey,
    ...(settings.projectId ? { projectId: settings.projectId } : {}),
    zones,
    olderThanMs,
    force: args.force === true,
    serverStopTimeoutMs,
  };
}
