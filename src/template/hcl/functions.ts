// The HCL functions kiln offers, with Packer 1.6.6's results (checked against `packer console`).
// timestamp() and uuidv4() read the load's pinned instant and UUID, so that `kiln resume`
// evaluates a template to the same names as the build did (a difference from Packer, where
// each call gives a new value).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { HclFunction } from './eval.js';
import { chars, fn, FunctionError, list, num, object, str, whole } from './function-kit.js';
import { formatDate, goFormat, timeAdd } from './formatting.js';
import { regex, regexAll, regexReplace } from './regex.js';
import { convert, isObjectValue, valuesEqual, type Value } from './value.js';

export interface FunctionContext {
  /** The load's instant, returned by timestamp(). */
  initTime: Date;
  /** Seed of uuidv4(): the n-th call of a load returns the same UUID on every evaluation. */
  uuid: string;
  /** Environment for env(); absent where Packer does not allow env() (outside variable defaults). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths in file() start from (the current directory, as in Packer). */
  cwd: string;
}

/** range() refuses to make more values than this, as Packer does. */
export const RANGE_LIMIT = 1024;

export function hclFunctions(ctx: FunctionContext): Map<string, HclFunction> {
  let uuidCalls = 0;
  const functions = new Map<string, HclFunction>([
    // strings
    ['upper', fn('str:string', ([s]) => str(s!).toUpperCase())],
    ['lower', fn('str:string', ([s]) => str(s!).toLowerCase())],
    ['title', fn('str:string', ([s]) => str(s!).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase()))],
    ['trimspace', fn('str:string', ([s]) => str(s!).trim())],
    ['trim', fn('str:string, cutset:string', ([s, cut]) => {
      const set = new Set(chars(str(cut!)));
      const c = chars(str(s!));
      let a = 0;
      let b = c.length;
      while (a < b && set.has(c[a]!)) a++;
      while (b > a && set.has(c[b - 1]!)) b--;
      return c.slice(a, b).join('');
    })],
    ['trimprefix', fn('str:string, prefix:string', ([s, p]) => (str(s!).startsWith(str(p!)) ? str(s!).slice(str(p!).length) : str(s!)))],
    ['trimsuffix', fn('str:string, suffix:string', ([s, p]) => (str(p!) !== '' && str(s!).endsWith(str(p!)) ? str(s!).slice(0, -str(p!).length) : str(s!)))],
    ['chomp', fn('str:string', ([s]) => str(s!).replace(/(\r?\n)+$/, ''))],
    ['indent', fn('spaces:number, str:string', ([n, s]) => {
      const spaces = whole(n!, 'spaces');
      if (spaces < 0) throw new FunctionError('the number of spaces must not be negative', 'spaces');
      return str(s!).replace(/\n/g, `\n${' '.repeat(spaces)}`);
    })],
    // Go's strings.Replace: an empty substr puts the replacement around every character.
    ['replace', fn('str:string, substr:string, replace:string', ([s, find, by]) => (str(find!) === '' ? `${str(by!)}${chars(str(s!)).join(str(by!))}${str(by!)}` : str(s!).split(str(find!)).join(str(by!))))],
    ['regex_replace', fn('str:string, substr:string, replace:string', ([s, pattern, by]) => regexReplace(str(s!), str(pattern!), str(by!)))],
    ['regex', fn('pattern:string, string:string', ([pattern, s]) => regex(str(pattern!), str(s!)))],
    ['regexall', fn('pattern:string, string:string', ([pattern, s]) => regexAll(str(pattern!), str(s!)))],
    ['split', fn('separator:string, str:string', ([sep, s]) => str(s!).split(str(sep!)))],
    ['join', fn('separator:string, ...lists:list', ([sep, ...lists]) => {
      if (lists.length === 0) throw new FunctionError('at least one list is required', 'lists');
      return lists.flatMap((l) => list(l!).map((item) => str(item, 'lists'))).join(str(sep!));
    }, { minArgs: 1 })],
    ['substr', fn('str:string, offset:number, length:number', ([s, offsetValue, lengthValue]) => {
      const c = chars(str(s!));
      let offset = whole(offsetValue!, 'offset');
      let length = whole(lengthValue!, 'length');
      if (offset < 0) offset = Math.max(0, c.length + offset);
      if (offset > c.length) return '';
      if (length < 0) length = c.length - offset + length + 1;
      return c.slice(offset, offset + Math.max(0, length)).join('');
    })],
    ['format', fn('format:string, ...args', ([format, ...args]) => goFormat(str(format!), args))],
    ['formatlist', fn('format:string, ...args', ([format, ...args]) => {
      const lengths = new Set(args.filter(Array.isArray).map((a) => (a as Value[]).length));
      if (lengths.size > 1) throw new FunctionError('all lists must have the same length', 'args');
      const length = [...lengths][0] ?? 1;
      return Array.from({ length }, (_, i) => goFormat(str(format!), args.map((a) => (Array.isArray(a) ? a[i]! : a!))));
    })],
    ['strrev', fn('str:string', ([s]) => chars(str(s!)).reverse().join(''))],
    // collections
    ['length', fn('value', ([v]) => {
      if (typeof v === 'string') return chars(v).length;
      if (Array.isArray(v)) return v.length;
      if (isObjectValue(v!)) return Object.keys(v).length;
      throw new FunctionError('collection or structural type required', 'value');
    })],
    ['concat', fn('...seqs:list', (lists) => lists.flat())],
    ['lookup', fn('inputMap:map, key:string, default', ([m, key, fallback]) => {
      const map = object(m!);
      const name = str(key!);
      // Own keys only ("constructor" is not a key of {}). Packer 1.6.6 takes exactly three arguments.
      return Object.hasOwn(map, name) ? map[name]! : fallback!;
    })],
    ['merge', fn('...maps', (maps) => Object.assign({}, ...maps.filter((m) => m !== null).map((m) => object(m, 'maps'))) as Value)],
    ['contains', fn('list:list, value', ([l, v]) => list(l!).some((item) => valuesEqual(item, v!)))],
    ['coalesce', fn('...vals', (values) => {
      const found = values.find((v) => v !== null && v !== '');
      if (found === undefined) throw new FunctionError('no non-null, non-empty-string arguments', 'vals');
      return found;
    })],
    ['coalescelist', fn('...vals', (values) => values.find((v) => Array.isArray(v) && v.length > 0) ?? [])],
    ['compact', fn('list:list', ([l]) => list(l!).filter((item) => item !== null && item !== ''))],
    ['distinct', fn('list:list', ([l]) => dedupe(list(l!)))],
    ['element', fn('list:list, index:number', ([l, i]) => {
      const items = list(l!);
      const at = whole(i!, 'index');
      if (items.length === 0) throw new FunctionError('cannot use element function with an empty list', 'list');
      if (at < 0) throw new FunctionError('the index must not be negative', 'index');
      return items[at % items.length]!;
    })],
    ['index', fn('list:list, value', ([l, v]) => {
      const at = list(l!).findIndex((item) => valuesEqual(item, v!));
      if (at < 0) throw new FunctionError('item not found', 'value');
      return at;
    })],
    ['flatten', fn('list:list', ([l]) => {
      const flat = (items: Value[]): Value[] => items.flatMap((item) => (Array.isArray(item) ? flat(item) : [item]));
      return flat(list(l!));
    })],
    ['keys', fn('inputMap:map', ([m]) => Object.keys(object(m!)).sort())],
    ['values', fn('values:map', ([m]) => Object.keys(object(m!)).sort().map((k) => object(m!)[k]!))],
    ['reverse', fn('list:list', ([l]) => [...list(l!)].reverse())],
    ['sort', fn('list:list', ([l]) => list(l!).map((item) => str(item, 'list')).sort())],
    ['slice', fn('list:list, start_index:number, end_index:number', ([l, a, b]) => {
      const items = list(l!);
      const start = whole(a!, 'start_index');
      const end = whole(b!, 'end_index');
      if (start < 0) throw new FunctionError('start index must not be less than zero', 'start_index');
      if (end > items.length) throw new FunctionError('end index must not be greater than the length of the list', 'end_index');
      if (start > end) throw new FunctionError('start index must not be greater than end index', 'start_index');
      return items.slice(start, end);
    })],
    ['range', fn('...params:number', range)],
    ['zipmap', fn('keys:list, values:list', ([k, v]) => {
      const keys = list(k!);
      const values = list(v!);
      if (keys.length !== values.length) throw new FunctionError(`number of keys (${keys.length}) does not match number of values (${values.length})`, 'values');
      return Object.fromEntries(keys.map((key, i) => [str(key, 'keys'), values[i]!]));
    })],
    ['setunion', fn('first_set:list, ...other_sets:list', (sets) => dedupe(sets.flat()))],
    ['tolist', fn('v', ([v]) => list(v!, 'v'))],
    ['toset', fn('v', ([v]) => dedupe(list(v!, 'v')))],
    ['tomap', fn('v', ([v]) => object(v!, 'v'))],
    ['tostring', fn('v', ([v]) => (v === null ? null : str(v!, 'v')))],
    ['tonumber', fn('v', ([v]) => (v === null ? null : num(v!, 'v')))],
    ['tobool', fn('v', ([v]) => {
      if (v === null) return null;
      const b = convert(v!, { kind: 'bool' });
      if (typeof b !== 'boolean') throw new FunctionError('a bool is required', 'v');
      return b;
    })],
    // numbers
    ['abs', fn('num:number', ([n]) => Math.abs(num(n!)))],
    ['ceil', fn('num:number', ([n]) => Math.ceil(num(n!)))],
    ['floor', fn('num:number', ([n]) => Math.floor(num(n!)))],
    ['max', fn('...numbers:number', (ns) => {
      if (ns.length === 0) throw new FunctionError('must pass at least one number', 'numbers');
      return Math.max(...ns.map((n) => num(n)));
    })],
    ['min', fn('...numbers:number', (ns) => {
      if (ns.length === 0) throw new FunctionError('must pass at least one number', 'numbers');
      return Math.min(...ns.map((n) => num(n)));
    })],
    ['parseint', fn('number:string, base:number', ([s, base]) => parseInteger(str(s!), whole(base!, 'base')))],
    // encoding
    ['jsonencode', fn('val', ([v]) => JSON.stringify(v))],
    ['jsondecode', fn('str:string', ([s]) => {
      try {
        return JSON.parse(str(s!)) as Value;
      } catch (error) {
        throw new FunctionError(`invalid JSON: ${(error as Error).message}`, 'str');
      }
    })],
    ['base64encode', fn('str:string', ([s]) => Buffer.from(str(s!), 'utf8').toString('base64'))],
    ['base64decode', fn('str:string', ([s]) => base64Decode(str(s!)))],
    // Through UTF-8 bytes, as Go's: a lone surrogate ("\ud800") becomes U+FFFD instead of a URIError.
    ['urlencode', fn('str:string', ([s]) => encodeURIComponent(Buffer.from(str(s!)).toString()).replace(/%20/g, '+'))],
    ['md5', fn('str:string', ([s]) => createHash('md5').update(str(s!)).digest('hex'))],
    ['sha1', fn('str:string', ([s]) => createHash('sha1').update(str(s!)).digest('hex'))],
    ['sha256', fn('str:string', ([s]) => createHash('sha256').update(str(s!)).digest('hex'))],
    ['sha512', fn('str:string', ([s]) => createHash('sha512').update(str(s!)).digest('hex'))],
    // files and paths
    ['file', fn('path:string', ([p]) => {
      const path = resolve(ctx.cwd, str(p!));
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        throw new FunctionError(`no file exists at ${str(p!)}; ${(error as NodeJS.ErrnoException).code ?? ''}`, 'path');
      }
    })],
    ['fileexists', fn('path:string', ([p]) => {
      try {
        readFileSync(resolve(ctx.cwd, str(p!)));
        return true;
      } catch {
        return false;
      }
    })],
    ['abspath', fn('path:string', ([p]) => (isAbsolute(str(p!)) ? resolve(str(p!)) : resolve(ctx.cwd, str(p!))))],
    ['basename', fn('path:string', ([p]) => basename(str(p!)))],
    ['dirname', fn('path:string', ([p]) => dirname(str(p!)))],
    ['pathexpand', fn('path:string', ([p]) => str(p!).replace(/^~(?=$|\/)/, ctx.env?.HOME ?? process.env.HOME ?? '~'))],
    // time and identity: pinned per load (see the module comment)
    ['timestamp', fn('', () => ctx.initTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))],
    ['formatdate', fn('format:string, time:string', ([format, time]) => formatDate(str(format!), str(time!)))],
    ['timeadd', fn('timestamp:string, duration:string', ([time, duration]) => timeAdd(str(time!), str(duration!)))],
    ['uuidv4', fn('', () => derivedUuid(ctx.uuid, uuidCalls++))],
  ]);
  if (ctx.env) {
    const env = ctx.env;
    // Own keys only: env("__proto__") is not Object's prototype.
    functions.set('env', fn('key:string', ([name]) => (Object.hasOwn(env, str(name!)) ? env[str(name!)] : undefined) ?? ''));
  }
  return functions;
}

