// HCL2 templates (Packer's `.pkr.hcl`): files or a directory → variables (types, validation,
// sensitive; Packer's precedence), locals (in dependency order), sources and builds, lowered
// into the JSON template shape that `buildSpecsFromTemplate` reads. So an HCL2 build goes
// through the same builder and provisioner readers as a JSON one, and nothing after this
// module knows which language the template was written in. Every problem carries file:line:col.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { TemplateError } from './errors.js';
import { buildSpecsFromTemplate, newEvaluation, type LoadedTemplate, type LoadTemplateOptions } from './load.js';
import { redactProblem } from './redact.js';
import { didYouMean } from './suggest.js';
import type { Attribute, Block, Expr } from './hcl/ast.js';
import { references } from './hcl/ast.js';
import type { Range } from './hcl/lexer.js';
import { HclSyntaxError, parseExpression, parseFile, type ParsedFile } from './hcl/parser.js';
import { evaluate, HclEvalError, type Scope } from './hcl/eval.js';
import { hclFunctions } from './hcl/functions.js';
import { parseJsonFile } from './hcl/json.js';
import { collectSources, lowerBuilds } from './hcl/lower.js';
import { attributes, checkSchema, HclReporter } from './hcl/report.js';
import { convert, ConversionError, isObjectValue, typeFromExpr, typeName, type Type, type Value } from './hcl/value.js';

/** The Packer version whose HCL2 semantics kiln follows (`packer.version`). */
export const PACKER_HCL_VERSION = '1.6.6';

const TOP_LEVEL_BLOCKS = ['packer', 'source', 'variable', 'variables', 'locals', 'local', 'build'];
const REFUSED_TOP_LEVEL: Record<string, string> = {
  data: 'data sources are not supported by kiln: compute the value outside and pass it with -var',
  hcp_packer_registry: 'kiln does not publish to HCP Packer',
};
/** The plugin sources whose scaleway builder kiln is (`required_plugins { scaleway = { source = … } }`). */
export const SCALEWAY_PLUGIN_SOURCES = ['github.com/scaleway/scaleway', 'github.com/hashicorp/scaleway'];

interface VariableDecl {
  name: string;
  block: Block | undefined;
  range: Range;
  type: Type;
  default?: Value;
  sensitive: boolean;
  description?: string;
  validations: Array<{ condition: Expr; message: string; range: Range }>;
  /** Where the variable's current value was written (its default, a var file), for validation errors. */
  valueRange?: Range;
  /** The command-line or environment origin of the value, when it was not written in a file. */
  valueOrigin?: string | undefined;
  /** The default was reported as wrong: do not report the variable as unset too. */
  invalidDefault?: boolean;
}

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

/**
 * The files of an HCL2 template as Packer finds them (a directory is read non-recursively, HCL
 * files before JSON ones; auto var files, then -var-file ones), read and parsed. Syntax errors are
 * reported with their file:line:col; this is all `kiln validate -syntax-only` checks.
 */
