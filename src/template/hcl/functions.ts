// The HCL functions kiln offers, with Packer 1.6.6's results (checked against `packer console`).
// timestamp() and uuidv4() read the load's pinned instant and UUID, so that `kiln resume`
// evaluates a template to the same names as the build did (a difference from Packer, where
// each call gives a new value).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { FunctionError, type HclFunction } from './eval.js';
import { convert, formatNumber, isObjectValue, valuesEqual, type Value } from './value.js';

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

const str = (value: Value, what = 'string'): string => {
  const text = convert(value, { kind: 'string' });
  if (typeof text !== 'string') throw new FunctionError(`${what} required`);
  return text;
};
const num = (value: Value): number => {
  const n = convert(value, { kind: 'number' });
  if (typeof n !== 'number') throw new FunctionError('a number is required');
  return n;
};
const list = (value: Value, name = 'list'): Value[] => {
  if (!Array.isArray(value)) throw new FunctionError(`${name} of any single type required`);
  return value;
};
const object = (value: Value): Record<string, Value> => {
  if (!isObjectValue(value)) throw new FunctionError('map or object required');
  return value;
};
const chars = (text: string): string[] => [...text];

function fn(params: number, call: (args: Value[]) => Value, options: { variadic?: boolean; minArgs?: number } = {}): HclFunction {
  return { params, call, ...options };
}

