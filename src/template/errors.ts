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
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  return [header, ...lines].join('\n');
}

// A provisioner is checked once per build it applies to, so the same problem can be found
// several times; report it once.
function dedupeProblems(problems: readonly TemplateProblem[]): TemplateProblem[] {
  const seen = new Set<string>();
  const out: TemplateProblem[] = [];
  for (const problem of problems) {
    const key = `${problem.path}\u0000${problem.message}\u0000${problem.hint ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}

/** Collects problems while a template is checked, so that all of them are reported together. */
export class Problems {
  readonly list: TemplateProblem[] = [];

  add(path: string, message: string, hint?: string): void {
    this.list.push(hint === undefined ? { path, message } : { path, message, hint });
  }

  get count(): number {
    return this.list.length;
  }
}
