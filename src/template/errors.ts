// How the template loader reports what is wrong: every problem at once, each naming the key
// it is about, what is wrong with it and, when kiln can tell, what to do instead.

export interface TemplateProblem {
  /** Where: a key path such as `builders[0].region`, `variables.token`, `--var-file vars.json`
   *  or an environment variable / config file name. */
  path: string;
  /** What is wrong, without echoing secret values. */
  message: string;
  /** What to do about it (`did you mean "commercial_type"?`, the allowed values, …). */
  hint?: string;
  /** Where in a file (HCL2 templates): printed as the line with a caret under the column. */
  location?: SourceLocation;
}

export interface SourceLocation {
  /** As given on the command line (relative paths stay relative). */
  file: string;
  line: number;
  column: number;
  /** The text of that line. */
  lineText: string;
}

/** Thrown by `loadTemplate` and `parseVarArgs`; carries ALL the problems found, not just the first. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly problems: TemplateProblem[];

  constructor(problems: TemplateProblem[]) {
    const unique = dedupeProblems(problems);
    super(formatProblems(unique));
    this.problems = unique;
  }
}

/** One problem per line: `path: message (hint)`. The same text `kiln validate` prints. */
export function formatProblems(problems: readonly TemplateProblem[]): string {
  const header = problems.length === 1 ? 'the template has 1 problem:' : `the template has ${problems.length} problems:`;
  const lines = problems.map((p) => (p.location ? formatLocated(p, p.location) : `  - ${p.path}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`));
  return [header, ...lines].join('\n');
}

// `file:line:col: message`, the line itself with a caret under the column, then the hint.
function formatLocated(problem: TemplateProblem, at: SourceLocation): string {
  const number = String(at.line);
  const text = at.lineText.replace(/\t/g, ' ');
  const out = [`  - ${at.file}:${at.line}:${at.column}: ${problem.message}`, `      ${number} | ${text}`, `      ${' '.repeat(number.length)} | ${' '.repeat(Math.max(0, at.column - 1))}^`];
  if (problem.hint) out.push(`      hint: ${problem.hint}`);
  return out.join('\n');
}

// A provisioner is checked once per build it applies to, so the same problem can be found
// several times; report it once.
function dedupeProblems(problems: readonly TemplateProblem[]): TemplateProblem[] {
  const seen = new Set<string>();
  const out: TemplateProblem[] = [];
  for (const problem of problems) {
    // An HCL2 provisioner lowered once per source is one place in the file: say it once.
    const where = problem.location ? `${problem.location.file}:${problem.location.line}:${problem.location.column}` : problem.path;
    const key = `${where}\u0000${problem.message}\u0000${problem.hint ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}

/** Collects problems while a template is checked, so that all of them are reported together. */
export class Problems {
  readonly list: TemplateProblem[] = [];

  add(path: string, message: string, hint?: string, location?: SourceLocation): void {
    this.list.push({ path, message, ...(hint === undefined ? {} : { hint }), ...(location ? { location } : {}) });
  }

  get count(): number {
    return this.list.length;
  }
}