/** Go regexp syntax → JavaScript: named groups `(?P<n>` become `(?<n>`. */
function goRegExp(pattern: string, flags = ''): RegExp {
  try {
    return new RegExp(pattern.replace(/\(\?P</g, '(?<'), flags);
  } catch (error) {
    throw new FunctionError(`invalid regular expression pattern: ${(error as Error).message}`);
  }
}

export function hclFunctions(ctx: FunctionContext): Map<string, HclFunction> {
  let uuidCalls = 0;
  const functions = new Map<string, HclFunction>([
    // strings
    ['upper', fn(1, ([s]) => str(s!).toUpperCase())],
    ['lower', fn(1, ([s]) => str(s!).toLowerCase())],
    ['title', fn(1, ([s]) => str(s!).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase()))],
    ['trimspace', fn(1, ([s]) => str(s!).trim())],
    ['trim', fn(2, ([s, cut]) => {
      const set = new Set(chars(str(cut!)));
      const c = chars(str(s!));
      let a = 0;
      let b = c.length;
      while (a < b && set.has(c[a]!)) a++;
      while (b > a && set.has(c[b - 1]!)) b--;
      return c.slice(a, b).join('');
    })],
    ['trimprefix', fn(2, ([s, p]) => (str(s!).startsWith(str(p!)) ? str(s!).slice(str(p!).length) : str(s!)))],
    ['trimsuffix', fn(2, ([s, p]) => (str(p!) !== '' && str(s!).endsWith(str(p!)) ? str(s!).slice(0, -str(p!).length) : str(s!)))],
    ['chomp', fn(1, ([s]) => str(s!).replace(/(\r?\n)+$/, ''))],
    ['indent', fn(2, ([n, s]) => str(s!).replace(/\n/g, `\n${' '.repeat(num(n!))}`))],
    ['replace', fn(3, ([s, find, by]) => str(s!).split(str(find!)).join(str(by!)))],
    ['regex_replace', fn(3, ([s, pattern, by]) => str(s!).replace(goRegExp(str(pattern!), 'g'), str(by!).replace(/\$\{(\w+)\}/g, (_m, name: string) => (/^\d+$/.test(name) ? `$${name}` : `$<${name}>`))))],
    ['regex', fn(2, ([pattern, s]) => {
      const match = goRegExp(str(pattern!)).exec(str(s!));
      if (!match) throw new FunctionError('pattern did not match any part of the given string');
      return regexResult(match);
    })],
    ['regexall', fn(2, ([pattern, s]) => [...str(s!).matchAll(goRegExp(str(pattern!), 'g'))].map(regexResult))],
    ['split', fn(2, ([sep, s]) => str(s!).split(str(sep!)))],
    ['join', fn(1, ([sep, ...lists]) => {
      if (lists.length === 0) throw new FunctionError('at least one list is required');
      return lists.flatMap((l) => list(l!).map((item) => str(item))).join(str(sep!));
    }, { variadic: true, minArgs: 2 })],
    ['substr', fn(3, ([s, offsetValue, lengthValue]) => {
      const c = chars(str(s!));
      let offset = num(offsetValue!);
      let length = num(lengthValue!);
      if (offset < 0) offset = Math.max(0, c.length + offset);
      if (offset > c.length) throw new FunctionError('offset is greater than the length of the string');
      if (length < 0) length = c.length - offset + length + 1;
      return c.slice(offset, offset + Math.max(0, length)).join('');
    })],
    ['format', fn(1, ([format, ...args]) => goFormat(str(format!), args), { variadic: true })],
    ['formatlist', fn(1, ([format, ...args]) => {
      const length = Math.max(0, ...args.filter(Array.isArray).map((a) => (a as Value[]).length));
      return Array.from({ length }, (_, i) => goFormat(str(format!), args.map((a) => (Array.isArray(a) ? a[i]! : a!))));
    }, { variadic: true })],
    ['strrev', fn(1, ([s]) => chars(str(s!)).reverse().join(''))],
    // collections
    ['length', fn(1, ([v]) => (typeof v === 'string' ? chars(v).length : Array.isArray(v) ? v.length : isObjectValue(v!) ? Object.keys(v).length : (() => { throw new FunctionError('collection or structural type required'); })()))],
    ['concat', fn(0, (lists) => lists.flatMap((l) => list(l)), { variadic: true })],
    ['lookup', fn(3, ([m, key, fallback]) => {
      const map = object(m!);
      const name = str(key!);
      if (name in map) return map[name]!;
      if (fallback === undefined) throw new FunctionError(`the given key "${name}" does not exist`);
      return fallback;
    }, { minArgs: 2 })],
    ['merge', fn(0, (maps) => Object.assign({}, ...maps.filter((m) => m !== null).map((m) => object(m))) as Value, { variadic: true })],
    ['contains', fn(2, ([l, v]) => list(l!).some((item) => valuesEqual(item, v!)))],
    ['coalesce', fn(0, (values) => {
      const found = values.find((v) => v !== null && v !== '');
      if (found === undefined) throw new FunctionError('no non-null, non-empty-string arguments');
      return found;
    }, { variadic: true })],
    ['coalescelist', fn(0, (values) => values.find((v) => Array.isArray(v) && v.length > 0) ?? [], { variadic: true })],
    ['compact', fn(1, ([l]) => list(l!).filter((item) => item !== null && item !== ''))],
    ['distinct', fn(1, ([l]) => list(l!).filter((item, i, all) => all.findIndex((other) => valuesEqual(other, item)) === i))],
    ['element', fn(2, ([l, i]) => {
      const items = list(l!);
      if (items.length === 0) throw new FunctionError('cannot use element function with an empty list');
      return items[((num(i!) % items.length) + items.length) % items.length]!;
    })],
    ['index', fn(2, ([l, v]) => {
      const at = list(l!).findIndex((item) => valuesEqual(item, v!));
      if (at < 0) throw new FunctionError('item not found');
      return at;
    })],
    ['flatten', fn(1, ([l]) => {
      const flat = (items: Value[]): Value[] => items.flatMap((item) => (Array.isArray(item) ? flat(item) : [item]));
      return flat(list(l!));
    })],
    ['keys', fn(1, ([m]) => Object.keys(object(m!)).sort())],
    ['values', fn(1, ([m]) => Object.keys(object(m!)).sort().map((k) => object(m!)[k]!))],
    ['reverse', fn(1, ([l]) => [...list(l!)].reverse())],
    ['sort', fn(1, ([l]) => list(l!).map((item) => str(item)).sort())],
    ['slice', fn(3, ([l, a, b]) => list(l!).slice(num(a!), num(b!)))],
    ['range', fn(1, (args) => {
      const [start, limit, step] = args.length === 1 ? [0, num(args[0]!), 1] : [num(args[0]!), num(args[1]!), args[2] === undefined ? 1 : num(args[2])];
      const out: number[] = [];
      if (step === 0) throw new FunctionError('step must not be zero');
      for (let v = start; step > 0 ? v < limit : v > limit; v += step) out.push(v);
      return out;
    }, { variadic: true })],
    ['zipmap', fn(2, ([k, v]) => Object.fromEntries(list(k!).map((key, i) => [str(key), list(v!)[i] ?? null])))],
    ['setunion', fn(0, (sets) => dedupe(sets.flatMap((s) => list(s))), { variadic: true })],
    ['tolist', fn(1, ([v]) => list(v!))],
    ['toset', fn(1, ([v]) => dedupe(list(v!)))],
    ['tomap', fn(1, ([v]) => object(v!))],
    ['tostring', fn(1, ([v]) => (v === null ? null : str(v!)))],
    ['tonumber', fn(1, ([v]) => (v === null ? null : num(v!)))],
    ['tobool', fn(1, ([v]) => (v === null ? null : convert(v!, { kind: 'bool' })))],
    // numbers
    ['abs', fn(1, ([n]) => Math.abs(num(n!)))],
    ['ceil', fn(1, ([n]) => Math.ceil(num(n!)))],
    ['floor', fn(1, ([n]) => Math.floor(num(n!)))],
    ['max', fn(0, (ns) => Math.max(...ns.map(num)), { variadic: true })],
    ['min', fn(0, (ns) => Math.min(...ns.map(num)), { variadic: true })],
    ['parseint', fn(2, ([s, base]) => {
      const n = parseInt(str(s!), num(base!));
      if (Number.isNaN(n)) throw new FunctionError(`cannot parse "${str(s!)}" as a base ${num(base!)} integer`);
      return n;
    })],
    // encoding
    ['jsonencode', fn(1, ([v]) => JSON.stringify(v))],
    ['jsondecode', fn(1, ([s]) => {
      try {
        return JSON.parse(str(s!)) as Value;
      } catch (error) {
        throw new FunctionError(`invalid JSON: ${(error as Error).message}`);
      }
    })],
    ['base64encode', fn(1, ([s]) => Buffer.from(str(s!), 'utf8').toString('base64'))],
    ['base64decode', fn(1, ([s]) => Buffer.from(str(s!), 'base64').toString('utf8'))],
    ['urlencode', fn(1, ([s]) => encodeURIComponent(str(s!)).replace(/%20/g, '+'))],
    ['md5', fn(1, ([s]) => createHash('md5').update(str(s!)).digest('hex'))],
    ['sha1', fn(1, ([s]) => createHash('sha1').update(str(s!)).digest('hex'))],
    ['sha256', fn(1, ([s]) => createHash('sha256').update(str(s!)).digest('hex'))],
    ['sha512', fn(1, ([s]) => createHash('sha512').update(str(s!)).digest('hex'))],
    // files and paths
    ['file', fn(1, ([p]) => {
      const path = resolve(ctx.cwd, str(p!));
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        throw new FunctionError(`no file exists at ${str(p!)}; ${(error as NodeJS.ErrnoException).code ?? ''}`);
      }
    })],
    ['fileexists', fn(1, ([p]) => {
      try {
        readFileSync(resolve(ctx.cwd, str(p!)));
        return true;
      } catch {
        return false;
      }
    })],
    ['abspath', fn(1, ([p]) => (isAbsolute(str(p!)) ? resolve(str(p!)) : resolve(ctx.cwd, str(p!))))],
    ['basename', fn(1, ([p]) => basename(str(p!)))],
    ['dirname', fn(1, ([p]) => dirname(str(p!)))],
    ['pathexpand', fn(1, ([p]) => str(p!).replace(/^~(?=$|\/)/, ctx.env?.HOME ?? process.env.HOME ?? '~'))],
    // time and identity: pinned per load (see the module comment)
    ['timestamp', fn(0, () => ctx.initTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))],
    ['formatdate', fn(2, ([format, time]) => formatDate(str(format!), str(time!)))],
    ['timeadd', fn(2, ([time, duration]) => timeAdd(str(time!), str(duration!)))],
    ['uuidv4', fn(0, () => derivedUuid(ctx.uuid, uuidCalls++))],
  ]);
  if (ctx.env) {
    const env = ctx.env;
    functions.set('env', fn(1, ([name]) => env[str(name!)] ?? ''));
  }
  return functions;
}