export async function readHclFiles(path: string, options: LoadTemplateOptions) {
  const cwd = process.cwd();
  const root = resolve(path);
  const load = new HclReporter(cwd);
  const fail = (message: string, hint?: string): never => {
    throw new TemplateError([{ path, message, ...(hint ? { hint } : {}) }]);
  };

  let info;
  try {
    info = await stat(root);
  } catch {
    return fail('the template does not exist', 'give a .pkr.hcl file or a directory of them');
  }
  const templateDir = info.isDirectory() ? root : dirname(root);
  let templateFiles: string[];
  let autoVarFiles: string[] = [];
  if (info.isDirectory()) {
    const names = (await readdir(root)).sort();
    templateFiles = [...names.filter((n) => n.endsWith('.pkr.hcl')), ...names.filter((n) => n.endsWith('.pkr.json'))].map((n) => join(root, n));
    autoVarFiles = [...names.filter((n) => n.endsWith('.auto.pkrvars.hcl')), ...names.filter((n) => n.endsWith('.auto.pkrvars.json'))].map((n) => join(root, n));
    if (templateFiles.length === 0) fail('the directory has no .pkr.hcl or .pkr.json file', 'Packer (and kiln) read the *.pkr.hcl files of a directory, not its subdirectories');
  } else templateFiles = [root];
  const varFiles = [...autoVarFiles, ...(options.varFiles ?? []).map((f) => resolve(f))];

  // Every file read goes into the template hash, so resume notices a change in any of them.
  const hash = createHash('sha256');
  const texts = new Map<string, string>();
  for (const file of [...templateFiles, ...varFiles]) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      load.problems.add(file, code === 'ENOENT' ? 'the file does not exist' : `cannot read the file: ${code ?? (error as Error).message}`);
      continue;
    }
    texts.set(file, text);
    load.addSource(file, text);
    hash.update(`${file.startsWith(templateDir) ? relative(templateDir, file) : file}\u0000${text}\u0000`);
  }
  if (load.problems.count) throw new TemplateError(load.problems.list);
  const templateHash = hash.digest('hex');

  const parsed: ParsedFile[] = [];
  for (const file of templateFiles) {
    const result = parseAny(file, texts.get(file)!, load);
    if (result) parsed.push(result);
  }
  if (load.problems.count) throw new TemplateError(load.problems.list);
  return { cwd, load, templateDir, varFiles, texts, templateHash, parsed };
}

/** `kiln validate -syntax-only` of an HCL2 template: its files parse and hold only a template's top-level blocks (a TemplateError says where not). */
export async function checkHclSyntax(path: string): Promise<void> {
  const { load, parsed } = await readHclFiles(path, {});
  topLevelBlocks(parsed, load);
  if (load.problems.count) throw new TemplateError(load.problems.list);
}

/** The top-level blocks of the parsed files, by type; arguments and unknown blocks are reported (as Packer's parser does). */
export function topLevelBlocks(parsed: ParsedFile[], load: HclReporter) {
  const blocks = { variable: [] as Block[], variables: [] as Block[], locals: [] as Block[], local: [] as Block[], source: [] as Block[], build: [] as Block[], packer: [] as Block[] };
  for (const file of parsed) {
    for (const item of file.body.items) {
      if (item.kind === 'attribute') {
        load.report({ summary: 'Unsupported argument', detail: `An argument named "${item.name}" is not expected here.`, range: item.nameRange, hint: 'arguments belong inside a source, build, variable or locals block' });
        continue;
      }
      if (REFUSED_TOP_LEVEL[item.type]) {
        load.report({ summary: `Unsupported block type`, detail: `Blocks of type "${item.type}" are not supported by kiln.`, range: item.typeRange, hint: REFUSED_TOP_LEVEL[item.type]! });
        continue;
      }
      if (!TOP_LEVEL_BLOCKS.includes(item.type)) {
        load.report({ summary: 'Unsupported block type', detail: `Blocks of type "${item.type}" are not expected here.`, range: item.typeRange, hint: didYouMean(item.type, TOP_LEVEL_BLOCKS) ?? `a template has ${TOP_LEVEL_BLOCKS.join(', ')} blocks` });
        continue;
      }
      blocks[item.type as keyof typeof blocks].push(item);
    }
  }
  return blocks;
}


