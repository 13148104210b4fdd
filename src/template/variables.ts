// User variables as Packer 1.x has them: declared under "variables" with a string default, or
// null for "required"; set with --var-file (in order) then --var (later wins); defaults and
// values may use {{env}}, {{user}} (other variables), {{timestamp}}, {{uuid}}, {{isotime}}.
// As in Packer 1.6.6: a variable the template does not declare may still be set (and used), a
// `{{user}}` of one that is neither declared nor set reads as "" (both with a warning here), and a
// null in a var file sets the variable to "" (which satisfies a required one).
import { readFile } from 'node:fs/promises';
import type { Problems } from './errors.js';
import { describeType, isObject } from './fields.js';
import { interpolate, InterpolationError, type InterpolationContext } from './functions.js';
import { didYouMean } from './suggest.js';

export interface VariableInputs {
  /** The template's "variables" value, as parsed. */
  declared: unknown;
  /** The template's "sensitive-variables" value, as parsed. */
  sensitive: unknown;
  vars: Readonly<Record<string, string>>;
  varFiles: readonly string[];
  functions: Omit<InterpolationContext, 'section' | 'user' | 'userNames' | 'buildName' | 'buildType' | 'keepFields'>;
  problems: Problems;
  warnings: string[];
}

export interface ResolvedVariables {
  values: Map<string, string>;
  /** For `onUnknownUser`: warns (once) of a `{{user}}` of a variable neither declared nor set. */
  unknownUser: (name: string) => void;
  /** Values of the sensitive variables (non-empty ones), to redact wherever they appear. */
  sensitiveValues: string[];
}

interface Source {
  text: string;
  /** Problem path for this value: `variables.x`, `--var x`, `--var-file f.json: x`. */
  path: string;
}

