// The build specs of a template: a template in Packer's JSON shape (read from JSON, or lowered
// from HCL2) + variables + environment + Scaleway config file → validated BuildSpecs, or a
// TemplateError listing every problem. Both loaders end here, so nothing after `template/` knows
// which language a template was written in. Offline only: nothing here calls the API.
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { Problems, TemplateError, type SourceLocation } from './errors.js';
import { FieldReader, isObject, describeType, type FieldContext, type JsonObject } from './fields.js';
import { interpolate, InterpolationError, type InterpolationContext } from './functions.js';
import { resolveVariables } from './variables.js';
import { readScalewayConfig } from './credentials.js';
import { readScalewayBuilder } from './builder.js';
import { appliesTo, checkProvisionerList, readProvisioner, type ProvisionerContext } from './provisioners/index.js';
import { checkPostProcessorList, readPostProcessors } from './post-processors.js';
import { checkErrorCleanup, ERROR_CLEANUP_KEY, readErrorCleanup } from './error-cleanup.js';
import { redactProblem, redactText, secretValuesOf } from './redact.js';
import { didYouMean } from './suggest.js';
import { keepsPostProcessor, selectBuildNames, selectionProblems, type NameSelection } from './select.js';
import type { BuildSpec, ProvisionerSpec } from './spec.js';

/** The load's single `{{timestamp}}`/`{{isotime}}` instant and `{{uuid}}`. Pass the same values
 *  again (e.g. on resume) to evaluate the template to the same names. */
export interface TemplateEvaluation {
  /** ISO 8601 instant. */
  initTime: string;
  uuid: string;
}

export interface LoadTemplateOptions {
  /** `--var name=value` values (see parseVarArgs); they win over --var-file values. */
  vars?: Readonly<Record<string, string>>;
  /** `--var-file` paths, applied in order. */
  varFiles?: readonly string[];
  /** Environment to read SCW_* / SCALEWAY_* and {{env}} from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The Scaleway config file; default $SCW_CONFIG_PATH, else ~/.config/scw/config.yaml. */
  configPath?: string;
  /** Copied to each BuildSpec's `force` (skip the name-taken check in prepare). */
  force?: boolean;
  /** Reuse a previous load's timestamp and uuid instead of taking new ones. */
  evaluation?: TemplateEvaluation;
  /** -only/-except: the builds to load. One left out is not read at all (as in Packer, its
   *  problems are not the run's), and -except drops the post-processors it names. */
  selection?: NameSelection;
}

export interface LoadedTemplate {
  builds: BuildSpec[];
  /** Deprecations and ignored settings; print them to stderr. Secrets are already hidden. */
  warnings: string[];
  /** sha256 (hex) of the template file's bytes. */
  templateHash: string;
  /** Every secret value of the load (sensitive variables, secret keys, SSH passwords). */
  sensitiveValues: string[];
  evaluation: TemplateEvaluation;
}

/** The evaluation to use: the given one (resume), else a new instant and UUID. */
export function newEvaluation(options: LoadTemplateOptions): TemplateEvaluation {
  const evaluation: TemplateEvaluation = options.evaluation ?? { initTime: new Date().toISOString(), uuid: randomUUID() };
  if (Number.isNaN(new Date(evaluation.initTime).getTime())) throw new TypeError(`loadTemplate: evaluation.initTime "${evaluation.initTime}" is not a date`);
  return evaluation;
}

/** A template in Packer's JSON shape, however it was written (JSON, or HCL2 lowered to it). */
export interface TemplateObject {
  template: JsonObject;
  /** A builder object on its own (the seed's Basic Example). */
  bare: boolean;
  templateDir: string;
  templateHash: string;
  problems: Problems;
  warnings: string[];
  /** Values to hide that the template language itself knows are secret (HCL2 sensitive variables). */
  sensitiveValues?: readonly string[];
  /** The `index` of the provisioner at position i of `template.provisioners` (default i): HCL2
   *  numbers provisioners within their build block. */
  provisionerIndex?: (i: number) => number;
  /** The same for post-processors. */
  postProcessorIndex?: (i: number) => number;
  /** Where a key path such as `builders[0].zone` was written (HCL2 templates), for error messages. */
  locate?: (path: string) => SourceLocation | undefined;
}

