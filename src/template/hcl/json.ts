// HCL's JSON syntax (`.pkr.json`, `.pkrvars.json`) → the same Body tree the native parser makes.
// Which keys are blocks, and how many labels they take, comes from Packer's schema; strings are
// templates (`"${var.x}"`). Positions: each key is found in the text in document order.
import type { Attribute, Block, Body, Expr } from './ast.js';
import type { Pos, Range } from './lexer.js';
import { MAX_NESTING } from './parse-cursor.js';
import { HclSyntaxError, parseTemplate, type ParsedFile } from './parser.js';

/** Block types by parent, with their label counts. Other keys are arguments. */
const BLOCKS: Record<string, Record<string, number>> = {
  '': { packer: 0, variable: 1, variables: 0, locals: 0, local: 1, source: 2, build: 0, data: 2, hcp_packer_registry: 0 },
  packer: { required_plugins: 0 },
  variable: { validation: 0 },
  build: { source: 1, provisioner: 1, 'error-cleanup-provisioner': 1, 'post-processor': 1, 'post-processors': 0 },
  'post-processors': { 'post-processor': 1 },
};

/** `varFile`: a `.pkrvars.json`, whose keys are all variable values (none is a block). */
export function parseJsonFile(source: string, file: string, options: { varFile?: boolean } = {}): ParsedFile {
  let data: unknown;
  const start: Pos = { line: 1, column: 1, offset: 0 };
  try {
    data = JSON.parse(source);
  } catch (error) {
    const match = /position (\d+)/.exec((error as Error).message);
    const at = match ? positionAt(source, Number(match[1])) : start;
    throw new HclSyntaxError({ summary: 'Invalid JSON', detail: (error as Error).message.replace(/, ".*" is not valid JSON$/s, ''), range: { file, start: at, end: at } });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new HclSyntaxError({ summary: 'Invalid JSON body', detail: 'The root of a JSON template is an object.', range: { file, start, end: start } });
  }
  let cursor = 0;
  // The key's position: its next quoted occurrence after the previous key (document order).
  const rangeOf = (key: string): Range => {
    const quoted = JSON.stringify(key);
    const at = source.indexOf(quoted, cursor);
    if (at >= 0) cursor = at + quoted.length;
    const pos = positionAt(source, at >= 0 ? at : cursor);
    return { file, start: pos, end: pos };
  };

  // JSON.parse takes any depth; what walks its result here and later must not overflow the stack.
  const tooDeep = (range: Range): never => {
    throw new HclSyntaxError({ summary: 'Nesting too deep', detail: `JSON values may nest at most ${MAX_NESTING} levels deep. Move the inner part to a local value.`, range });
  };

  const expr = (value: unknown, range: Range, depth = 0): Expr => {
    if (depth >= MAX_NESTING) tooDeep(range);
    if (typeof value === 'string') {
      const parsed = parseTemplate(value, file);
      return relocate(parsed, range);
    }
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return { kind: 'literal', value, range };
    if (Array.isArray(value)) return { kind: 'tuple', items: value.map((item) => expr(item, range, depth + 1)), range };
    const object = value as Record<string, unknown>;
    return { kind: 'object', items: Object.entries(object).map(([k, v]) => ({ key: { kind: 'literal', value: k, range } as Expr, value: expr(v, rangeOf(k), depth + 1) })), range };
  };

  const body = (object: Record<string, unknown>, parent: string, range: Range, depth = 0): Body => {
    if (depth >= MAX_NESTING) tooDeep(range);
    const items: Array<Attribute | Block> = [];
    const schema = BLOCKS[parent] ?? {};
    for (const [key, value] of Object.entries(object)) {
      const keyRange = rangeOf(key);
      const labels = schema[key];
      if (labels === undefined) {
        items.push({ kind: 'attribute', name: key, nameRange: keyRange, expr: expr(value, keyRange), range: keyRange });
        continue;
      }
      // A block: labels are nested object keys; a list holds several blocks of the type.
      const addBlocks = (content: unknown, found: string[], foundRanges: Range[], nesting = depth): void => {
        if (nesting >= MAX_NESTING) tooDeep(keyRange);
        if (Array.isArray(content)) {
          for (const item of content) addBlocks(item, found, foundRanges, nesting + 1);
          return;
        }
        if (typeof content !== 'object' || content === null) {
          throw new HclSyntaxError({ summary: 'Incorrect JSON value type', detail: `A JSON object is required here, to define the "${key}" block.`, range: keyRange });
        }
        if (found.length < labels) {
          for (const [label, inner] of Object.entries(content)) addBlocks(inner, [...found, label], [...foundRanges, rangeOf(label)], nesting + 1);
          return;
        }
        items.push({ kind: 'block', type: key, typeRange: keyRange, labels: found, labelRanges: foundRanges, body: body(content as Record<string, unknown>, key, keyRange, nesting + 1), range: keyRange });
      };
      addBlocks(value, [], []);
    }
    return { items, range };
  };

  return { file, source, body: body(data as Record<string, unknown>, options.varFile ? 'pkrvars' : '', { file, start, end: start }) };
}

function positionAt(source: string, offset: number): Pos {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n'), offset };
}

// A template parsed from a JSON string: its positions are those of the JSON key.
function relocate(expr: Expr, range: Range): Expr {
  return JSON.parse(JSON.stringify(expr), (key, value: unknown) => (key === 'range' || key === 'nameRange' ? range : value)) as Expr;
}