export async function resolveVariables(input: VariableInputs): Promise<ResolvedVariables> {
  const { problems, warnings } = input;
  const sources = new Map<string, Source>();
  const required = new Set<string>();

  if (input.declared !== undefined && input.declared !== null && !isObject(input.declared)) {
    problems.add('variables', `must be an object of "name": "default", not ${describeType(input.declared)}`);
  } else if (isObject(input.declared)) {
    for (const [name, value] of Object.entries(input.declared)) {
      const path = `variables.${name}`;
      if (value === null) required.add(name);
      else if (typeof value === 'string') sources.set(name, { text: value, path });
      else {
        problems.add(path, `the default must be a string or null (null makes the variable required), not ${describeType(value)}`,
          typeof value === 'number' || typeof value === 'boolean' ? `quote it: "${String(value)}"` : undefined);
        sources.set(name, { text: '', path });
      }
    }
  }
  const declared = new Set([...sources.keys(), ...required]);
  const unknownUser = unknownUserWarning(declared, warnings);

  const provide = (name: string, text: string, path: string, origin: string): void => {
    if (!declared.has(name) && !sources.has(name)) {
      const hint = didYouMean(name, declared);
      warnings.push(`${origin} sets "${name}", which the template does not declare in "variables"; {{user \`${name}\`}} reads it all the same${hint ? ` (${hint})` : ''}`);
    }
    sources.set(name, { text, path });
    required.delete(name);
  };

  for (const file of input.varFiles) {
    const path = `--var-file ${file}`;
    let content: string;
    try {
      content = await readFile(file, 'utf8');
    } catch (error) {
      problems.add(path, `cannot read the variables file: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch (error) {
      problems.add(path, `is not valid JSON: ${jsonErrorSummary(error, content)}`, 'a variables file is a JSON object such as {"region": "par1"}');
      continue;
    }
    if (!isObject(parsed)) {
      problems.add(path, `must hold a JSON object of "name": "value", not ${describeType(parsed)}`);
      continue;
    }
    for (const [name, value] of Object.entries(parsed)) {
      // Packer decodes a var file into strings: null becomes "".
      if (value === null) provide(name, '', `${path}: ${name}`, `--var-file ${file}`);
      else if (typeof value !== 'string') problems.add(`${path}: ${name}`, `must be a string, not ${describeType(value)}`);
      else provide(name, value, `${path}: ${name}`, `--var-file ${file}`);
    }
  }
  for (const [name, value] of Object.entries(input.vars)) provide(name, value, `--var ${name}`, '--var');

  for (const name of required) {
    problems.add(`variables.${name}`, `variable "${name}" is required (its default is null) but no value was given`, `pass --var ${name}=VALUE or set it in a --var-file`);
  }

  // Evaluate each value once, following {{user}} references on demand; a cycle is an error.
  const values = new Map<string, string>();
  const evaluating: string[] = [];
  const failed = new Set<string>();
  // An error is reported once, at the variable where it happened, not at each one referring to it.
  const reported = new WeakSet<InterpolationError>();
  const evaluate = (name: string): string | undefined => {
    const done = values.get(name);
    if (done !== undefined) return done;
    if (failed.has(name)) return '';
    const source = sources.get(name);
    if (!source) return required.has(name) ? '' : undefined;
    if (evaluating.includes(name)) {
      const cycle = [...evaluating.slice(evaluating.indexOf(name)), name];
      throw new InterpolationError(`variables refer to each other in a loop: ${cycle.join(' → ')}`, 'break the loop by giving one of them a plain value');
    }
    evaluating.push(name);
    try {
      const value = interpolate(source.text, {
        ...input.functions,
        section: 'variables',
        user: evaluate,
        userNames: () => [...declared],
        onUnknownUser: unknownUser,
      });
      values.set(name, value);
      return value;
    } catch (error) {
      if (!(error instanceof InterpolationError)) throw error;
      if (!reported.has(error)) {
        problems.add(source.path, error.message, error.hint);
        reported.add(error);
      }
      failed.add(name);
      if (evaluating.length > 1) throw error;
      return '';
    } finally {
      evaluating.pop();
    }
  };
  for (const name of sources.keys()) evaluate(name);
  // A variable that is missing or failed has been reported already: elsewhere it reads as "".
  for (const name of declared) if (!values.has(name)) values.set(name, '');

  const sensitiveValues: string[] = [];
  if (input.sensitive !== undefined && input.sensitive !== null) {
    if (!Array.isArray(input.sensitive)) {
      problems.add('sensitive-variables', `must be a list of variable names, not ${describeType(input.sensitive)}`, 'write ["token", …]');
    } else {
      input.sensitive.forEach((name: unknown, index) => {
        const path = `sensitive-variables[${index}]`;
        if (typeof name !== 'string') problems.add(path, `must be a variable name (a string), not ${describeType(name)}`);
        else if (!declared.has(name)) problems.add(path, `"${name}" is not declared in "variables"`, didYouMean(name, declared) ?? 'declare it in "variables"');
        else {
          const value = values.get(name);
          if (value) sensitiveValues.push(value);
        }
      });
    }
  }
  return { values, sensitiveValues, unknownUser };
}

/** The warning for a `{{user}}` of a variable that is neither declared nor set, once per name. */
function unknownUserWarning(declared: ReadonlySet<string>, warnings: string[]): (name: string) => void {
  const warned = new Set<string>();
  return (name) => {
    if (warned.has(name)) return;
    warned.add(name);
    const hint = didYouMean(name, declared);
    warnings.push(`{{user \`${name}\`}}: "${name}" is not declared in "variables" and no --var or --var-file sets it; it reads as an empty string${hint ? ` (${hint})` : ''}`);
  };
}

/** JSON.parse's reason and position, without the snippet of input Node quotes (it may hold a secret). */
export function jsonErrorSummary(error: unknown, content: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(message);
  const reason = message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  if (!position) return reason;
  const before = content.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${reason} at line ${line}, column ${column}`;
}
