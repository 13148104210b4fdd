// `-only` / `-except`: which builds and post-processors of a template run, by name.
// Packer's rules:
// - a build runs if it matches one of -only's patterns (when -only is given) and none of -except's;
// - -except also skips the post-processors it matches (a post-processor's name is its `name`, or
//   its `type` when it has none); -only never skips a post-processor;
// - patterns are globs as Packer reads them (github.com/gobwas/glob, no separators): `*` any run
//   of characters (dots too), `?` one character, `[abc]` `[a-z]` `[!abc]` a class, `{a,b}` either,
//   `\` quotes the next character. A name without those characters matches only itself, which is
//   all Packer 1.6.6 does for JSON templates; later versions and HCL2 templates read globs.
import { TemplateError, type TemplateProblem } from './errors.js';
import { closest } from './suggest.js';

export interface NameSelection {
  /** -only's patterns (empty: every build). */
  only: readonly string[];
  /** -except's patterns. */
  except: readonly string[];
}

/** Whether `name` matches the glob `pattern`. */
export function globMatches(pattern: string, name: string): boolean {
  return globRegExp(pattern).test(name);
}

const compiled = new Map<string, RegExp>();

function globRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${globSource(pattern)})$`, 's');
    compiled.set(pattern, re);
  }
  return re;
}

const escapeRegExp = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** The RegExp source of a gobwas glob (a malformed one reads its odd characters literally). */
function globSource(pattern: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]!);
    else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        const negated = body.startsWith('!');
        if (negated) body = body.slice(1);
        out += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else out += escapeRegExp(c);
  }
  return out + ')'.repeat(braces);
}

const matchesAny = (patterns: readonly string[], name: string): boolean => patterns.some((p) => globMatches(p, name));

/** The builds that run, in the template's order. */
export function selectBuildNames(names: readonly string[], selection: NameSelection): string[] {
  return names.filter((name) => (selection.only.length === 0 || matchesAny(selection.only, name)) && !matchesAny(selection.except, name));
}

/** Whether a post-processor runs: -except skips it by name (its `type` when it has no `name`); -only does not apply. */
export function keepsPostProcessor(name: string, selection: NameSelection): boolean {
  return !matchesAny(selection.except, name);
}

/**
 * The patterns that match nothing, each with the nearest name: Packer 1.6.6 silently builds
 * nothing for `-only=tpyo` and exits 0, which a CI job takes for success; kiln refuses it.
 */
export function unmatchedPatterns(selection: NameSelection, buildNames: readonly string[], postProcessorNames: readonly string[] = []): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const check = (flag: '-only' | '-except', pattern: string, names: readonly string[]) => {
    if (names.some((name) => globMatches(pattern, name))) return;
    const near = closest(pattern, names);
    const listed = names.length === 0 ? 'none' : names.map((n) => `"${n}"`).join(', ');
    problems.push({
      path: `${flag}=${pattern}`,
      message: `matches no ${flag === '-only' ? 'build' : 'build or post-processor'} of the template`,
      hint: `${near ? `did you mean "${near}"? ` : ''}the names are ${listed}`,
    });
  };
  for (const pattern of selection.only) check('-only', pattern, buildNames);
  for (const pattern of selection.except) check('-except', pattern, [...buildNames, ...postProcessorNames]);
  return problems;
}

/**
 * What is wrong with a selection: patterns that match nothing, or no build left to run. The
 * loader checks it with every name of the template, before it reads any build: a build the
 * selection leaves out is not validated (as in Packer).
 */
export function selectionProblems(selection: NameSelection, buildNames: readonly string[], postProcessorNames: readonly string[] = []): TemplateProblem[] {
  const problems = unmatchedPatterns(selection, buildNames, postProcessorNames);
  if (problems.length === 0 && buildNames.length > 0 && selectBuildNames(buildNames, selection).length === 0) {
    problems.push({ path: '-only/-except', message: 'leave no build to run', hint: `the template's builds are ${buildNames.map((n) => `"${n}"`).join(', ')}` });
  }
  return problems;
}

/** The builds that -only/-except select, in the template's order; a pattern that matches nothing is a TemplateError. */
export function selectBuilds<T extends { name: string }>(builds: readonly T[], selection: NameSelection, postProcessorNames: readonly string[] = []): T[] {
  const names = builds.map((b) => b.name);
  const problems = selectionProblems(selection, names, postProcessorNames);
  if (problems.length > 0) throw new TemplateError(problems);
  const selected = new Set(selectBuildNames(names, selection));
  return builds.filter((b) => selected.has(b.name));
}

/** A selection of exactly one build, whatever characters its name holds (resume). */
export function onlyBuild(name: string): NameSelection {
  return { only: [name.replace(/[\\*?[\]{},]/g, '\\$&')], except: [] };
}

/** `-only=a,b -only c` → `['a', 'b', 'c']`: Packer's flags take comma-separated lists (a comma inside `{…}` belongs to the glob). */
export function splitPatterns(values: readonly string[] | undefined): string[] {
  const patterns: string[] = [];
  for (const value of values ?? []) {
    let depth = 0;
    let current = '';
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!;
      if (c === '\\' && i + 1 < value.length) current += c + value[++i]!;
      else if (c === ',' && depth === 0) {
        if (current !== '') patterns.push(current);
        current = '';
      } else {
        if (c === '{') depth++;
        if (c === '}' && depth > 0) depth--;
        current += c;
      }
    }
    if (current !== '') patterns.push(current);
  }
  return patterns;
}
