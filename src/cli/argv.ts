// Packer's flag spellings on kiln's command line. Packer (Go's flag package) takes long flags
// with one dash (`-var x=y`, `-machine-readable`, `-on-error=abort`); yargs reads `-var` as the
// bundle of short flags v, a, r (and `-machine-readable` as one that contains -h, the help).
// kiln has no short flag but -h, so before yargs parses, every single-dash token longer than one
// letter is spelled with two dashes: a known flag then parses as its long form, and an unknown one
// is reported (exit 2, with a did-you-mean), never read as a bundle of letters.
import { closest } from '../template/suggest.js';

/** A single dash, then a name of two characters or more (a letter first: `-1` and `-10` are numbers). */
const SINGLE_DASH_LONG_FLAG = /^-[A-Za-z][^=]+(=.*)?$/s;

/** What a lone `-` (standard input, as in `packer fmt -`) becomes: yargs drops a bare `-` from positionals. */
export const STDIN_PATH = '/dev/stdin';

/** `['build', '-var', 'a=b', '-only=x']` → `['build', '--var', 'a=b', '--only=x']`; `-` → STDIN_PATH. Stops at `--`. */
export function packerStyleArgv(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    out.push(arg === '-' ? STDIN_PATH : SINGLE_DASH_LONG_FLAG.test(arg) ? `-${arg}` : arg);
  }
  return out;
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The flags of `args` (as given by the user, before packerStyleArgv) that are not among `known`,
 * each with the nearest known one: `unknown flag -machine-redable (did you mean -machine-readable?)`.
 * Checked before yargs parses, which would otherwise take the next word (the template) as the
 * unknown flag's value and complain about a missing template instead.
 */
export function unknownFlags(args: readonly string[], known: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const arg of args) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) continue;
    const dashes = arg.startsWith('--') ? '--' : '-';
    const name = arg.slice(dashes.length).split('=')[0]!;
    const negated = name.startsWith('no-') ? name.slice(3) : undefined;
    if (known.has(kebab(name)) || (negated !== undefined && known.has(negated))) continue;
    const suggestion = name.length > 1 ? closest(name, [...known].filter((k) => k.length > 1)) : undefined;
    problems.push(`unknown flag ${dashes}${name}${suggestion ? ` (did you mean ${dashes}${suggestion}?)` : ''}`);
  }
  return problems;
}
