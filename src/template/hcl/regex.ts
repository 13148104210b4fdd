// Regular expressions as Packer evaluates them: Go's RE2 syntax and semantics (linear time, no
// backreferences, no lookaround), through re2js — a port of RE2 — never JavaScript's backtracking
// engine, on which `^(a+)+$` against a long string takes exponential time. Go 1.15 (Packer
// 1.6.6's) differs from re2js in two ways kept here: `(?<name>` is refused and a group name may
// repeat. Replacements expand `$1`, `$name` and `${name}` as Go's Regexp.Expand does, and every
// "all matches" walk skips an empty match that abuts the previous match, as Go does.
import { RE2JS } from 're2js';
import { FunctionError } from './function-kit.js';
import type { Value } from './value.js';

/** A compiled pattern and the name of each group (index 0: the whole match, unnamed). */
interface Pattern {
  re: RE2JS;
  names: string[];
}

/** Where a duplicate group name is moved to, so that re2js compiles it and `$name` finds the first, as in Go 1.15. */
const DUPLICATE_PREFIX = 'kiln_duplicate_group_';

/**
 * `pattern` as re2js should compile it, or a FunctionError where Go 1.15 refuses what re2js
 * accepts. Walks the pattern as Go's parser does: escapes, `\Q…\E` and character classes are
 * skipped, so that a `(?<` inside them is text.
 */
function go115(pattern: string): string {
  let out = '';
  const seen = new Set<string>();
  let duplicates = 0;
  for (let i = 0; i < pattern.length; ) {
    if (pattern.startsWith('\\Q', i)) {
      const end = pattern.indexOf('\\E', i + 2);
      const stop = end < 0 ? pattern.length : end + 2;
      out += pattern.slice(i, stop);
      i = stop;
    } else if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i += 2;
    } else if (pattern[i] === '[') {
      const stop = classEnd(pattern, i);
      out += pattern.slice(i, stop);
      i = stop;
    } else if (pattern.startsWith('(?<', i)) {
      throw new FunctionError('invalid or unsupported Perl syntax: `(?<`');
    } else if (pattern.startsWith('(?P<', i)) {
      const close = pattern.indexOf('>', i);
      const name = close < 0 ? '' : pattern.slice(i + 4, close);
      if (close >= 0 && seen.has(name)) {
        out += `(?P<${DUPLICATE_PREFIX}${++duplicates}>`;
        i = close + 1;
      } else {
        seen.add(name);
        out += '(?P<';
        i += 4;
      }
    } else {
      out += pattern[i];
      i++;
    }
  }
  return out;
}

/** The index just past the character class opening at `start` (`[]a]` and `[^]a]` hold a `]`; `[:alpha:]` is one item). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\') i += 2;
    else if (pattern.startsWith('[:', i) && pattern.indexOf(':]', i + 2) > 0) i = pattern.indexOf(':]', i + 2) + 2;
    else i++;
  }
  return Math.min(pattern.length, i + 1);
}

function compile(pattern: string, param: string): Pattern {
  let re: RE2JS;
  try {
    re = RE2JS.compile(go115(pattern));
  } catch (error) {
    if (error instanceof FunctionError) throw new FunctionError(`error parsing regexp: ${error.message}`, param);
    // re2js's syntax errors read as Go's ("error parsing regexp: missing closing ): `(`"); a
    // pattern too deep for its parser's stack is refused the same way.
    const message = error instanceof RangeError ? 'error parsing regexp: expression nested too deeply' : (error as Error).message;
    throw new FunctionError(message, param);
  }
  const names: string[] = Array.from({ length: re.groupCount() + 1 }, () => '');
  for (const [name, index] of Object.entries(re.namedGroups())) names[index] = name.startsWith(DUPLICATE_PREFIX) ? '' : name;
  return { re, names };
}

/** One match: each group's [start, end) in UTF-16 units, -1 for a group that did not take part. */
type Match = number[];

/** Every match of `pattern` in `text`, as Go's FindAll walks them (an empty match right after a match is skipped). */
function allMatches(p: Pattern, text: string, limit = Number.POSITIVE_INFINITY): Match[] {
  const matcher = p.re.matcher(text);
  const out: Match[] = [];
  let pos = 0;
  let previousEnd = -1;
  while (out.length < limit && pos <= text.length && matcher.find(pos)) {
    const match: Match = [];
    for (let g = 0; g < p.names.length; g++) match.push(matcher.start(g), matcher.end(g));
    const [start, end] = match as [number, number];
    const accept = !(end === start && start === previousEnd);
    if (end === pos) {
      // An empty match: move on by one character (a surrogate pair is one).
      const code = text.charCodeAt(pos);
      pos += code >= 0xd800 && code <= 0xdbff && pos + 1 < text.length ? 2 : 1;
    } else pos = end;
    previousEnd = end;
    if (accept) out.push(match);
  }
  return out;
}

/** Go's Regexp.Expand: `$$` is `$`; `$name`, `${name}` a group by number or name (unknown: empty); a malformed `$` is itself. */
function expand(template: string, p: Pattern, text: string, match: Match): string {
  let out = '';
  const group = (index: number) => (index < p.names.length && match[2 * index]! >= 0 ? text.slice(match[2 * index], match[2 * index + 1]) : '');
  let rest = template;
  for (;;) {
    const at = rest.indexOf('$');
    if (at < 0) break;
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const name = /^(?:\{([\p{L}\p{N}_]+)\}|([\p{L}\p{N}_]+))/u.exec(rest);
    if (!name) {
      out += '$';
      continue;
    }
    rest = rest.slice(name[0].length);
    const text_ = name[1] ?? name[2]!;
    const number = /^(0|[1-9]\d{0,7})$/.test(text_) ? Number(text_) : -1;
    if (number >= 0) out += group(number);
    else {
      const index = p.names.indexOf(text_);
      if (index > 0) out += group(index);
    }
  }
  return out + rest;
}

/** cty's regex result: the match alone without groups, a list of the groups, or an object of named groups. */
function result(p: Pattern, text: string, match: Match): Value {
  if (p.names.length === 1) return text.slice(match[0], match[1]);
  const named = p.names.slice(1).filter(Boolean).length;
  const value = (g: number): Value => (match[2 * g]! >= 0 ? text.slice(match[2 * g], match[2 * g + 1]) : null);
  if (named === 0) return p.names.slice(1).map((_, i) => value(i + 1));
  if (named < p.names.length - 1) throw new FunctionError('invalid regular expression: cannot mix both named and unnamed capture groups', 'pattern');
  return Object.fromEntries(p.names.slice(1).map((name, i) => [name, value(i + 1)]));
}

/** regex_replace(str, substr, replace): every match of the pattern `substr` replaced, `$1`/`${name}` expanded. */
export function regexReplace(text: string, pattern: string, replacement: string): string {
  const p = compile(pattern, 'substr');
  let out = '';
  let last = 0;
  for (const match of allMatches(p, text)) {
    out += text.slice(last, match[0]) + expand(replacement, p, text, match);
    last = match[1]!;
  }
  return out + text.slice(last);
}

/** regex(pattern, string): the first match (see `result`), or an error when there is none. */
export function regex(pattern: string, text: string): Value {
  const p = compile(pattern, 'pattern');
  const [first] = allMatches(p, text, 1);
  if (!first) throw new FunctionError('pattern did not match any part of the given string', 'string');
  return result(p, text, first);
}

/** regexall(pattern, string): every match, each as `regex` gives it. */
export function regexAll(pattern: string, text: string): Value[] {
  const p = compile(pattern, 'pattern');
  return allMatches(p, text).map((match) => result(p, text, match));
}
