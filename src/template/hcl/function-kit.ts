// How an HCL function is declared: its parameters by name and type, as go-cty declares them, so
// that a bad argument is reported with the function's name and the parameter's ("Invalid value
// for "index" parameter of function "element": …"), and the conversions every function needs.
import type { HclFunction, ParamType } from './eval.js';
import { FunctionError } from './eval.js';
import { convert, isObjectValue, type Value } from './value.js';

export { FunctionError };

export const str = (value: Value, param?: string): string => {
  const text = convert(value, { kind: 'string' });
  if (typeof text !== 'string') throw new FunctionError('string required', param);
  return text;
};

export const num = (value: Value, param?: string): number => {
  const n = convert(value, { kind: 'number' });
  if (typeof n !== 'number') throw new FunctionError('a number is required', param);
  return n;
};

export const list = (value: Value, param?: string): Value[] => {
  if (!Array.isArray(value)) throw new FunctionError('list of any single type required', param);
  return value;
};

export const object = (value: Value, param?: string): Record<string, Value> => {
  if (!isObjectValue(value)) throw new FunctionError('map or object required', param);
  return value;
};

/** A whole number that fits Go's int (cty converts an index or a count so, and refuses 0.5). */
export const whole = (value: Value, param?: string): number => {
  const n = num(value, param);
  if (!Number.isInteger(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) throw new FunctionError('value must be a whole number', param);
  return n;
};

export const chars = (text: string): string[] => [...text];

/**
 * A function from its parameters, written `name:type` (`any` when the type is left out) with a
 * leading `...` on a variadic last one, in go-cty's order and names. Arguments of a typed
 * parameter are converted before `call` sees them.
 */
export function fn(params: string, call: (args: Value[]) => Value, options: { minArgs?: number } = {}): HclFunction {
  const specs = params
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const variadic = p.startsWith('...');
      const [name, type = 'any'] = (variadic ? p.slice(3) : p).split(':');
      return { name: name!, type: type as ParamType, variadic };
    });
  const last = specs.at(-1);
  const variadic = last?.variadic ? last : undefined;
  const fixed = variadic ? specs.slice(0, -1) : specs;
  return {
    params: fixed.map(({ name, type }) => ({ name, type })),
    ...(variadic ? { variadic: { name: variadic.name, type: variadic.type } } : {}),
    ...(options.minArgs !== undefined ? { minArgs: options.minArgs } : {}),
    call,
  };
}