/** Reads an HCL2 template and evaluates its variables and locals: what `kiln console` and `kiln inspect` look at. */
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

  // Variables: declarations, then values by precedence, then validation.
  const declared = declareVariables(blocks.variable, blocks.variables, load, { variables: new Map(constants), functions: defaultFunctions });
  const values = new Map<string, Value>();
  for (const decl of declared.values()) if (decl.default !== undefined) values.set(decl.name, decl.default);
  assignVariableValues(declared, values, { env, varFiles, texts, vars: options.vars ?? {} }, load, { variables: new Map(constants), functions: baseFunctions });
  for (const decl of declared.values()) {
    if (!values.has(decl.name) && !decl.invalidDefault) {
      load.report({ summary: `Unset variable "${decl.name}"`, detail: 'A used variable must be set or have a default value.', range: decl.range, hint: `pass -var ${decl.name}=VALUE, set PKR_VAR_${decl.name}, or add it to a .pkrvars.hcl file` });
    }
  }
  const varObject: Record<string, Value> = Object.fromEntries([...declared.keys()].map((name) => [name, values.get(name) ?? null]));
  const sensitiveValues = [...declared.values()].filter((d) => d.sensitive).flatMap((d) => leafStrings(values.get(d.name) ?? null));
  const varScope: Scope = { variables: new Map([...constants, ['var', varObject]]), functions: baseFunctions };
  if (load.problems.count === 0) for (const decl of declared.values()) validateVariable(decl, varScope, load);

  const localObject = evaluateLocals(blocks.locals, blocks.local, varScope, load);
  const scope: Scope = { variables: new Map([...varScope.variables, ['local', localObject]]), functions: baseFunctions, unavailable: new Map([['source', 'source.name and source.type exist only inside source and build blocks']]) };

  // Values that failed are reported once: the builds are not evaluated with them.
  if (load.problems.count > structureProblems) throw new TemplateError(load.problems.list.map((p) => redactProblem(p, sensitiveValues)));
  const variables = Object.fromEntries([...declared.values()].map((d) => [d.name, { value: values.get(d.name) ?? null, sensitive: d.sensitive }]));
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


function parseAny(file: string, text: string, load: HclReporter, varFile = false): ParsedFile | undefined {
  try {
    return file.endsWith('.json') ? parseJsonFile(text, file, { varFile }) : parseFile(text, file);
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    load.report(error.diagnostic);
    return undefined;
  }
}

function checkPackerBlock(block: Block, load: HclReporter): void {
  checkSchema(block.body, load, { attributes: ['required_version'], blocks: ['required_plugins'] }, 'the packer block');
  for (const item of block.body.items) {
    if (item.kind !== 'block' || item.type !== 'required_plugins') continue;
    for (const plugin of item.body.items) {
      if (plugin.kind !== 'attribute') continue;
      if (plugin.name !== 'scaleway') {
        load.report({ summary: 'Unsupported plugin', detail: `kiln builds with its own Scaleway builder and has no "${plugin.name}" plugin.`, range: plugin.nameRange, hint: 'remove this required_plugins entry' });
        continue;
      }
      const value = plugin.expr.kind === 'object' ? plugin.expr.items.find((i) => i.key.kind === 'variable' && i.key.name === 'source') : undefined;
      const source = value?.value.kind === 'literal' ? String(value.value.value) : undefined;
      if (source && !SCALEWAY_PLUGIN_SOURCES.includes(source.toLowerCase())) {
        load.warnings.push(`${load.location(plugin.range).file}: required_plugins asks for scaleway from "${source}"; kiln uses its own Scaleway builder`);
      }
    }
  }
}