/** Names of functions that only some contexts have, for messages. */
export const ENV_ONLY_IN_DEFAULTS = 'env() can only be used in a variable\'s default (as in Packer): declare a variable with default = env("NAME") and use var.NAME here';

function dedupe(items: Value[]): Value[] {
  return items.filter((item, i, all) => all.findIndex((other) => valuesEqual(other, item)) === i);
}

function regexResult(match: RegExpMatchArray): Value {
  if (match.groups && Object.keys(match.groups).length) return Object.fromEntries(Object.entries(match.groups).map(([k, v]) => [k, v ?? null]));
  if (match.length > 1) return match.slice(1).map((g) => g ?? null);
  return match[0];
}

/** The n-th uuidv4() of a load: a version-4 UUID derived from the load's UUID. */
export function derivedUuid(seed: string, n: number): string {
  const hex = createHash('sha256').update(`${seed}/${n}`).digest('hex').slice(0, 32).split('');
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Go's fmt verbs as cty's format() has them: %s %d %f %v %q %x %X %o %b %e %t %%, with flags,
// width and precision.
function goFormat(format: string, args: Value[]): string {
  let next = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (whole, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) throw new FunctionError(`not enough arguments for ${whole}`);
    const arg = args[next++]!;
    let text: string;
    switch (verb) {
      case 's':
        text = str(arg);
        if (precision !== undefined) text = chars(text).slice(0, Number(precision)).join('');
        break;
      case 'q':
        text = JSON.stringify(str(arg));
        break;
      case 'v':
        text = typeof arg === 'string' ? arg : typeof arg === 'number' ? formatNumber(arg) : JSON.stringify(arg);
        break;
      case 't':
        text = String(convert(arg, { kind: 'bool' }));
        break;
      case 'd':
        text = Math.trunc(num(arg)).toString();
        break;
      case 'f':
      case 'F':
        text = num(arg).toFixed(precision === undefined ? 6 : Number(precision));
        break;
      case 'e':
        text = num(arg).toExponential(precision === undefined ? 6 : Number(precision)).replace(/e([+-])(\d)$/, 'e$10$2');
        break;
      case 'x':
      case 'X':
        text = typeof arg === 'string' ? Buffer.from(arg).toString('hex') : Math.trunc(num(arg)).toString(16);
        if (verb === 'X') text = text.toUpperCase();
        break;
      case 'o':
        text = Math.trunc(num(arg)).toString(8);
        break;
      case 'b':
        text = Math.trunc(num(arg)).toString(2);
        break;
      default:
        throw new FunctionError(`unsupported format verb %${verb}`);
    }
    if (flags.includes('+') && 'dfFe'.includes(verb) && !text.startsWith('-')) text = `+${text}`;
    const w = width === undefined ? 0 : Number(width);
    if (text.length < w) {
      if (flags.includes('-')) text = text.padEnd(w);
      else if (flags.includes('0') && 'dfFexXob'.includes(verb)) {
        const sign = /^[+-]/.test(text) ? text[0]! : '';
        text = sign + text.slice(sign.length).padStart(w - sign.length, '0');
      } else text = text.padStart(w);
    }
    return text;
  });
}

