// HCL2 local values: `locals` blocks and Packer's single `local` blocks, each evaluated after the
// locals it refers to, whatever the order they are written in; a loop among them is an error.
import type { Attribute, Block } from './ast.js';
import { references } from './ast.js';
import type { Scope } from './eval.js';
import type { Range } from './lexer.js';
import { attributes, checkSchema, type HclReporter } from './report.js';
import type { Value } from './value.js';

/** The `local` object, seen by expressions in `scope` (variables and constants). */
export function evaluateLocals(localsBlocks: Block[], localBlocks: Block[], scope: Scope, load: HclReporter): Record<string, Value> {
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
