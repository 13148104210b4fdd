// The template module's public interface: load and validate templates, redact what is stored.
export { loadTemplate } from './load.js';
export type { LoadTemplateOptions, LoadedTemplate, TemplateEvaluation } from './build-specs.js';
export { TemplateError, formatProblems, type TemplateProblem } from './errors.js';
export { redactSpec, redactText, secretValuesOf } from './redact.js';
export { parseVarArgs, templateInputOptions, templateInputsFromArgv, buildSelectionOptions, selectionFromArgv, type TemplateInputs } from './options.js';
export { parseDuration, formatDuration } from './duration.js';
export { DEFAULT_API_URL, ZONES, LEGACY_REGIONS } from './builder.js';
export * from './spec.js';
export { selectBuilds, selectBuildNames, keepsPostProcessor, globMatches, onlyBuild, type NameSelection } from './select.js';
