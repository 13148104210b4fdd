// What format(), formatdate() and timeadd() do, as go-cty's (Go's fmt verbs; RFC 3339 times).
import { chars, FunctionError, num, str } from './function-kit.js';
import { convert, formatNumber, type Value } from './value.js';

// Go's fmt verbs as cty's format() has them: %s %d %f %v %q %x %X %o %b %e %t %%, with flags,
// width and precision.
export function goFormat(format: string, args: Value[]): string {
  let next = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (whole, flags: string, width: string | undefined, precision: string | undefined, verb: string, offset: number) => {
    if (verb === '%') return '%';
    if (next >= args.length) throw new FunctionError(`not enough arguments for ${whole}`, 'args');
    const arg = args[next++]!;
    try {
      return formatOne(arg, flags, width, precision, verb);
    } catch (error) {
      // As go-cty says it: the verb that could not take its argument, and where it is in the format.
      if (error instanceof Error && !/^unsupported format verb/.test(error.message)) throw new FunctionError(`unsupported value for "${whole}" at ${offset}: ${error.message}`, 'args');
      throw error;
    }
  });
}

function formatOne(arg: Value, flags: string, width: string | undefined, precision: string | undefined, verb: string): string {
  let text: string;
  switch (verb) {
    case 's':
      text = str(arg, 'args');
      if (precision !== undefined) text = chars(text).slice(0, Number(precision)).join('');
      break;
    case 'q':
      text = JSON.stringify(str(arg, 'args'));
      break;
    case 'v':
      text = typeof arg === 'string' ? arg : typeof arg === 'number' ? formatNumber(arg) : JSON.stringify(arg);
      break;
    case 't':
      text = String(convert(arg, { kind: 'bool' }));
      break;
    case 'd':
      text = Math.trunc(num(arg, 'args')).toString();
      break;
    case 'f':
    case 'F':
      text = num(arg, 'args').toFixed(precision === undefined ? 6 : Number(precision));
      break;
    case 'e':
      text = num(arg, 'args').toExponential(precision === undefined ? 6 : Number(precision)).replace(/e([+-])(\d)$/, 'e$10$2');
      break;
    case 'x':
    case 'X':
      text = typeof arg === 'string' ? Buffer.from(arg).toString('hex') : Math.trunc(num(arg, 'args')).toString(16);
      if (verb === 'X') text = text.toUpperCase();
      break;
    case 'o':
      text = Math.trunc(num(arg, 'args')).toString(8);
      break;
    case 'b':
      text = Math.trunc(num(arg, 'args')).toString(2);
      break;
    default:
      throw new FunctionError(`unsupported format verb %${verb}`, 'format');
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
}

// An RFC 3339 timestamp, kept with its own offset (formatdate prints the time in that zone).
interface ZonedTime {
  /** Wall-clock fields in the timestamp's own zone, read through a UTC Date. */
  wall: Date;
  offsetMinutes: number;
  utc: boolean;
}

function parseRfc3339(text: string, param: string): ZonedTime {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!match) throw new FunctionError(`not a valid RFC3339 timestamp: "${text}"`, param);
  const [, y, mo, d, h, mi, s, frac, zone, sign, oh, om] = match;
  // Each field in its range, as Go's time.Parse checks it (no 13th month, no 30 February).
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  const fields: Array<[string, string, number, number]> = [
    ['month', mo!, 1, 12],
    ['day', d!, 1, daysInMonth],
    ['hour', h!, 0, 23],
    ['minute', mi!, 0, 59],
    ['second', s!, 0, 59],
    ['time zone offset hour', oh ?? '0', 0, 23],
    ['time zone offset minute', om ?? '0', 0, 59],
  ];
  for (const [what, value, min, max] of fields) {
    if (Number(value) < min || Number(value) > max) throw new FunctionError(`not a valid RFC3339 timestamp: "${text}" (${what} out of range)`, param);
  }
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), frac ? Math.floor(Number(frac) * 1000) : 0));
  const utc = zone === 'Z' || zone === 'z';
  const offsetMinutes = utc ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return { wall, offsetMinutes, utc };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function formatDate(format: string, timestamp: string): string {
  const t = parseRfc3339(timestamp, 'time');
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
      if (close < 0) throw new FunctionError('unterminated literal \'', 'format');
      out += close === i + 1 ? "'" : format.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (j < format.length && format[j] === ch) j++;
      const sequence = format.slice(i, j);
      const render = tokens[sequence];
      if (!render) throw new FunctionError(`invalid date format verb "${sequence}"`, 'format');
      out += render();
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

export function timeAdd(timestamp: string, duration: string): string {
  const t = parseRfc3339(timestamp, 'timestamp');
  const match = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(duration);
  if (!match) throw new FunctionError(`invalid duration "${duration}"`, 'duration');
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
