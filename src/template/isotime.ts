// `{{isotime}}` and `{{isotime "2006-01-02"}}`: Go's reference-time layouts, rendered in UTC
// (Packer's InitTime is UTC). Without a layout, RFC 3339 as Packer does.

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const RFC3339 = '2006-01-02T15:04:05Z07:00';

const pad = (n: number, width: number, fill = '0'): string => String(n).padStart(width, fill);

// Each element of Go's layout vocabulary, longest first where one is a prefix of another.
const CHUNKS: Array<[string, (t: Date) => string]> = [
  ['January', (t) => MONTHS[t.getUTCMonth()]!],
  ['Jan', (t) => MONTHS[t.getUTCMonth()]!.slice(0, 3)],
  ['Monday', (t) => DAYS[t.getUTCDay()]!],
  ['Mon', (t) => DAYS[t.getUTCDay()]!.slice(0, 3)],
  ['MST', () => 'UTC'],
  ['2006', (t) => pad(t.getUTCFullYear(), 4)],
  ['002', (t) => pad(dayOfYear(t), 3)],
  ['_2006', (t) => `_${pad(t.getUTCFullYear(), 4)}`],
  ['__2', (t) => pad(dayOfYear(t), 3, ' ')],
  ['_2', (t) => pad(t.getUTCDate(), 2, ' ')],
  ['01', (t) => pad(t.getUTCMonth() + 1, 2)],
  ['02', (t) => pad(t.getUTCDate(), 2)],
  ['03', (t) => pad(hour12(t), 2)],
  ['04', (t) => pad(t.getUTCMinutes(), 2)],
  ['05', (t) => pad(t.getUTCSeconds(), 2)],
  ['06', (t) => pad(t.getUTCFullYear() % 100, 2)],
  ['15', (t) => pad(t.getUTCHours(), 2)],
  ['1', (t) => String(t.getUTCMonth() + 1)],
  ['2', (t) => String(t.getUTCDate())],
  ['3', (t) => String(hour12(t))],
  ['4', (t) => String(t.getUTCMinutes())],
  ['5', (t) => String(t.getUTCSeconds())],
  ['PM', (t) => (t.getUTCHours() >= 12 ? 'PM' : 'AM')],
  ['pm', (t) => (t.getUTCHours() >= 12 ? 'pm' : 'am')],
  // Zones: the time is UTC, so numeric offsets are zero and the Z forms print "Z".
  ['Z07:00:00', () => 'Z'],
  ['Z070000', () => 'Z'],
  ['Z07:00', () => 'Z'],
  ['Z0700', () => 'Z'],
  ['Z07', () => 'Z'],
  ['-07:00:00', () => '+00:00:00'],
  ['-070000', () => '+000000'],
  ['-07:00', () => '+00:00'],
  ['-0700', () => '+0000'],
  ['-07', () => '+00'],
];

function dayOfYear(t: Date): number {
  return Math.floor((Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()) - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

function hour12(t: Date): number {
  const h = t.getUTCHours() % 12;
  return h === 0 ? 12 : h;
}

// Fractional seconds: ".000"/",000" keep that many digits, ".999" drops trailing zeros.
function fraction(t: Date, digits: number, trim: boolean): string {
  const nanos = pad(t.getUTCMilliseconds(), 3).padEnd(9, '0').slice(0, digits);
  const text = trim ? nanos.replace(/0+$/, '') : nanos;
  return text;
}

export function isoTime(time: Date, layout: string = RFC3339): string {
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    const fractionMatch = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    // As in Go, a "." or "," followed by a run of 0s or 9s (and no other digit) is fractional seconds.
    if (fractionMatch) {
      const digits = fractionMatch[1]!;
      const text = fraction(time, digits.length, digits[0] === '9');
      out += text === '' ? '' : layout[i] + text;
      i += fractionMatch[0].length;
      continue;
    }
    for (const [chunk, render] of CHUNKS) {
      if (layout.startsWith(chunk, i)) {
        out += render(time);
        i += chunk.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}
