// Evaluates HCL expressions over a scope of named values (var, local, source, path, packer,
// build) and a function table. Problems are thrown as HclEvalError with the range of the
// offending sub-expression and hclsyntax's summary ("Unsupported attribute", "Invalid index", …).
import type { Expr, TemplatePart } from './ast.js';
import type { Diagnostic, Range } from './lexer.js';
import { convert, ConversionError, describeValue, isObjectValue, valuesEqual, type Value } from './value.js';
import { closest } from '../suggest.js';

export class HclEvalError extends Error {
  constructor(readonly diagnostic: Diagnostic & { hint?: string }) {
    super(`${diagnostic.summary}: ${diagnostic.detail}`);
  }
}

/** What a parameter takes: its argument is converted to it before the call (`any`: as it is). */
export type ParamType = 'string' | 'number' | 'bool' | 'list' | 'map' | 'any';

export interface FunctionParam {
  /** go-cty's name for it, which messages use. */
  name: string;
  type: ParamType;
}

export interface HclFunction {
  /** Fixed parameters; `variadic` takes any number more. */
  params: FunctionParam[];
  variadic?: FunctionParam;
  /** Minimum arguments when fewer than `params` are allowed (optional trailing parameters). */
  minArgs?: number;
  call(args: Value[], range: Range): Value;
}

export interface Scope {
  /** Root names: `var`, `local`, `source`, … and, inside for expressions, the loop variables. */
  variables: Map<string, Value>;
  functions: ReadonlyMap<string, HclFunction>;
  /** Names whose attributes are not known yet (e.g. `build` before provisioning): the hint says when they are. */
  unavailable?: ReadonlyMap<string, string>;
}

export function evalError(summary: string, detail: string, range: Range, hint?: string): HclEvalError {
  return new HclEvalError({ summary, detail, range, ...(hint ? { hint } : {}) });
}

export function evaluate(expr: Expr, scope: Scope, splatItem?: Value): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'paren':
      return evaluate(expr.expr, scope, splatItem);
    case 'template':
      // "${x}" alone is x itself, not its string form (HCL's template unwrapping).
      if (expr.parts.length === 1 && expr.parts[0]!.kind === 'interp') return evaluate(expr.parts[0]!.expr, scope, splatItem);
      return evaluateTemplate(expr.parts, scope);
    case 'variable': {
      if (scope.variables.has(expr.name)) return scope.variables.get(expr.name)!;
      const unavailable = scope.unavailable?.get(expr.name);
      if (unavailable) throw evalError('Unknown variable', `"${expr.name}" has no value here: ${unavailable}`, expr.range);
      const guess = closest(expr.name, scope.variables.keys());
      throw evalError('Unknown variable', `There is no variable named "${expr.name}".`, expr.range, guess ? `did you mean "${guess}"?` : undefined);
    }
    case 'splatItem':
      return splatItem ?? null;
    case 'traverse': {
      const object = evaluate(expr.object, scope, splatItem);
      if (expr.step.kind === 'attr') return getAttr(object, expr.step.name, expr.step.range);
      const key = evaluate(expr.step.key, scope, splatItem);
      return index(object, key, expr.step.range);
    }
    case 'splat': {
      const object = evaluate(expr.object, scope, splatItem);
      if (object === null) return [];
      const items = Array.isArray(object) ? object : [object];
      return items.map((item) => evaluate(expr.each, scope, item));
    }
    case 'call':
      return callFunction(expr, scope, splatItem);
    case 'tuple':
      return expr.items.map((item) => evaluate(item, scope, splatItem));
    case 'object': {
      const out: Record<string, Value> = {};
      for (const item of expr.items) {
        // A bare name as a key is the name itself (HCL); write (name) to use a variable.
        const keyValue = item.key.kind === 'variable' ? item.key.name : evaluate(item.key, scope, splatItem);
        const key = asString(keyValue, item.key.range, 'Incorrect key type', 'Can\'t use this value as a key');
        out[key] = evaluate(item.value, scope, splatItem);
      }
      return out;
    }
    case 'unary': {
      const operand = evaluate(expr.operand, scope, splatItem);
      if (expr.op === '!') return !asBool(operand, expr.operand.range, 'Invalid operand', 'Unsuitable value for unary operand');
      return -asNumber(operand, expr.operand.range, 'Invalid operand', 'Unsuitable value for unary operand');
    }
    case 'binary':
      return evaluateBinary(expr, scope, splatItem);
    case 'conditional': {
      const cond = evaluate(expr.cond, scope, splatItem);
      if (cond === null) throw evalError('Null condition', 'The condition value is null. Conditions must either be true or false.', expr.cond.range);
      const chosen = asBool(cond, expr.cond.range, 'Incorrect condition type', 'The condition expression must be of type bool');
      return evaluate(chosen ? expr.then : expr.else, scope, splatItem);
    }
    case 'for':
      return evaluateFor(expr, scope, splatItem);
  }
}

