// Where a build runs — its zone, API URL and project — is a fact of the build, recorded in its spec
// when it starts. `kiln resume` and `kiln gc --build` work where the build ran, not where the shell
// they run in points: a template without a zone, resumed from a shell with another
// SCW_DEFAULT_ZONE, must not look for its server in the wrong zone (and call it deleted).
import { ENV_NAMES, type SettingName } from './credentials.js';
import { SENSITIVE_PLACEHOLDER } from './spec.js';

/** The three settings that say where a build's resources are. */
export interface BuildTarget {
  zone: string;
  apiUrl: string;
  projectId?: string;
}

const TARGET_SETTINGS = ['zone', 'apiUrl', 'projectId'] as const satisfies readonly SettingName[];

const LABEL: Record<(typeof TARGET_SETTINGS)[number], string> = { zone: 'zone', apiUrl: 'API URL', projectId: 'project' };

/** A spec's (or a recorded, redacted spec's) target. */
export function targetOf(spec: { zone: string; apiUrl: string; projectId?: string | undefined }): BuildTarget {
  return { zone: spec.zone, apiUrl: spec.apiUrl, ...(spec.projectId ? { projectId: spec.projectId } : {}) };
}

/** The target a build's record keeps (its redacted spec), or undefined for a record without one. */
export function recordedTarget(spec: unknown): BuildTarget | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined;
  const { zone, apiUrl, projectId } = spec as Record<string, unknown>;
  // A value the redaction hid (it held a secret) says nothing of where the build ran.
  const known = (value: unknown): value is string => typeof value === 'string' && value !== '' && value !== SENSITIVE_PLACEHOLDER;
  if (!known(zone) || !known(apiUrl)) return undefined;
  return { zone, apiUrl, ...(known(projectId) ? { projectId } : {}) };
}

/** The environment variable (current or legacy name) the shell sets for a setting, if any. */
function shellVariable(name: SettingName, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const vars = ENV_NAMES[name];
  if (env[vars.current]) return vars.current;
  if (vars.legacy && env[vars.legacy]) return vars.legacy;
  return undefined;
}

/**
 * The environment a resume loads its template with: the shell's, and where the shell names no
 * zone, API URL or project, the build's recorded ones (they come before the Scaleway config file,
 * as the environment does). Credentials still come from the shell or the config file.
 */
export function envForTarget(target: BuildTarget, env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of TARGET_SETTINGS) {
    const value = target[name];
    if (value !== undefined && shellVariable(name, env) === undefined) out[ENV_NAMES[name].current] = value;
  }
  return out;
}

/**
 * How the target a template now evaluates to differs from where the build ran, one sentence a
 * difference (empty when they agree), each naming what to change.
 */
export function targetConflicts(recorded: BuildTarget, now: BuildTarget, env: Readonly<Record<string, string | undefined>>): string[] {
  const lines: string[] = [];
  for (const name of TARGET_SETTINGS) {
    const was = recorded[name];
    const is = now[name];
    if (was === undefined || was === is) continue;
    const variable = shellVariable(name, env);
    const where = variable ? `this shell's ${variable}` : 'the template';
    const fix = variable ? `unset ${variable} or set it to ${was}` : `give the template its ${LABEL[name]} back (${was})`;
    lines.push(`the build ran with ${LABEL[name]} ${was}, but ${where} now names ${is ?? 'none'}: ${fix}`);
  }
  return lines;
}
