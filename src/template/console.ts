// `kiln console`: one line in, its value out, as `packer console` evaluates it. An HCL2 template
// (or none) gives HCL2 expressions over its variables, locals, `path` and `packer` and every
// function; a JSON template gives Packer's JSON mode: the line is a string with Go template
// actions (`{{user \`zone\`}}`, `{{timestamp}}`) over the template's variables. `variables`,
// `help` and `exit` are the console's own words, as in Packer.
import { dirname, resolve } from 'node:path';
import { Problems, TemplateError } from './errors.js';
import { readJsonTemplate } from './json-template.js';
import { interpolate, InterpolationError } from './functions.js';
import { evaluateHcl } from './hcl-load.js';
import { evaluate, HclEvalError, type Scope } from './hcl/eval.js';
import { hclFunctions } from './hcl/functions.js';
import { HclSyntaxError, parseExpression } from './hcl/parser.js';
import { renderMultiline, type Value } from './hcl/value.js';
import { goQuote } from './inspect.js';
import { newEvaluation, type LoadTemplateOptions } from './build-specs.js';
import { isHclTemplate } from './load.js';
import { redactText } from './redact.js';
import { resolveVariables } from './variables.js';

export type ConsoleAnswer = { value: string } | { error: string } | { exit: true };

export interface Console {
  evaluate(line: string): ConsoleAnswer;
}

const HCL_HELP = `kiln console, HCL2 mode: type an expression and press Enter to see its value.
The template's variables (var.NAME), locals (local.NAME), path.root, path.cwd and every function are there:
upper(var.zone) gives the zone in capitals.
"variables" lists the variables and locals with their values; "exit" (or Ctrl-D) leaves.`;

const JSON_HELP = `kiln console, JSON mode: type a string with template actions and press Enter to see it rendered,
for example {{user \`zone\`}}-{{timestamp}}.
"variables" lists the variables with their values; "exit" (or Ctrl-D) leaves.`;

/** A console over the template at `path`, or over no template (HCL2 functions only). Throws TemplateError. */
export async function openConsole(path: string | undefined, options: LoadTemplateOptions = {}): Promise<Console> {
  if (path !== undefined && !(await isHclTemplate(path))) return jsonConsole(path, options);
  const evaluation = newEvaluation(options);
  let scope: Scope;
  let listing: string;
  let secrets: string[] = [];
  if (path === undefined) {
    const cwd = process.cwd();
    scope = { variables: new Map<string, Value>([['var', {}], ['local', {}], ['path', { cwd, root: cwd }]]), functions: hclFunctions({ initTime: new Date(evaluation.initTime), uuid: evaluation.uuid, cwd }) };
    listing = '> input-variables:\n\n\n> local-variables:\n\n';
  } else {
    const evaluated = await evaluateHcl(path, { ...options, evaluation });
    scope = evaluated.scope;
    secrets = evaluated.sensitiveValues;
    const shown = (value: Value): string => goQuote(redactText(renderMultiline(value), secrets));
    listing = '> input-variables:\n\n';
    for (const name of Object.keys(evaluated.variables).sort()) listing += `var.${name}: ${shown(evaluated.variables[name]!.value)}\n`;
    listing += '\n> local-variables:\n\n';
    for (const name of Object.keys(evaluated.locals).sort()) listing += `local.${name}: ${shown(evaluated.locals[name]!)}\n`;
  }
  return {
    evaluate(line) {
      const word = words(line);
      if (word) return word === 'variables' ? { value: listing } : word === 'help' ? { value: HCL_HELP } : word === 'exit' ? { exit: true } : { value: '' };
      try {
        return { value: redactText(renderMultiline(evaluate(parseExpression(line, '<console-input>'), scope)), secrets) };
      } catch (error) {
        if (!(error instanceof HclSyntaxError) && !(error instanceof HclEvalError)) throw error;
        const d = error.diagnostic;
        const hint = 'hint' in d && d.hint ? ` (${d.hint})` : '';
        return { error: redactText(`${d.summary}: ${d.detail}${hint}\n  at column ${d.range.start.column}: ${line}\n  ${' '.repeat(`at column ${d.range.start.column}: `.length + d.range.start.column - 1)}^`, secrets) };
      }
    },
  };
}

/** The console's own words (and the empty line), or undefined for an expression. */
function words(line: string): string | undefined {
  return ['', 'exit', 'help', 'variables'].includes(line) ? line || 'empty' : undefined;
}

async function jsonConsole(path: string, options: LoadTemplateOptions): Promise<Console> {
  const template = await readJsonTemplate(path);
  const declared = template.variables;
  const sensitive = template['sensitive-variables'];
  const evaluation = newEvaluation(options);
  const env = options.env ?? process.env;
  const functions = { env, initTime: new Date(evaluation.initTime), uuid: evaluation.uuid, templateDir: dirname(resolve(path)) };
  const problems = new Problems();
  const variables = await resolveVariables({ declared, sensitive, vars: options.vars ?? {}, varFiles: options.varFiles ?? [], functions, problems, warnings: [] });
  if (problems.count) throw new TemplateError(problems.list);
  const secrets = variables.sensitiveValues;
  return {
    evaluate(line) {
      const word = words(line);
      if (word === 'variables') return { value: `\n${[...variables.values].map(([name, value]) => `${name}: ${redactText(value, secrets)},\n`).join('')}` };
      if (word) return word === 'help' ? { value: JSON_HELP } : word === 'exit' ? { exit: true } : { value: '' };
      try {
        const rendered = interpolate(line, { ...functions, section: 'builder', user: (name) => variables.values.get(name), userNames: () => [...variables.values.keys()] });
        return { value: redactText(rendered, secrets) };
      } catch (error) {
        if (!(error instanceof InterpolationError)) throw error;
        return { error: `Interpolation error: ${error.message}${error.hint ? ` (${error.hint})` : ''}` };
      }
    },
  };
}
