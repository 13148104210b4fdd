// What every provisioner type shares when its JSON object is read: the common keys, the
// context, and the readers of scripts, inline commands, environment variables and exit codes.
import { statSync } from 'node:fs';
import { FieldReader, describeType, type FieldContext } from '../fields.js';
import { resolveLocalPath } from '../paths.js';

/** Keys every provisioner takes (Packer's common provisioner configuration). */
export const COMMON_KEYS = ['type', 'only', 'except', 'pause_before', 'max_retries', 'timeout', 'continue_on_error', 'override'] as const;

export const UNSUPPORTED_COMMON: Record<string, string> = {};

/** Packer's default format of one environment variable (`{{.Vars}}`): NAME='value' and a space. */
export const DEFAULT_ENV_VAR_FORMAT = "%s='%s' ";

/** Packer's default valid exit codes. */
const DEFAULT_EXIT_CODES = [0] as const;

export interface ProvisionerContext extends FieldContext {
  templateDir: string;
  /** For `~/` in paths: $HOME of the given environment. */
  home: string;
  /** All builder names of the template, for only/except checks. */
  builderNames: readonly string[];
}

// Exactly one way of saying what to run (Packer: "Only one of inline, script, or scripts").
export function requireOneOf(reader: FieldReader, keys: readonly string[], present: readonly string[]): void {
  if (present.length === 0) {
    reader.ctx.problems.add(reader.prefix, `nothing to run: set one of ${keys.map((k) => `"${k}"`).join(', ')}`);
  } else if (present.length > 1) {
    reader.ctx.problems.add(reader.prefix, `only one of ${keys.map((k) => `"${k}"`).join(', ')} may be set, but ${present.map((k) => `"${k}"`).join(' and ')} are`);
  }
}

/**
 * Whether the template writes `key` at all (not null, "" or []). A value that fails to evaluate
 * still counts: its own problem is reported where it is, and "nothing to run" would be a second,
 * false one.
 */
export function isWritten(reader: FieldReader, key: string): boolean {
  const value = reader.raw[key];
  return value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
}

export function readScripts(reader: FieldReader, ctx: ProvisionerContext): { scripts: string[]; present: string[] } {
  const present = (['script', 'scripts'] as const).filter((key) => isWritten(reader, key));
  const written: Array<{ path: string; file: string }> = [];
  const script = reader.string('script');
  if (script !== undefined) written.push({ path: reader.path('script'), file: script });
  const scripts = reader.stringList('scripts');
  scripts?.forEach((file, i) => written.push({ path: `${reader.path('scripts')}[${i}]`, file }));
  const resolved = written.map(({ path, file }) => {
    const absolute = resolveLocalPath(ctx.templateDir, file, ctx.home);
    checkLocalFile(ctx, path, file, absolute, 'file');
    return absolute;
  });
  return { scripts: resolved, present };
}

export function checkLocalFile(ctx: FieldContext, path: string, written: string, absolute: string, kind: 'file' | 'file or directory'): void {
  const where = written === absolute ? `"${written}"` : `"${written}" (${absolute})`;
  try {
    const stat = statSync(absolute);
    if (kind === 'file' && !stat.isFile()) ctx.problems.add(path, `${where} is not a file`);
  } catch {
    ctx.problems.add(path, `${where} does not exist`, 'relative paths start at the template\'s directory');
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `environment_vars` (NAME=value entries), then `env` (a map; Packer: its entries win). */
export function readEnvironmentVars(reader: FieldReader): string[] {
  const vars = reader.stringList('environment_vars') ?? [];
  vars.forEach((entry, i) => {
    const equals = entry.indexOf('=');
    // The value may be secret: name the entry by its position and name only.
    if (equals <= 0) reader.ctx.problems.add(`${reader.path('environment_vars')}[${i}]`, 'is not of the form NAME=value', 'write "NAME=value"');
    else if (!ENV_NAME.test(entry.slice(0, equals))) {
      reader.ctx.problems.add(`${reader.path('environment_vars')}[${i}]`, `"${entry.slice(0, equals)}" is not a valid environment variable name`, 'use letters, digits and "_", not starting with a digit');
    }
  });
  const env = reader.stringMap('env') ?? {};
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name)) reader.ctx.problems.add(`${reader.path('env')}.${name}`, `"${name}" is not a valid environment variable name`, 'use letters, digits and "_", not starting with a digit');
  }
  return [...vars, ...Object.entries(env).map(([name, value]) => `${name}=${value}`)];
}

/**
 * `env_var_format`: Go's printf format that Packer applies to each variable's name and value
 * (single quotes in the value escaped as '"'"'). kiln reads the verbs %s and %v, and %% for a
 * percent sign: a format needs exactly two verbs, the name's and the value's.
 */
export function readEnvVarFormat(reader: FieldReader, fallback: string): string {
  const format = reader.string('env_var_format');
  if (format === undefined) return fallback;
  const verbs = format.match(/%./gs) ?? [];
  const bad = verbs.find((verb) => verb !== '%s' && verb !== '%v' && verb !== '%%');
  const count = verbs.filter((verb) => verb !== '%%').length;
  if (bad !== undefined || count !== 2) {
    reader.ctx.problems.add(
      reader.path('env_var_format'),
      bad !== undefined ? `"${bad}" is a printf verb kiln does not read here` : `has ${count} %s verb${count === 1 ? '' : 's'}, not 2 (the name, then the value)`,
      `for example "${DEFAULT_ENV_VAR_FORMAT}" or "export %s='%s'\\n"`,
    );
    return fallback;
  }
  return format;
}

export function readInline(reader: FieldReader, present: string[]): string[] | undefined {
  if (isWritten(reader, 'inline')) present.push('inline');
  const inline = reader.stringList('inline');
  return inline && inline.length ? inline : undefined;
}

export function readExitCodes(reader: FieldReader): number[] {
  const value = reader.raw.valid_exit_codes;
  if (value === undefined || value === null) return [...DEFAULT_EXIT_CODES];
  const path = reader.path('valid_exit_codes');
  if (!Array.isArray(value) || value.length === 0) {
    reader.ctx.problems.add(path, `must be a non-empty list of exit codes, not ${Array.isArray(value) ? 'an empty list' : describeType(value)}`, 'for example [0, 2300218]');
    return [...DEFAULT_EXIT_CODES];
  }
  const codes: number[] = [];
  value.forEach((item: unknown, i) => {
    const text = typeof item === 'string' ? reader.ctx.interpolate(item, `${path}[${i}]`) : item;
    const code = typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isInteger(code) || code < 0) reader.ctx.problems.add(`${path}[${i}]`, `must be a whole number ≥ 0, not ${typeof item === 'string' ? `"${item}"` : describeType(item)}`);
    else codes.push(code);
  });
  return codes;
}

