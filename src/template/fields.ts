// Typed, interpolating access to one JSON object of the template (a builder, a provisioner, the
// phase-policy block). Each getter evaluates template functions, converts the value the way
// Packer's weakly typed decoding does ("22" is a port, "false" is a boolean: values often come
// from {{user}}), and records a problem, naming the key's path, instead of throwing.
import type { Problems } from './errors.js';
import { parseDuration } from './duration.js';
import { didYouMean } from './suggest.js';

export interface FieldContext {
  problems: Problems;
  /** Evaluates template functions in one string; undefined after recording a problem. */
  interpolate(text: string, path: string, keepFields?: readonly string[]): string | undefined;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function keyPath(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

// Go's strconv.ParseBool, which Packer's decoding uses for strings.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export class FieldReader {
  constructor(
    readonly raw: JsonObject,
    readonly prefix: string,
    readonly ctx: FieldContext,
  ) {}

  path(key: string): string {
    return keyPath(this.prefix, key);
  }

  /** Set to something other than null (an empty string still counts: it may be filled by a variable). */
  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  private problem(key: string, message: string, hint?: string): undefined {
    this.ctx.problems.add(this.path(key), message, hint);
    return undefined;
  }

  /**
   * Reports keys that are not in `known`. Keys starting with "_" are comments (as in Packer).
   * `unsupported` names Packer keys kiln knows but does not implement, with the reason.
   */
  checkKeys(known: readonly string[], unsupported: Readonly<Record<string, string>> = {}): void {
    for (const key of Object.keys(this.raw)) {
      if (known.includes(key) || key.startsWith('_')) continue;
      // Own keys only: a key named "valueOf" is not Object's method.
      const reason = Object.hasOwn(unsupported, key) ? unsupported[key] : undefined;
      if (reason !== undefined) this.problem(key, `"${key}" is a Packer option that kiln does not support`, reason);
      else this.problem(key, `unknown key "${key}"`, didYouMean(key, known) ?? `the known keys are ${known.join(', ')}`);
    }
  }

  /** A string after interpolation; "" counts as unset (Packer's zero value), so defaults apply. */
  string(key: string, options: { secret?: boolean; keepFields?: readonly string[] } = {}): string | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && !options.secret) return String(value);
    if (typeof value !== 'string') return this.problem(key, `must be a string, not ${describeType(value)}`);
    const text = this.ctx.interpolate(value, this.path(key), options.keepFields);
    return text === undefined || text === '' ? undefined : text;
  }

  /** A name kiln gives a Scaleway resource (server, image, snapshot, volume): checked by `resourceNameProblem`. */
  resourceName(key: string): string | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    const problem = resourceNameProblem(text);
    return problem ? this.problem(key, problem, 'names are printed in logs, `kiln show` and the Scaleway console: use letters, digits, "-", "_", "." and inner spaces') : text;
  }

  enumeration<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    if ((allowed as readonly string[]).includes(text)) return text as T;
    const guess = didYouMean(text, allowed);
    return this.problem(key, `"${text}" is not one of ${allowed.map((a) => `"${a}"`).join(', ')}`, guess ?? `use one of ${allowed.join(', ')}`);
  }

  bool(key: string): boolean | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    const text = typeof value === 'string' ? this.ctx.interpolate(value, this.path(key)) : undefined;
    if (typeof value === 'string' && text === undefined) return undefined;
    if (text === '') return undefined;
    if (text !== undefined && TRUE.has(text)) return true;
    if (text !== undefined && FALSE.has(text)) return false;
    return this.problem(key, `must be true or false, not ${typeof value === 'string' ? `"${text}"` : describeType(value)}`, 'write true or false');
  }

  int(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    return this.numeric(key, range, 'whole');
  }

  number(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    return this.numeric(key, range, 'any');
  }

  /** A number written as a JSON number or as a (template-expanded) string, within `range`. */
  private numeric(key: string, range: { min?: number; max?: number }, kind: 'whole' | 'any'): number | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    const noun = kind === 'whole' ? 'a whole number' : 'a number';
    let number: number;
    if (typeof value === 'number') number = value;
    else if (typeof value === 'string') {
      const text = this.ctx.interpolate(value, this.path(key));
      if (text === undefined || text === '') return undefined;
      const wellFormed = kind === 'whole' ? /^[-+]?\d+$/.test(text.trim()) : text.trim() !== '';
      number = wellFormed ? Number(text) : NaN;
    } else return this.problem(key, `must be ${noun}, not ${describeType(value)}`);
    if (kind === 'whole' ? !Number.isInteger(number) : !Number.isFinite(number)) return this.problem(key, `must be ${noun}`);
    if (range.min !== undefined && number < range.min) return this.problem(key, `must be at least ${range.min}, not ${number}`);
    if (range.max !== undefined && number > range.max) return this.problem(key, `must be at most ${range.max}, not ${number}`);
    return number;
  }

  /** Milliseconds from a Go duration string ("90s", "5m", "1h30m"). */
  duration(key: string, options: { allowNegative?: boolean } = {}): number | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      return this.problem(key, `must be a duration string, not ${describeType(value)}`, `write it with a unit, e.g. "${typeof value === 'number' ? value : 90}s", "5m" or "1h30m"`);
    }
    const text = this.ctx.interpolate(value, this.path(key));
    if (text === undefined || text === '') return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) return this.problem(key, `"${text}" is not a duration`, 'write a number with a unit (ns, us, ms, s, m, h), e.g. "90s", "5m", "1h30m", "500ms"');
    if (ms < 0 && !options.allowNegative) return this.problem(key, `must not be negative ("${text}")`);
    return ms;
  }

  /** A list of strings; a single string is taken as a one-element list (Packer's weak decoding). */
  stringList(key: string, options: { keepFields?: readonly string[] } = {}): string[] | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    const items = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items)) return this.problem(key, `must be a list of strings, not ${describeType(value)}`);
    const out: string[] = [];
    let ok = true;
    items.forEach((item, index) => {
      const path = `${this.path(key)}[${index}]`;
      if (typeof item === 'number') item = String(item);
      if (typeof item !== 'string') {
        this.ctx.problems.add(path, `must be a string, not ${describeType(item)}`);
        ok = false;
        return;
      }
      const text = this.ctx.interpolate(item, path, options.keepFields);
      if (text === undefined) ok = false;
      else out.push(text);
    });
    return ok ? out : undefined;
  }

  /** An object of string values (user_data). */
  stringMap(key: string): Record<string, string> | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) return this.problem(key, `must be an object of strings, not ${describeType(value)}`, 'write {"name": "value", …}');
    const out: Record<string, string> = {};
    let ok = true;
    for (const [name, item] of Object.entries(value)) {
      const path = `${this.path(key)}.${name}`;
      if (typeof item !== 'string') {
        this.ctx.problems.add(path, `must be a string, not ${describeType(item)}`);
        ok = false;
        continue;
      }
      // Keys may use template functions too (Packer interpolates map keys as well as values).
      const evaluatedName = this.ctx.interpolate(name, path);
      const text = this.ctx.interpolate(item, path);
      if (text === undefined || evaluatedName === undefined) ok = false;
      else out[evaluatedName] = text;
    }
    return ok ? out : undefined;
  }

  object(key: string): JsonObject | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) return this.problem(key, `must be an object, not ${describeType(value)}`);
    return value;
  }
}

/** Scaleway's limit on the length of a resource's name. */
export const MAX_RESOURCE_NAME = 255;

/**
 * What is wrong with a resource name, as Scaleway checks names (at most 255 characters, no control
 * characters), and what breaks kiln's own lines and the console's: no line break, tab or other
 * control character, no invisible formatting character (U+202E turns text around), no leading or
 * trailing space. Undefined when the name is fine.
 */
export function resourceNameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length > MAX_RESOURCE_NAME) return `is ${length} characters long; Scaleway names are at most ${MAX_RESOURCE_NAME}`;
  const control = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.exec(name)?.[0];
  if (control !== undefined) {
    const code = `U+${control.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const named: Record<string, string> = { '\n': 'a line break', '\r': 'a carriage return', '\t': 'a tab' };
    return `contains ${named[control] ?? `the invisible character ${code}`} (${code}) at character ${[...name.slice(0, name.indexOf(control))].length + 1}`;
  }
  if (/^\s/u.test(name)) return 'starts with a space';
  if (/\s$/u.test(name)) return 'ends with a space';
  return undefined;
}