/** The template object's builders and provisioners → BuildSpecs, or a TemplateError with every problem. */
export async function buildSpecsFromTemplate(input: TemplateObject, options: LoadTemplateOptions, evaluation: TemplateEvaluation): Promise<LoadedTemplate> {
  const { template, bare, templateDir, templateHash, problems, warnings } = input;
  const env = options.env ?? process.env;
  const home = env.HOME || homedir();
  const initTime = new Date(evaluation.initTime);
  const functions = { env, initTime, uuid: evaluation.uuid, templateDir };
  const variables = await resolveVariables({
    declared: template.variables,
    sensitive: template['sensitive-variables'],
    vars: options.vars ?? {},
    varFiles: options.varFiles ?? [],
    functions,
    problems,
    warnings,
  });

  const configFile = await readScalewayConfig(env, options.configPath, problems);

  // One FieldContext per build/section: template functions see the build's name.
  const fieldContext = (section: InterpolationContext['section'], buildName?: string): FieldContext => ({
    problems,
    interpolate(value, keyPath, keepFields) {
      try {
        return interpolate(value, {
          ...functions,
          section,
          user: (name) => variables.values.get(name),
          userNames: () => [...variables.values.keys()],
          onUnknownUser: variables.unknownUser,
          ...(buildName !== undefined ? { buildName, buildType: 'scaleway' } : {}),
          ...(keepFields ? { keepFields } : {}),
        });
      } catch (error) {
        if (!(error instanceof InterpolationError)) throw error;
        problems.add(keyPath, error.message, error.hint);
        return undefined;
      }
    },
  });

  const rawBuilders = readBuilderList(template.builders, problems);
  const names = builderNames(rawBuilders, bare, problems);
  const provisionerContext: ProvisionerContext = { ...fieldContext('provisioner'), templateDir, home, builderNames: names.filter((n): n is string => n !== undefined) };
  const rawProvisioners = checkProvisionerList(template.provisioners, provisionerContext);
  const rawPostProcessors = checkPostProcessorList(template['post-processors'], provisionerContext);
  const selected = select(options.selection, names, rawPostProcessors.map(({ raw }) => (typeof raw.name === 'string' && raw.name !== '' ? raw.name : String(raw.type))), problems);
  const rawErrorCleanup = checkErrorCleanup(template[ERROR_CLEANUP_KEY], provisionerContext);

  const builds: BuildSpec[] = [];
  rawBuilders.forEach((raw, index) => {
    const name = names[index];
    if (name === undefined || !isObject(raw) || !selected(name)) return;
    const prefix = bare ? '' : `builders[${index}]`;
    const reader = new FieldReader(raw, prefix, fieldContext('builder', name));
    const builder = readScalewayBuilder(reader, { index, name, env, configFile, templateDir, home, initTime, uuid: evaluation.uuid, warnings });
    const context: ProvisionerContext = { ...provisionerContext, ...fieldContext('provisioner', name) };
    const communicator = builder?.communicator.type ?? (raw.communicator === 'none' ? 'none' : 'ssh');
    const provisioners: ProvisionerSpec[] = [];
    rawProvisioners.forEach((rawProvisioner, i) => {
      if (!appliesTo(rawProvisioner, name)) return;
      const provisioner = readProvisioner(rawProvisioner, i, { name, communicator }, context);
      if (provisioner) provisioners.push(input.provisionerIndex ? { ...provisioner, index: input.provisionerIndex(i) } : provisioner);
    });
    const postProcessors = readPostProcessors(rawPostProcessors, { name, communicator }, context)
      .filter((pp) => !options.selection || keepsPostProcessor(pp.name, options.selection))
      .map((p) => (input.postProcessorIndex ? { ...p, index: input.postProcessorIndex(p.index) } : p));
    const errorCleanupProvisioner = readErrorCleanup(rawErrorCleanup, { name, communicator }, context);
    if (!builder) return;
    const spec: BuildSpec = { ...builder, provisioners, ...(errorCleanupProvisioner ? { errorCleanupProvisioner } : {}), ...(postProcessors.length ? { postProcessors } : {}), force: options.force ?? false, sensitiveValues: [...variables.sensitiveValues, ...(input.sensitiveValues ?? [])] };
    spec.sensitiveValues = secretValuesOf(spec);
    builds.push(spec);
  });

  const secrets = [...new Set([...variables.sensitiveValues, ...(input.sensitiveValues ?? []), ...builds.flatMap((b) => b.sensitiveValues)])];
  checkDistinctNames(builds, warnings);

  if (problems.count > 0) {
    // Secrets found before the failure (e.g. a sensitive variable's value in an enum error) stay hidden.
    throw new TemplateError(problems.list.map((p) => {
      const location = p.location ?? input.locate?.(p.path);
      return redactProblem(location ? { ...p, location } : p, secrets);
    }));
  }
  return { builds, warnings: warnings.map((w) => redactText(w, secrets)), templateHash, sensitiveValues: secrets, evaluation };
}

