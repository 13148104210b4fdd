// The implementation of `kiln validate`: load the template (JSON or HCL2), then say it is valid
// (with --print, the evaluated configuration of each build, redacted) or print every problem.
// Exit code 0 or 2.
import { stringify } from 'yaml';
import { loadTemplate } from './load.js';
import { TemplateError, formatProblems } from './errors.js';
import { templateInputsFromArgv } from './options.js';
import { redactSpec } from './redact.js';
import { formatDuration } from './duration.js';

export interface ValidateInput {
  template: string;
  var?: readonly string[] | undefined;
  'var-file'?: readonly string[] | undefined;
  json?: boolean | undefined;
  /** Print each build's evaluated configuration (always in --json). */
  print?: boolean | undefined;
}

export interface ValidateOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processOutput: ValidateOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exit code: 0 valid, 2 invalid. */
export async function runValidate(input: ValidateInput, out: ValidateOutput = processOutput): Promise<number> {
  let loaded;
  try {
    loaded = await loadTemplate(input.template, templateInputsFromArgv(input));
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