function declareVariables(variableBlocks: Block[], variablesBlocks: Block[], load: HclReporter, defaultScope: Scope): Map<string, VariableDecl> {
  const declared = new Map<string, VariableDecl>();
  const declare = (decl: VariableDecl): void => {
    const previous = declared.get(decl.name);
    if (previous) {
      load.report({ summary: 'Duplicate variable', detail: `Duplicate ${decl.name} variable definition found (first at line ${previous.range.start.line}).`, range: decl.range });
      return;
    }
    declared.set(decl.name, decl);
  };
  // Defaults are constants and env() only: no var, no local (Packer's rule).
  const defaultValue = (expr: Expr): Value | undefined => {
    const refs = references(expr).filter((r) => r.root === 'var' || r.root === 'local');
    if (refs.length) {
      load.report({ summary: 'Variables not allowed', detail: 'Variables may not be used here.', range: refs[0]!.range, hint: 'a default is a constant (env("NAME") is allowed); compute derived values in locals' });
      return undefined;
    }
    return load.tryEvaluate(expr, defaultScope);
  };
  for (const block of variableBlocks) {
    if (block.labels.length !== 1) {
      load.report({ summary: 'Missing name for variable', detail: 'All variable blocks must have 1 label (the name).', range: block.typeRange, hint: 'write variable "name" { … }' });
      continue;
    }
    const name = block.labels[0]!;
    checkSchema(block.body, load, { attributes: ['type', 'default', 'description', 'sensitive'], blocks: ['validation'] }, 'a variable block');
    const attrs = attributes(block.body);
    let type: Type = { kind: 'any' };
    const typeAttr = attrs.get('type');
    if (typeAttr) {
      const parsedType = typeFromExpr(typeAttr.expr);
      if (typeof parsedType === 'string') load.report({ summary: 'Invalid type specification', detail: parsedType, range: typeAttr.expr.range, hint: 'for example string, number, bool, list(string), map(string)' });
      else type = parsedType;
    }
    let defaultValueOf: Value | undefined;
    let invalidDefault = false;
    const defaultAttr = attrs.get('default');
    if (defaultAttr) {
      const raw = defaultValue(defaultAttr.expr);
      invalidDefault = raw === undefined;
      if (raw !== undefined) {
        try {
          defaultValueOf = convert(raw, type);
        } catch (error) {
          if (!(error instanceof ConversionError)) throw error;
          invalidDefault = true;
          load.report({ summary: 'Invalid default value for variable', detail: `This default value is not compatible with the variable's type constraint: ${error.message}.`, range: defaultAttr.expr.range, hint: `the type is ${typeName(type)}` });
        }
      }
    }
    const sensitiveAttr = attrs.get('sensitive');
    const sensitive = sensitiveAttr ? load.tryEvaluate(sensitiveAttr.expr, defaultScope) === true : false;
    const descriptionAttr = attrs.get('description');
    const description = descriptionAttr ? load.tryEvaluate(descriptionAttr.expr, defaultScope) : undefined;
    const validations: VariableDecl['validations'] = [];
    for (const item of block.body.items) {
      if (item.kind !== 'block' || item.type !== 'validation') continue;
      checkSchema(item.body, load, { attributes: ['condition', 'error_message'], blocks: [] }, 'a validation block');
      const v = attributes(item.body);
      const condition = v.get('condition');
      const messageAttr = v.get('error_message');
      if (!condition || !messageAttr) {
        load.report({ summary: 'Missing required argument', detail: `The argument "${condition ? 'error_message' : 'condition'}" is required, but no definition was found.`, range: item.typeRange });
        continue;
      }
      if (!references(condition.expr).some((r) => r.root === 'var' && r.attr === name)) {
        load.report({ summary: 'Invalid variable validation condition', detail: `The condition for variable "${name}" must refer to var.${name} in order to test incoming values.`, range: condition.expr.range });
      }
      const message = load.tryEvaluate(messageAttr.expr, defaultScope);
      if (typeof message === 'string' && !looksLikeSentence(message)) {
        load.report({ summary: 'Invalid validation error message', detail: 'Validation error message must be at least one full English sentence starting with an uppercase letter and ending with a period or question mark.', range: messageAttr.expr.range, hint: `for example "${name} must be …."` });
      }
      validations.push({ condition: condition.expr, message: typeof message === 'string' ? message : '', range: condition.expr.range });
    }
    declare({
      name,
      block,
      range: block.labelRanges[0] ?? block.range,
      type,
      ...(defaultValueOf !== undefined ? { default: defaultValueOf } : {}),
      sensitive,
      ...(typeof description === 'string' ? { description } : {}),
      validations,
      invalidDefault,
      ...(defaultAttr ? { valueRange: defaultAttr.expr.range } : {}),
    });
  }
  for (const block of variablesBlocks) {
    for (const item of block.body.items) {
      if (item.kind === 'block') {
        load.report({ summary: 'Unsupported block type', detail: `Blocks of type "${item.type}" are not expected here.`, range: item.typeRange, hint: 'a variables block holds name = default lines' });
        continue;
      }
      const value = defaultValue(item.expr);
      declare({ name: item.name, block: undefined, range: item.nameRange, type: { kind: 'any' }, ...(value !== undefined ? { default: value } : {}), sensitive: false, validations: [] });
    }
  }
  return declared;
}

