// The implementation of `kiln validate`: load the template (JSON or HCL2), then say it is valid
// (with --print, the evaluated configuration of each build, redacted) or print every problem.
// Exit code 0 or 2.
import { stringify } from 'yaml';
import { isHclTemplate, loadTemplate } from './load.js';
import { checkHclSyntax } from './hcl-load.js';
import { TemplateError, formatProblems, type TemplateProblem } from './errors.js';
import { selectionFromArgv, templateInputsFromArgv } from './options.js';
import { selectFromTemplate } from './select.js';
import { isObject } from './fields.js';
import { readJsonTemplateFile } from './json-template.js';
import { didYouMean } from './suggest.js';
import { redactSpec } from './redact.js';
import { formatDuration } from './duration.js';
import { processOutput, type TextOutput } from '../shared/text-output.js';

export interface ValidateInput {
  template: string;
  var?: readonly string[] | undefined;
  'var-file'?: readonly string[] | undefined;
  only?: readonly string[] | undefined;
  except?: readonly string[] | undefined;
  /** Packer's -syntax-only: is the file a template at all (JSON, builders with a type); nothing else is checked. */
  'syntax-only'?: boolean | undefined;
  json?: boolean | undefined;
  /** Print each build's evaluated configuration (always in --json). */
  print?: boolean | undefined;
}

/** Exit code: 0 valid, 2 invalid. */
export async function runValidate(input: ValidateInput, out: TextOutput = processOutput): Promise<number> {
  let loaded;
  try {
    if (input['syntax-only']) {
      if (await isHclTemplate(input.template)) await checkHclSyntax(input.template);
      else await checkSyntax(input.template);
      if (input.json) out.stdout(`${JSON.stringify({ valid: true, syntaxOnly: true }, null, 2)}\n`);
      else out.stdout('Syntax-only check passed. Everything looks okay.\n');
      return 0;
    }
    loaded = await loadTemplate(input.template, templateInputsFromArgv(input));
    loaded = { ...loaded, builds: selectFromTemplate(loaded.builds, selectionFromArgv(input)) };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    if (input.json) out.stdout(`${JSON.stringify({ valid: false, errors: error.problems }, null, 2)}\n`);
    else out.stderr(`kiln validate: ${input.template}: ${formatProblems(error.problems)}\n`);
    return 2;
  }
  for (const warning of loaded.warnings) out.stderr(`warning: ${warning}\n`);
  const builds = loaded.builds.map((build) => redactSpec(build, loaded.sensitiveValues));
  if (input.json) {
    out.stdout(`${JSON.stringify({ valid: true, templateHash: loaded.templateHash, warnings: loaded.warnings, builds }, null, 2)}\n`);
    return 0;
  }
  out.stdout(`${input.template} is valid: ${builds.length} build${builds.length === 1 ? '' : 's'}${input.print ? '' : ` (${builds.map((b) => b.name).join(', ')}; --print shows their configuration)`}\n`);
  if (!input.print) return 0;
  for (const build of builds) {
    out.stdout(`\nbuild "${build.name}" (${build.type}):\n${indent(stringify(readableDurations(build)))}`);
  }
  return 0;
}

/** The top-level keys of Packer's JSON template syntax (kiln refuses some of them when it loads a template). */
const PACKER_TEMPLATE_KEYS = ['description', 'min_packer_version', 'variables', 'sensitive-variables', 'builders', 'provisioners', 'post-processors', 'error-cleanup-provisioner'];

/**
 * Packer's -syntax-only: what Packer's template parser checks, nothing of the builders' settings.
 * The file is JSON; its top-level keys are a template's; builders, provisioners and post-processors
 * are lists of objects with a "type"; no two builders share a name. (Packer 1.6.6 accepts a
 * template without builders here; so does kiln.)
 */
async function checkSyntax(path: string): Promise<void> {
  const { template } = await readJsonTemplateFile(path);
  const problems: TemplateProblem[] = [];
  for (const key of Object.keys(template)) {
    if (!PACKER_TEMPLATE_KEYS.includes(key) && !key.startsWith('_')) problems.push({ path: key, message: `unknown top-level key "${key}"`, hint: didYouMean(key, PACKER_TEMPLATE_KEYS) });
  }
  const names = new Set<string>();
  for (const section of ['builders', 'provisioners', 'post-processors'] as const) {
    const list: unknown = template[section];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push({ path: section, message: 'must be a list' });
      continue;
    }
    list.forEach((item: unknown, i) => {
      // A post-processor may be a name, or a list of them (a sequence).
      if (section === 'post-processors' && (typeof item === 'string' || Array.isArray(item))) return;
      if (!isObject(item) || typeof item.type !== 'string') problems.push({ path: `${section}[${i}]`, message: 'needs a "type"' });
      else if (section === 'builders') {
        const name = typeof item.name === 'string' ? item.name : item.type;
        if (names.has(name)) problems.push({ path: `${section}[${i}]`, message: `a second builder named "${name}"`, hint: 'give each builder its own "name"' });
        names.add(name);
      }
    });
  }
  if (problems.length > 0) throw new TemplateError(problems);
}

// For people: `timeoutMs: 300000` reads better as `timeout: 5m`.
function readableDurations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(readableDurations);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.endsWith('Ms') && typeof item === 'number') out[key.slice(0, -2)] = formatDuration(item);
    else out[key] = readableDurations(item);
  }
  return out;
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}