// Which builds the selection keeps; its own problems (a pattern that matches nothing, no build left).
function select(selection: NameSelection | undefined, names: Array<string | undefined>, postProcessorNames: string[], problems: Problems): (name: string) => boolean {
  if (!selection) return () => true;
  const known = names.filter((n): n is string => n !== undefined);
  for (const problem of selectionProblems(selection, known, postProcessorNames)) problems.add(problem.path, problem.message, problem.hint);
  const kept = new Set(selectBuildNames(known, selection));
  return (name) => kept.has(name);
}

function readBuilderList(raw: unknown, problems: Problems): unknown[] {
  if (raw === undefined || raw === null) {
    problems.add('builders', 'the template has no builders', 'add "builders": [{"type": "scaleway", …}] (see examples/basic.json)');
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.add('builders', `must be a list of builders, not ${describeType(raw)}`, 'write "builders": [{"type": "scaleway", …}]');
    return [];
  }
  if (raw.length === 0) problems.add('builders', 'the list of builders is empty', 'add a {"type": "scaleway", …} builder');
  return raw;
}

// Each builder's name (its "name", else its type), checked for type and uniqueness.
function builderNames(builders: unknown[], bare: boolean, problems: Problems): Array<string | undefined> {
  const firstIndex = new Map<string, number>();
  return builders.map((raw, index) => {
    const path = bare ? '' : `builders[${index}]`;
    const at = (key: string): string => (path ? `${path}.${key}` : key);
    if (!isObject(raw)) {
      problems.add(path || '(template)', `a builder is an object with a "type", not ${describeType(raw)}`);
      return undefined;
    }
    if (raw.type === undefined || raw.type === null) {
      problems.add(at('type'), 'a builder needs a type', 'kiln builds "scaleway" images: add "type": "scaleway"');
      return undefined;
    }
    if (typeof raw.type !== 'string') {
      problems.add(at('type'), `a builder type is a string, not ${describeType(raw.type)}`, 'kiln builds "scaleway" images: write "type": "scaleway"');
      return undefined;
    }
    if (raw.type !== 'scaleway') {
      const type = raw.type;
      problems.add(at('type'), `the builder type "${type}" is not supported by kiln`, didYouMean(type, ['scaleway']) ?? 'kiln builds "scaleway" images only');
      return undefined;
    }
    if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name.trim() === '')) {
      problems.add(at('name'), `a builder name must be a non-empty string, not ${typeof raw.name === 'string' ? 'empty' : describeType(raw.name)}`);
      return undefined;
    }
    const name = (raw.name as string | undefined) ?? 'scaleway';
    const previous = firstIndex.get(name);
    if (previous !== undefined) {
      problems.add(at('name'), `the builder name "${name}" is already used by builders[${previous}]`, 'give each builder a distinct "name"');
      return undefined;
    }
    firstIndex.set(name, index);
    return name;
  });
}

// Two builds of one template making images with the same name in the same zone is almost
// always a copy-paste slip; Scaleway allows it, so it is a warning.
function checkDistinctNames(builds: BuildSpec[], warnings: string[]): void {
  const seen = new Map<string, string>();
  for (const build of builds) {
    for (const [kind, name] of [['image', build.imageName], ['snapshot', build.snapshotName]] as const) {
      const key = `${kind}\u0000${build.zone}\u0000${name}`;
      const other = seen.get(key);
      if (other !== undefined) warnings.push(`builds "${other}" and "${build.name}" both make ${kind === 'image' ? 'an' : 'a'} ${kind} named "${name}" in ${build.zone}; put {{build_name}} in ${kind}_name to tell them apart`);
      else seen.set(key, build.name);
    }
  }
}