// Packer's check of validation messages (types.variables.go looksLikeSentences).
function looksLikeSentence(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.length < 1) return false;
  const first = trimmed[0]!;
  const last = trimmed[trimmed.length - 1]!;
  return first === first.toUpperCase() && first !== first.toLowerCase() && ['.', '?', '!'].includes(last);
}

interface ValueInputs {
  env: Readonly<Record<string, string | undefined>>;
  varFiles: string[];
  texts: Map<string, string>;
  vars: Readonly<Record<string, string>>;
}

// Precedence (later wins): default < PKR_VAR_name < *.auto.pkrvars (lexical) < -var-file (in
// order) < -var, whatever the order of -var and -var-file on the command line (as Packer does).
function assignVariableValues(declared: Map<string, VariableDecl>, values: Map<string, Value>, inputs: ValueInputs, load: HclReporter, scope: Scope): void {
  const set = (decl: VariableDecl, raw: Value, range: Range | undefined, origin: string): void => {
    try {
      values.set(decl.name, convert(raw, decl.type));
      decl.valueOrigin = range ? undefined : origin;
      if (range) decl.valueRange = range;
    } catch (error) {
      if (!(error instanceof ConversionError)) throw error;
      const detail = `The value for variable "${decl.name}" from ${origin} is not compatible with its type constraint: ${error.message}.`;
      if (range) load.report({ summary: 'Invalid value for variable', detail, range, hint: `the type is ${typeName(decl.type)}` });
      else load.problems.add(origin, `Invalid value for variable: ${detail}`, `the type is ${typeName(decl.type)}`);
    }
  };
  // Environment and -var values are text: the literal string for string, number and untyped
  // variables, an HCL expression for the others.
  const fromText = (decl: VariableDecl, text: string, origin: string): void => {
    if (['string', 'number', 'any', 'bool'].includes(decl.type.kind)) {
      set(decl, text, undefined, origin);
      return;
    }
    try {
      const value = evaluate(parseExpression(text, origin), scope);
      set(decl, value, undefined, origin);
    } catch (error) {
      if (!(error instanceof HclSyntaxError) && !(error instanceof HclEvalError)) throw error;
      load.problems.add(origin, `Invalid value for variable "${decl.name}": ${error.diagnostic.summary}: ${error.diagnostic.detail}`, `write an HCL ${typeName(decl.type)} value, e.g. -var '${decl.name}=["a","b"]'`);
    }
  };
  for (const [key, text] of Object.entries(inputs.env)) {
    if (!key.startsWith('PKR_VAR_') || text === undefined) continue;
    const decl = declared.get(key.slice('PKR_VAR_'.length));
    if (decl) fromText(decl, text, `environment variable ${key}`);
  }
  for (const file of inputs.varFiles) {
    const text = inputs.texts.get(file);
    if (text === undefined) continue;
    const parsed = parseAny(file, text, load, true);
    if (!parsed) continue;
    for (const item of parsed.body.items) {
      if (item.kind === 'block') {
        load.report({ summary: 'Unexpected block', detail: `Blocks are not allowed here; a variables file holds name = value lines.`, range: item.typeRange });
        continue;
      }
      const decl = declared.get(item.name);
      if (!decl) {
        const hint = didYouMean(item.name, declared.keys());
        load.warnings.push(`${load.location(item.nameRange).file}:${item.nameRange.start.line}: a value is given for "${item.name}", which the template does not declare; it is ignored${hint ? ` (${hint})` : ''}`);
        continue;
      }
      const value = load.tryEvaluate(item.expr, scope);
      if (value !== undefined) set(decl, value, item.expr.range, basename(file));
    }
  }
  for (const [name, text] of Object.entries(inputs.vars)) {
    const decl = declared.get(name);
    if (!decl) {
      load.problems.add(`-var ${name}`, `Undefined -var variable: a "${name}" variable was passed in the command line but was not found in known variables.`, didYouMean(name, declared.keys()) ?? 'declare it with variable "NAME" {} in the template');
      continue;
    }
    fromText(decl, text, `-var ${name}`);
  }
}

