// Secrets never leave the process: what is stored (event log, projection) or printed
// (`kiln validate`, --json) goes through redactSpec/redactText first.
import { SENSITIVE_PLACEHOLDER, type BuildSpec, type RedactedBuildSpec } from './spec.js';
import type { TemplateProblem } from './errors.js';

/** The secret values of one build: its sensitive variables, its secret key, its SSH password. */
export function secretValuesOf(spec: BuildSpec): string[] {
  const values = new Set(spec.sensitiveValues);
  if (spec.secretKey) values.add(spec.secretKey);
  if (spec.communicator.type === 'ssh' && spec.communicator.password) values.add(spec.communicator.password);
  return [...values].filter((value) => value !== '');
}

/**
 * A JSON-safe copy of `spec` with `secretKey`, the SSH password and every string that contains
 * the value of a sensitive variable (or of another secret) replaced by "<sensitive>".
 * `extraSecrets` adds values to hide (e.g. the load result's `sensitiveValues`).
 */
export function redactSpec(spec: BuildSpec, extraSecrets: readonly string[] = []): RedactedBuildSpec {
  const secrets = [...new Set([...secretValuesOf(spec), ...extraSecrets])].filter((value) => value !== '');
  const { sensitiveValues: _dropped, ...rest } = spec;
  const copy = scrub(rest, secrets) as RedactedBuildSpec;
  copy.secretKey = SENSITIVE_PLACEHOLDER;
  if (copy.communicator.type === 'ssh' && copy.communicator.password !== undefined) copy.communicator.password = SENSITIVE_PLACEHOLDER;
  return copy;
}

/** Replaces each occurrence of a secret inside free text (messages, warnings) by "<sensitive>". */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is hidden whole.
  for (const secret of [...secrets].filter(Boolean).sort((a, b) => b.length - a.length)) out = out.split(secret).join(SENSITIVE_PLACEHOLDER);
  return out;
}

function scrub(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return secrets.some((secret) => value.includes(secret)) ? SENSITIVE_PLACEHOLDER : value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // A key can hold a secret too (user_data names are free text).
      let name = secrets.some((secret) => key.includes(secret)) ? SENSITIVE_PLACEHOLDER : key;
      for (let n = 2; name in out; n++) name = `${SENSITIVE_PLACEHOLDER}${n}`;
      out[name] = scrub(item, secrets);
    }
    return out;
  }
  return value;
}

/** A problem with every secret hidden: its message, its hint and the quoted template line. */
export function redactProblem(problem: TemplateProblem, secrets: readonly string[]): TemplateProblem {
  return {
    ...problem,
    message: redactText(problem.message, secrets),
    ...(problem.hint !== undefined ? { hint: redactText(problem.hint, secrets) } : {}),
    ...(problem.location ? { location: { ...problem.location, lineText: redactText(problem.location.lineText, secrets) } } : {}),
  };
}
