// HCL2 templates (Packer's `.pkr.hcl`): files or a directory (hcl/files.ts) → variables (types,
// validation, sensitive; Packer's precedence: hcl/variables.ts), locals (in dependency order:
// hcl/locals.ts), sources and builds (hcl/lower.ts), lowered into the JSON template shape that
// `buildSpecsFromTemplate` reads. So an HCL2 build goes through the same builder and provisioner
// readers as a JSON one, and nothing after this module knows which language the template was
// written in. Every problem carries file:line:col.
import { TemplateError } from './errors.js';
import { buildSpecsFromTemplate, newEvaluation, type LoadedTemplate, type LoadTemplateOptions } from './build-specs.js';
import { redactProblem } from './redact.js';
import type { Scope } from './hcl/eval.js';
import { checkPackerBlock, readHclFiles, topLevelBlocks } from './hcl/files.js';
import { hclFunctions } from './hcl/functions.js';
import { evaluateLocals } from './hcl/locals.js';
import { collectSources, lowerBuilds } from './hcl/lower.js';
import type { Value } from './hcl/value.js';
import { evaluateVariables } from './hcl/variables.js';

/** The Packer version whose HCL2 semantics kiln follows (`packer.version`). */
export const PACKER_HCL_VERSION = '1.6.6';

/** An HCL2 template (a `.pkr.hcl`/`.pkr.json` file or a directory of them) → BuildSpecs, as loadJsonTemplate does for JSON. */
export async function loadHclTemplate(path: string, options: LoadTemplateOptions = {}): Promise<LoadedTemplate> {
  const { load, blocks, scope, templateDir, templateHash, sensitiveValues, evaluation } = await evaluateHcl(path, options);
  const sources = collectSources(blocks.source, load);
  if (blocks.build.length === 0) {
    load.report({ summary: 'No build block', detail: 'The template defines no build, so there is nothing to do.', range: blocks.firstRange, hint: 'add build { sources = ["source.scaleway.NAME"] }' });
  }
  // Problems so far are reported together with those the builder and provisioner readers find.
  const lowered = lowerBuilds(blocks.build, sources, scope, load);

  return buildSpecsFromTemplate(
    {
      template: { builders: lowered.builders, provisioners: lowered.provisioners, 'post-processors': lowered.postProcessors },
      bare: false,
      templateDir,
      templateHash,
      problems: load.problems,
      warnings: load.warnings,
      sensitiveValues,
      provisionerIndex: (i) => lowered.positions[i] ?? i,
      postProcessorIndex: (i) => lowered.postProcessorPositions[i] ?? i,
      locate: (keyPath) => {
        for (let p = keyPath; p !== ''; p = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '')) {
          const range = lowered.ranges.get(p);
          if (range) return load.location(range);
          if (!/(\.[^.[\]]*|\[\d+\])$/.test(p)) break;
        }
        return undefined;
      },
    },
    // Variables are HCL's: the JSON reader has none to set.
    { ...options, vars: {}, varFiles: [] },
    evaluation,
  );
}

/** `kiln validate -syntax-only` of an HCL2 template: its files parse and hold only a template's top-level blocks (a TemplateError says where not). */
export async function checkHclSyntax(path: string): Promise<void> {
  const { load, parsed } = await readHclFiles(path, {});
  topLevelBlocks(parsed, load);
  if (load.problems.count) throw new TemplateError(load.problems.list);
}

/**
 * The template's files read, its top-level blocks checked, variables and locals evaluated: what the
 * builds are evaluated in, and what `kiln console` and `kiln inspect` look at.
 */
export async function evaluateHcl(path: string, options: LoadTemplateOptions) {
  const env = options.env ?? process.env;
  const evaluation = newEvaluation(options);
  const { cwd, load, templateDir, varFiles, texts, templateHash, parsed } = await readHclFiles(path, options);

  const blocks = topLevelBlocks(parsed, load);
  for (const block of blocks.packer) checkPackerBlock(block, load);
  const structureProblems = load.problems.count;

  const baseFunctions = hclFunctions({ initTime: new Date(evaluation.initTime), uuid: evaluation.uuid, cwd: templateDir });
  const defaultFunctions = hclFunctions({ initTime: new Date(evaluation.initTime), uuid: `${evaluation.uuid}/defaults`, cwd: templateDir, env });
  const constants = new Map<string, Value>([
    ['path', { cwd, root: templateDir }],
    ['packer', { version: PACKER_HCL_VERSION }],
  ]);

  // Variables (values by Packer's precedence, then validated), then the locals they feed.
  const { scope: varScope, sensitiveValues, variables } = evaluateVariables(
    blocks,
    { env, varFiles, texts, vars: options.vars ?? {} },
    load,
    constants,
    { defaults: defaultFunctions, values: baseFunctions },
  );

  const localObject = evaluateLocals(blocks.locals, blocks.local, varScope, load);
  const scope: Scope = { variables: new Map([...varScope.variables, ['local', localObject]]), functions: baseFunctions, unavailable: new Map([['source', 'source.name and source.type exist only inside source and build blocks']]) };

  // Values that failed are reported once: the builds are not evaluated with them.
  if (load.problems.count > structureProblems) throw new TemplateError(load.problems.list.map((p) => redactProblem(p, sensitiveValues)));
  return {
    load,
    blocks: { ...blocks, firstRange: parsed[0]!.body.range },
    scope,
    templateDir,
    templateHash,
    sensitiveValues,
    evaluation,
    variables,
    locals: localObject,
  };
}