// An RFC 3339 timestamp, kept with its own offset (formatdate prints the time in that zone).
interface ZonedTime {
  /** Wall-clock fields in the timestamp's own zone, read through a UTC Date. */
  wall: Date;
  offsetMinutes: number;
  utc: boolean;
}

function parseRfc3339(text: string): ZonedTime {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!match) throw new FunctionError(`not a valid RFC3339 timestamp: "${text}"`);
  const [, y, mo, d, h, mi, s, frac, zone, sign, oh, om] = match;
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), frac ? Math.floor(Number(frac) * 1000) : 0));
  const utc = zone === 'Z' || zone === 'z';
  const offsetMinutes = utc ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return { wall, offsetMinutes, utc };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function formatDate(format: string, timestamp: string): string {
  const t = parseRfc3339(timestamp);
  const w = t.wall;
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const offset = (colon: boolean): string => {
    const sign = t.offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(t.offsetMinutes);
    return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
  };
  const hour12 = w.getUTCHours() % 12 === 0 ? 12 : w.getUTCHours() % 12;
  const tokens: Record<string, () => string> = {
    YYYY: () => pad(w.getUTCFullYear(), 4),
    YY: () => pad(w.getUTCFullYear() % 100),
    MMMM: () => MONTHS[w.getUTCMonth()]!,
    MMM: () => MONTHS[w.getUTCMonth()]!.slice(0, 3),
    MM: () => pad(w.getUTCMonth() + 1),
    M: () => String(w.getUTCMonth() + 1),
    DD: () => pad(w.getUTCDate()),
    D: () => String(w.getUTCDate()),
    EEEE: () => DAYS[w.getUTCDay()]!,
    EEE: () => DAYS[w.getUTCDay()]!.slice(0, 3),
    hh: () => pad(w.getUTCHours()),
    h: () => String(w.getUTCHours()),
    HH: () => pad(hour12),
    H: () => String(hour12),
    AA: () => (w.getUTCHours() < 12 ? 'AM' : 'PM'),
    aa: () => (w.getUTCHours() < 12 ? 'am' : 'pm'),
    mm: () => pad(w.getUTCMinutes()),
    m: () => String(w.getUTCMinutes()),
    ss: () => pad(w.getUTCSeconds()),
    s: () => String(w.getUTCSeconds()),
    ZZZZZ: () => offset(true),
    ZZZZ: () => offset(false),
    ZZZ: () => (t.utc ? 'UTC' : offset(false)),
    Z: () => (t.utc ? 'Z' : offset(true)),
  };
  let out = '';
  let i = 0;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch === "'") {
      const close = format.indexOf("'", i + 1);
      if (close < 0) throw new FunctionError('unterminated literal \'');
      out += close === i + 1 ? "'" : format.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (j < format.length && format[j] === ch) j++;
      const sequence = format.slice(i, j);
      const render = tokens[sequence];
      if (!render) throw new FunctionError(`invalid date format verb "${sequence}"`);
      out += render();
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

function timeAdd(timestamp: string, duration: string): string {
  const t = parseRfc3339(timestamp);
  const match = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(duration);
  if (!match) throw new FunctionError(`invalid duration "${duration}"`);
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let ms = 0;
  for (const [, n, unit] of match[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * units[unit!]!;
  if (match[1]) ms = -ms;
  const wall = new Date(t.wall.getTime() + ms);
  const iso = wall.toISOString().replace(/\.000Z$/, 'Z');
  if (t.utc) return iso;
  const sign = t.offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(t.offsetMinutes);
  return `${iso.slice(0, -1)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