function evaluateBinary(expr: Extract<Expr, { kind: 'binary' }>, scope: Scope, splatItem: Value | undefined): Value {
  const left = evaluate(expr.left, scope, splatItem);
  const right = evaluate(expr.right, scope, splatItem);
  const summary = 'Invalid operand';
  const detail = `Unsuitable value for ${expr.op === '&&' || expr.op === '||' ? 'left' : 'left'} operand`;
  switch (expr.op) {
    case '==':
      return valuesEqual(left, right);
    case '!=':
      return !valuesEqual(left, right);
    case '&&':
      return asBool(left, expr.left.range, summary, detail) && asBool(right, expr.right.range, summary, 'Unsuitable value for right operand');
    case '||':
      return asBool(left, expr.left.range, summary, detail) || asBool(right, expr.right.range, summary, 'Unsuitable value for right operand');
  }
  const a = asNumber(left, expr.left.range, summary, 'Unsuitable value for left operand');
  const b = asNumber(right, expr.right.range, summary, 'Unsuitable value for right operand');
  switch (expr.op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b; // 1/0 is +Inf, as in cty
    case '%':
      if (b === 0) throw evalError('Operation failed', 'Error during operation: can\'t compute modulo of zero.', expr.range);
      return a % b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function evaluateFor(expr: Extract<Expr, { kind: 'for' }>, scope: Scope, splatItem: Value | undefined): Value {
  const collection = evaluate(expr.collection, scope, splatItem);
  if (collection === null) throw evalError('Iteration over null value', 'A null value cannot be used as the collection in a \'for\' expression.', expr.collection.range);
  let entries: Array<[Value, Value]>;
  if (Array.isArray(collection)) entries = collection.map((item, i) => [i, item]);
  else if (isObjectValue(collection)) entries = Object.keys(collection).sort().map((key) => [key, collection[key]!]);
  else throw evalError('Iteration over non-iterable value', `A value of type ${describeValue(collection)} cannot be used as the collection in a 'for' expression.`, expr.collection.range);
  const tupleOut: Value[] = [];
  const objectOut: Record<string, Value> = {};
  const groups: Record<string, Value[]> = {};
  // One scope for the loop, its variables set anew at each element.
  const variables = new Map(scope.variables);
  const inner: Scope = { ...scope, variables };
  for (const [key, value] of entries) {
    if (expr.keyVar !== undefined) variables.set(expr.keyVar, key);
    variables.set(expr.valueVar, value);
    if (expr.cond) {
      const keep = evaluate(expr.cond, inner, splatItem);
      if (!asBool(keep, expr.cond.range, 'Invalid \'for\' condition', 'The \'if\' clause value is invalid')) continue;
    }
    if (!expr.keyExpr) {
      tupleOut.push(evaluate(expr.valueExpr, inner, splatItem));
      continue;
    }
    const resultKey = asString(evaluate(expr.keyExpr, inner, splatItem), expr.keyExpr.range, 'Invalid object key', 'Key expression in \'for\' expression must be a string');
    const resultValue = evaluate(expr.valueExpr, inner, splatItem);
    if (expr.group) (groups[resultKey] ??= []).push(resultValue);
    else {
      if (resultKey in objectOut) {
        throw evalError('Duplicate object key', `Two different items produced the key "${resultKey}" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.`, expr.keyExpr.range);
      }
      objectOut[resultKey] = resultValue;
    }
  }
  if (!expr.keyExpr) return tupleOut;
  return expr.group ? groups : objectOut;
}

export function evaluateTemplate(parts: TemplatePart[], scope: Scope): string {
  let out = '';
  for (const part of parts) {
    switch (part.kind) {
      case 'text':
        out += part.value;
        break;
      case 'interp': {
        const value = evaluate(part.expr, scope);
        if (value === null) throw evalError('Invalid template interpolation value', 'The expression result is null. Cannot include a null value in a string template.', part.expr.range);
        out += asString(value, part.expr.range, 'Invalid template interpolation value', 'Cannot include the given value in a string template');
        break;
      }
      case 'if': {
        const cond = evaluate(part.cond, scope);
        out += evaluateTemplate(asBool(cond, part.cond.range, 'Invalid template if condition', 'The condition of an if directive must be a bool') ? part.then : part.else, scope);
        break;
      }
      case 'for': {
        const collection = evaluate(part.collection, scope);
        const entries: Array<[Value, Value]> = Array.isArray(collection)
          ? collection.map((item, i) => [i, item])
          : isObjectValue(collection)
            ? Object.keys(collection).sort().map((key) => [key, collection[key]!])
            : [];
        if (!Array.isArray(collection) && !isObjectValue(collection)) throw evalError('Invalid template for directive', `A value of type ${describeValue(collection)} cannot be used as the collection in a 'for' directive.`, part.collection.range);
        for (const [key, value] of entries) {
          const variables = new Map(scope.variables);
          if (part.keyVar !== undefined) variables.set(part.keyVar, key);
          variables.set(part.valueVar, value);
          out += evaluateTemplate(part.body, { ...scope, variables });
        }
        break;
      }
    }
  }
  return out;
}

function getAttr(object: Value, name: string, range: Range): Value {
  if (object === null) throw evalError('Attempt to get attribute from null value', 'This value is null, so it does not have any attributes.', range);
  if (isObjectValue(object)) {
    if (name in object) return object[name]!;
    const guess = closest(name, Object.keys(object));
    throw evalError('Unsupported attribute', `This object does not have an attribute named "${name}".`, range, guess ? `did you mean "${guess}"?` : undefined);
  }
  if (Array.isArray(object)) throw evalError('Unsupported attribute', `Can't access attributes on a list of objects. Did you mean to access attribute "${name}" for a specific element of the list, or across all elements of the list?`, range);
  throw evalError('Unsupported attribute', `Can't access attributes on a primitive-typed value (${describeValue(object)}).`, range);
}

function index(object: Value, key: Value, range: Range): Value {
  if (object === null) throw evalError('Attempt to index null value', 'This value is null, so it does not have any indices.', range);
  if (key === null) throw evalError('Invalid index', 'Can\'t use a null value as an indexing key.', range);
  if (Array.isArray(object)) {
    let n: number;
    try {
      n = convert(key, { kind: 'number' }) as number;
    } catch {
      throw evalError('Invalid index', 'The given key does not identify an element in this collection value: a number is required.', range);
    }
    if (!Number.isInteger(n) || n < 0 || n >= object.length) throw evalError('Invalid index', 'The given key does not identify an element in this collection value.', range);
    return object[n]!;
  }
  if (isObjectValue(object)) {
    const name = asString(key, range, 'Invalid index', 'The given key does not identify an element in this collection value');
    if (!(name in object)) throw evalError('Invalid index', 'The given key does not identify an element in this collection value.', range);
    return object[name]!;
  }
  throw evalError('Invalid index', `This value does not have any indices.`, range);
}

// A value converted to a primitive type, or an error naming what was expected.
function asPrimitive<K extends 'string' | 'bool' | 'number'>(kind: K, value: Value, range: Range, summary: string, detail: string): { string: string; bool: boolean; number: number }[K] {
  const required = { string: 'string required', bool: 'a bool is required', number: 'a number is required' }[kind];
  try {
    const converted = convert(value, { kind });
    if (converted === null) throw new ConversionError(required);
    return converted as { string: string; bool: boolean; number: number }[K];
  } catch (error) {
    if (error instanceof ConversionError) throw evalError(summary, `${detail}: ${error.message}.`, range);
    throw error;
  }
}

const asString = (value: Value, range: Range, summary: string, detail: string): string => asPrimitive('string', value, range, summary, detail);
const asBool = (value: Value, range: Range, summary: string, detail: string): boolean => asPrimitive('bool', value, range, summary, detail);
const asNumber = (value: Value, range: Range, summary: string, detail: string): number => asPrimitive('number', value, range, summary, detail);

// can() and try() see their arguments' errors, so they evaluate them themselves.
function callFunction(expr: Extract<Expr, { kind: 'call' }>, scope: Scope, splatItem: Value | undefined): Value {
  if (expr.name === 'try' || expr.name === 'can') {
    if (expr.args.length === 0) throw evalError('Not enough function arguments', `Function "${expr.name}" expects at least 1 argument(s). Missing value for "expressions".`, expr.range);
    if (expr.name === 'can') {
      if (expr.args.length > 1) throw evalError('Too many function arguments', 'Function "can" expects only 1 argument(s).', expr.args[1]!.range);
      try {
        evaluate(expr.args[0]!, scope, splatItem);
        return true;
      } catch (error) {
        if (error instanceof HclEvalError) return false;
        throw error;
      }
    }
    for (const arg of expr.args) {
      try {
        return evaluate(arg, scope, splatItem);
      } catch (error) {
        if (!(error instanceof HclEvalError)) throw error;
      }
    }
    throw evalError('Error in function call', 'Call to function "try" failed: no expression succeeded.', expr.range);
  }
  const fn = scope.functions.get(expr.name);
  if (!fn) {
    const guess = closest(expr.name, scope.functions.keys());
    throw evalError('Call to unknown function', `There is no function named "${expr.name}".`, expr.nameRange, guess ? `did you mean "${guess}"?` : undefined);
  }
  let args = expr.args.map((arg) => evaluate(arg, scope, splatItem));
  if (expr.expandFinal) {
    const last = args.pop();
    if (!Array.isArray(last)) throw evalError('Invalid expanding argument value', 'The expanding argument (indicated by ...) must be of a tuple, list, or set type.', expr.args[expr.args.length - 1]!.range);
    args = [...args, ...last];
  }
  const min = fn.minArgs ?? fn.params.length;
  if (args.length < min) {
    throw evalError('Not enough function arguments', `Function "${expr.name}" expects ${fn.params.length} argument(s). Missing value for "${fn.params[args.length]!.name}".`, expr.range);
  }
  if (args.length > fn.params.length && !fn.variadic) throw evalError('Too many function arguments', `Function "${expr.name}" expects only ${fn.params.length} argument(s).`, expr.args[fn.params.length]?.range ?? expr.range);
  const paramOf = (i: number): FunctionParam => fn.params[i] ?? fn.variadic!;
  const badArgument = (param: string, message: string) => evalError('Invalid function argument', `Invalid value for "${param}" parameter of function "${expr.name}": ${message}.`, expr.range);
  const converted = args.map((arg, i) => {
    const param = paramOf(i);
    if (param.type === 'any') return arg;
    if (arg === null) throw badArgument(param.name, 'argument must not be null');
    try {
      return convertArgument(arg, param.type);
    } catch (error) {
      if (error instanceof ConversionError) throw badArgument(param.name, error.message);
      throw error;
    }
  });
  try {
    return fn.call(converted, expr.range);
  } catch (error) {
    if (error instanceof HclEvalError) throw error;
    if (error instanceof FunctionError && error.param) throw badArgument(error.param, error.message);
    if (error instanceof ConversionError || error instanceof FunctionError) {
      throw evalError('Error in function call', `Call to function "${expr.name}" failed: ${error.message}.`, expr.range);
    }
    throw error;
  }
}

function convertArgument(value: Value, type: Exclude<ParamType, 'any'>): Value {
  if (type === 'list') {
    if (!Array.isArray(value)) throw new ConversionError('list of any single type required');
    return value;
  }
  if (type === 'map') {
    if (!isObjectValue(value)) throw new ConversionError('map of any single type required');
    return value;
  }
  return convert(value, { kind: type });
}

/** A function's own complaint about its arguments, naming the parameter (`param`) when one is to blame; reported at the call. */
export class FunctionError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}
