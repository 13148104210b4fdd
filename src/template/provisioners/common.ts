// What every provisioner type shares when its JSON object is read: the common keys, the
// context, and the readers of scripts, inline commands, environment variables and exit codes.
import { statSync } from 'node:fs';
import { FieldReader, describeType, type FieldContext } from '../fields.js';
import { resolveLocalPath } from '../paths.js';

/** Keys every provisioner takes (Packer's common provisioner configuration). */
export const COMMON_KEYS = ['type', 'only', 'except', 'pause_before', 'max_retries', 'timeout'] as const;

export const UNSUPPORTED_COMMON: Record<string, string> = {
  override: 'write a separate provisioner restricted with "only"',
};

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

export function readScripts(reader: FieldReader, ctx: ProvisionerContext): { scripts: string[]; present: string[] } {
  const present: string[] = [];
  const written: Array<{ path: string; file: string }> = [];
  const script = reader.string('script');
  if (script !== undefined) {
    present.push('script');
    written.push({ path: reader.path('script'), file: script });
  }
  const scripts = reader.stringList('scripts');
  if (scripts && scripts.length) {
    present.push('scripts');
    scripts.forEach((file, i) => written.push({ path: `${reader.path('scripts')}[${i}]`, file }));
  }
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

export function readEnvironmentVars(reader: FieldReader): string[] {
  const vars = reader.stringList('environment_vars') ?? [];
  vars.forEach((entry, i) => {
    const equals = entry.indexOf('=');
    // The value may be secret: name the entry by its position and name only.
    if (equals <= 0) reader.ctx.problems.add(`${reader.path('environment_vars')}[${i}]`, 'is not of the form NAME=value', 'write "NAME=value"');
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry.slice(0, equals))) {
      reader.ctx.problems.add(`${reader.path('environment_vars')}[${i}]`, `"${entry.slice(0, equals)}" is not a valid environment variable name`, 'use letters, digits and "_", not starting with a digit');
    }
  });
  return vars;
}

export function readInline(reader: FieldReader, present: string[]): string[] | undefined {
  const inline = reader.stringList('inline');
  if (inline && inline.length) present.push('inline');
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