function validateVariable(decl: VariableDecl, scope: Scope, load: HclReporter): void {
  for (const validation of decl.validations) {
    const ok = load.tryEvaluate(validation.condition, scope);
    if (ok === undefined || ok === true || ok === 'true') continue;
    // Reported where the value was given (as Packer does), with the template's own message.
    const message = validation.message || 'The value does not pass its validation condition.';
    const hint = `this is the validation of variable "${decl.name}" (line ${validation.range.start.line})`;
    if (decl.valueOrigin) load.problems.add(decl.valueOrigin, `Invalid value for variable: ${message}`, hint);
    else {
      const fromDefault = decl.valueRange === undefined || decl.block?.body.items.some((i) => i.kind === 'attribute' && i.name === 'default' && i.expr.range === decl.valueRange);
      load.report({ summary: fromDefault ? 'Invalid value for default variable' : 'Invalid value for variable', detail: message, range: decl.valueRange ?? validation.range, hint });
    }
  }
}

// Locals may use each other in any order: each is evaluated after those it refers to; a loop is an error.
function evaluateLocals(localsBlocks: Block[], localBlocks: Block[], scope: Scope, load: HclReporter): Record<string, Value> {
  const definitions = new Map<string, Attribute>();
  const define = (attr: Attribute): void => {
    const previous = definitions.get(attr.name);
    if (previous) load.report({ summary: 'Duplicate local value definition', detail: `A local value named "${attr.name}" was already defined at line ${previous.range.start.line}. Local value names must be unique.`, range: attr.nameRange });
    else definitions.set(attr.name, attr);
  };
  for (const block of localsBlocks) {
    for (const item of block.body.items) {
      if (item.kind === 'attribute') define(item);
      else load.report({ summary: 'Unsupported block type', detail: `Blocks of type "${item.type}" are not expected here.`, range: item.typeRange });
    }
  }
  for (const block of localBlocks) {
    checkSchema(block.body, load, { attributes: ['expression', 'sensitive'], blocks: [] }, 'a local block');
    const expression = attributes(block.body).get('expression');
    if (block.labels.length !== 1 || !expression) {
      load.report({ summary: 'Invalid local block', detail: 'A local block has one label (the name) and an expression argument.', range: block.typeRange, hint: 'write local "name" { expression = … }' });
      continue;
    }
    define({ ...expression, name: block.labels[0]!, nameRange: block.labelRanges[0]! });
  }
  const values: Record<string, Value> = {};
  const failed = new Set<string>();
  const visiting: string[] = [];
  const localScope: Scope = { ...scope, variables: new Map([...scope.variables, ['local', values]]) };
  // `via` is the reference that led here: a cycle is reported where it closes (as Packer's first error is).
  const visit = (name: string, via?: Range): void => {
    if (name in values || failed.has(name)) return;
    const attr = definitions.get(name);
    if (!attr) return; // reported as "Unsupported attribute" when evaluated
    if (visiting.includes(name)) {
      const cycle = [...visiting.slice(visiting.indexOf(name)), name];
      load.report({ summary: 'Local values refer to each other in a cycle', detail: cycle.map((n) => `local.${n}`).join(' → '), range: via ?? attr.nameRange, hint: 'break the cycle by giving one of them a value that does not depend on the others' });
      for (const n of cycle) failed.add(n);
      return;
    }
    visiting.push(name);
    for (const ref of references(attr.expr)) if (ref.root === 'local' && ref.attr !== undefined) visit(ref.attr, ref.range);
    visiting.pop();
    if (failed.has(name)) return;
    const value = load.tryEvaluate(attr.expr, localScope);
    if (value === undefined) failed.add(name);
    else values[name] = value;
  };
  for (const name of definitions.keys()) visit(name);
  return values;
}

function leafStrings(value: Value): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.flatMap(leafStrings);
  if (isObjectValue(value)) return Object.values(value).flatMap(leafStrings);
  const text = typeof value === 'number' ? String(value) : typeof value === 'boolean' ? '' : value;
  return text === '' ? [] : [text];
}

