// HCL values as plain JavaScript data (a small subset of go-cty): null, string, number, bool,
// lists (JS arrays) and objects/maps (plain objects), plus type constraints and the
// conversions Packer applies (`"true"` is a bool where a bool is wanted, 22 a string where a
// string is).
import type { Expr } from './ast.js';

export type Value = null | string | number | boolean | Value[] | { [key: string]: Value };

export type Type =
  | { kind: 'string' | 'number' | 'bool' | 'any' }
  | { kind: 'list' | 'set' | 'map'; element: Type }
  | { kind: 'object'; attributes: Record<string, Type> }
  | { kind: 'tuple'; elements: Type[] };

export function isObjectValue(value: Value): value is { [key: string]: Value } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value does not fit a type; the message is cty's ("a number is required"). */
export class ConversionError extends Error {}

/** cty's names for types in messages: "string", "list of string", "map of number". */
export function typeName(type: Type): string {
  switch (type.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind} of ${typeName(type.element)}`;
    case 'object':
      return 'object';
    case 'tuple':
      return 'tuple';
    case 'any':
      return 'any type';
    default:
      return type.kind;
  }
}

/** How a value is named in messages: "string", "number", "tuple", "object", "null". */
export function describeValue(value: Value): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'tuple';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64) for the numbers templates use. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  const text = String(n);
  if (!/e/.test(text)) return text;
  return n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
}

export function convert(value: Value, type: Type, path = ''): Value {
  const where = path ? `${path}: ` : '';
  if (value === null || type.kind === 'any') return value;
  switch (type.kind) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return formatNumber(value);
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      throw new ConversionError(`${where}string required`);
    case 'number':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
      throw new ConversionError(`${where}a number is required`);
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw new ConversionError(`${where}a bool is required`);
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) throw new ConversionError(`${where}${type.kind} of ${typeName(type.element)} required`);
      const items = value.map((item, i) => convert(item, type.element, `${path}[${i}]`.replace(/^\[/, 'element [')));
      if (type.kind === 'list') return items;
      const seen = new Map<string, Value>();
      for (const item of items) seen.set(JSON.stringify(item), item);
      return [...seen.values()].sort((a, b) => (typeof a === 'string' && typeof b === 'string' ? (a < b ? -1 : a > b ? 1 : 0) : 0));
    }
    case 'map': {
      if (!isObjectValue(value)) throw new ConversionError(`${where}map of ${typeName(type.element)} required`);
      const out: Record<string, Value> = {};
      for (const key of Object.keys(value).sort()) out[key] = convert(value[key]!, type.element, path ? `${path}["${key}"]` : `element "${key}"`);
      return out;
    }
    case 'object': {
      if (!isObjectValue(value)) throw new ConversionError(`${where}object required`);
      const out: Record<string, Value> = {};
      for (const [key, attributeType] of Object.entries(type.attributes)) {
        if (!(key in value)) throw new ConversionError(`${where}attribute "${key}" is required`);
        out[key] = convert(value[key]!, attributeType, path ? `${path}.${key}` : `attribute "${key}"`);
      }
      return out;
    }
    case 'tuple': {
      if (!Array.isArray(value)) throw new ConversionError(`${where}tuple required`);
      if (value.length !== type.elements.length) throw new ConversionError(`${where}tuple required with ${type.elements.length} elements`);
      return value.map((item, i) => convert(item, type.elements[i]!, `element [${i}]`));
    }
  }
}

/** Reads a type constraint expression: `string`, `list(string)`, `map(object({a=number}))`. */
export function typeFromExpr(expr: Expr): Type | string {
  if (expr.kind === 'variable') {
    if (['string', 'number', 'bool', 'any'].includes(expr.name)) return { kind: expr.name as 'string' };
    if (['list', 'set', 'map'].includes(expr.name)) return { kind: expr.name as 'list', element: { kind: 'any' } };
    return `The keyword "${expr.name}" is not a valid type specification.`;
  }
  if (expr.kind === 'call') {
    const arg = expr.args[0];
    if (expr.args.length !== 1 || !arg) return `The ${expr.name} type constructor requires one argument specifying the element type.`;
    if (['list', 'set', 'map'].includes(expr.name)) {
      const element = typeFromExpr(arg);
      return typeof element === 'string' ? element : { kind: expr.name as 'list', element };
    }
    if (expr.name === 'object') {
      if (arg.kind !== 'object') return 'Object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types.';
      const attributes: Record<string, Type> = {};
      for (const item of arg.items) {
        const key = item.key.kind === 'variable' ? item.key.name : item.key.kind === 'literal' ? String(item.key.value) : undefined;
        if (key === undefined) return 'Object constructor map keys must be attribute names.';
        const type = typeFromExpr(item.value);
        if (typeof type === 'string') return type;
        attributes[key] = type;
      }
      return { kind: 'object', attributes };
    }
    if (expr.name === 'tuple') {
      if (arg.kind !== 'tuple') return 'The tuple type constructor requires a list of element types.';
      const elements: Type[] = [];
      for (const item of arg.items) {
        const type = typeFromExpr(item);
        if (typeof type === 'string') return type;
        elements.push(type);
      }
      return { kind: 'tuple', elements };
    }
    return `Keyword "${expr.name}" is not a valid type constructor.`;
  }
  return 'A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).';
}

/** A value as `packer console` prints it: `"a"`, `1`, `["a","b"]`, `{"k"="v"}`. */
export function renderValue(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(renderValue).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}=${renderValue(value[key]!)}`)
    .join(',')}}`;
}

/** Structural equality, as HCL's `==`. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => valuesEqual(item, b[i]!));
  if (isObjectValue(a) && isObjectValue(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && valuesEqual(a[key]!, b[key]!));
  }
  return false;
}

/** A value as `packer console` and `packer inspect` print it: strings bare at the top level,
 *  tuples and objects over several lines with two-space indentation. */
export function renderMultiline(value: Value, depth = 0): string {
  const pad = '  '.repeat(depth + 1);
  const close = '  '.repeat(depth);
  if (typeof value === 'string') return depth === 0 ? value : JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${pad}${renderMultiline(item, depth + 1)},\n`).join('')}${close}]`;
  }
  if (isObjectValue(value)) {
    const keys = Object.keys(value).sort();
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((key) => `${pad}${JSON.stringify(key)} = ${renderMultiline(value[key]!, depth + 1)}\n`).join('')}${close}}`;
  }
  return renderValue(value);
}