/** Names of functions that only some contexts have, for messages. */
export const ENV_ONLY_IN_DEFAULTS = 'env() can only be used in a variable\'s default (as in Packer): declare a variable with default = env("NAME") and use var.NAME here';

function dedupe(items: Value[]): Value[] {
  return items.filter((item, i, all) => all.findIndex((other) => valuesEqual(other, item)) === i);
}

/**
 * range([start,] limit[, step]) as cty computes it: the step defaults to 1, or -1 when the limit
 * is below the start; more than RANGE_LIMIT values is refused before any is made (a count taken
 * up front, so that a step lost at 1e16's precision cannot loop for ever).
 */
function range(args: Value[]): Value {
  if (args.length === 0 || args.length > 3) throw new FunctionError('must have one, two, or three arguments', 'params');
  const [start, limit] = args.length === 1 ? [0, num(args[0]!)] : [num(args[0]!), num(args[1]!)];
  const step = args.length === 3 ? num(args[2]!) : limit < start ? -1 : 1;
  if (step === 0) throw new FunctionError('step must not be zero', 'params');
  if ((step > 0 && limit < start) || (step < 0 && limit > start)) throw new FunctionError('step and the direction of the range must agree', 'params');
  const count = Math.ceil((limit - start) / step);
  if (!(count <= RANGE_LIMIT)) {
    throw new FunctionError(`more than ${RANGE_LIMIT} values were generated; either decrease the difference between start and end or use a smaller step`, 'params');
  }
  return Array.from({ length: Math.max(0, count) }, (_, i) => start + i * step);
}

