// HCL2 input variables as Packer 1.6.6 has them: `variable` blocks (type, default, sensitive,
// validation) and legacy `variables` blocks; their values by Packer's precedence; their validation.
// Every problem carries file:line:col (or names the -var / environment variable it came from).
import { basename } from 'node:path';
import { didYouMean } from '../suggest.js';
import type { Block, Expr } from './ast.js';
import { references } from './ast.js';
import { evaluate, HclEvalError, type Scope } from './eval.js';
import { parseAny } from './files.js';
import type { Range } from './lexer.js';
import { HclSyntaxError, parseExpression } from './parser.js';
import { attributes, checkSchema, type HclReporter } from './report.js';
import { convert, ConversionError, isObjectValue, typeFromExpr, typeName, type Type, type Value } from './value.js';

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

export interface EvaluatedVariables {
  /** What expressions after the variables see: the constants given, and `var`. */
  scope: Scope;
  /** Every string in the values of sensitive variables, to hide. */
  sensitiveValues: string[];
  /** Each variable's value, and whether it is sensitive (for `inspect`). */
  variables: Record<string, { value: Value; sensitive: boolean }>;
}

/**
 * Declarations, then values by precedence, then validation (only when nothing else is wrong yet).
 * `defaultFunctions` are those a default may call (env() among them); values see `functions`.
 */
export function evaluateVariables(
  blocks: { variable: Block[]; variables: Block[] },
  inputs: VariableInputs,
  load: HclReporter,
  constants: Map<string, Value>,
  functions: { defaults: Scope['functions']; values: Scope['functions'] },
): EvaluatedVariables {
  const declared = declareVariables(blocks.variable, blocks.variables, load, { variables: new Map(constants), functions: functions.defaults });
  const values = new Map<string, Value>();
  for (const decl of declared.values()) if (decl.default !== undefined) values.set(decl.name, decl.default);
  assignVariableValues(declared, values, inputs, load, { variables: new Map(constants), functions: functions.values });
  for (const decl of declared.values()) {
    if (!values.has(decl.name) && !decl.invalidDefault) {
      load.report({ summary: `Unset variable "${decl.name}"`, detail: 'A used variable must be set or have a default value.', range: decl.range, hint: `pass -var ${decl.name}=VALUE, set PKR_VAR_${decl.name}, or add it to a .pkrvars.hcl file` });
    }
  }
  const varObject: Record<string, Value> = Object.fromEntries([...declared.keys()].map((name) => [name, values.get(name) ?? null]));
  const sensitiveValues = [...declared.values()].filter((d) => d.sensitive).flatMap((d) => leafStrings(values.get(d.name) ?? null));
  const scope: Scope = { variables: new Map([...constants, ['var', varObject]]), functions: functions.values };
  if (load.problems.count === 0) for (const decl of declared.values()) validateVariable(decl, scope, load);
  const variables = Object.fromEntries([...declared.values()].map((d) => [d.name, { value: values.get(d.name) ?? null, sensitive: d.sensitive }]));
  return { scope, sensitiveValues, variables };
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

/** Where values come from besides the declarations' defaults. */
export interface VariableInputs {
  env: Readonly<Record<string, string | undefined>>;
  varFiles: string[];
  texts: Map<string, string>;
  vars: Readonly<Record<string, string>>;
}

// Precedence (later wins): default < PKR_VAR_name < *.auto.pkrvars (lexical) < -var-file (in
// order) < -var, whatever the order of -var and -var-file on the command line (as Packer does).
function assignVariableValues(declared: Map<string, VariableDecl>, values: Map<string, Value>, inputs: VariableInputs, load: HclReporter, scope: Scope): void {
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

function leafStrings(value: Value): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.flatMap(leafStrings);
  if (isObjectValue(value)) return Object.values(value).flatMap(leafStrings);
  const text = typeof value === 'number' ? String(value) : typeof value === 'boolean' ? '' : value;
  return text === '' ? [] : [text];
}