/** parseint as cty (Go's big.Int SetString): a sign, then digits of the base (2–62: 0-9, a-z, then A-Z above 36). */
function parseInteger(text: string, base: number): number {
  if (base < 2 || base > 62) throw new FunctionError('base must be a whole number between 2 and 62 inclusive', 'base');
  const digits = text.replace(/^[+-]/, '');
  const value = (ch: string): number => {
    const code = ch.charCodeAt(0);
    if (ch >= '0' && ch <= '9') return code - 48;
    if (ch >= 'a' && ch <= 'z') return code - 97 + 10;
    if (ch >= 'A' && ch <= 'Z') return code - 65 + (base <= 36 ? 10 : 36);
    return Number.POSITIVE_INFINITY;
  };
  if (digits === '' || [...digits].some((ch) => value(ch) >= base)) throw new FunctionError(`cannot parse "${text}" as a base ${base} integer`, 'number');
  const n = [...digits].reduce((sum, ch) => sum * base + value(ch), 0);
  return text.startsWith('-') ? -n : n;
}

/** Standard base64 with its padding, as Go's StdEncoding decodes it; anything else is refused. */
function base64Decode(text: string): string {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new FunctionError(`failed to decode base64 data '${text}'`, 'str');
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

/** The n-th uuidv4() of a load: a version-4 UUID derived from the load's UUID. */
export function derivedUuid(seed: string, n: number): string {
  const hex = createHash('sha256').update(`${seed}/${n}`).digest('hex').slice(0, 32).split('');
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

