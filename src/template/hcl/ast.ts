// The syntax tree of an HCL file: a body of attributes and blocks, and expressions. Every node
// carries the range it was read from, so that any problem found later (a wrong type, an unknown
// variable) is reported at file:line:col.
import type { Range } from './lexer.js';

export interface Body {
  /** In file order, attributes and blocks mixed, as written. */
  items: Array<Attribute | Block>;
  range: Range;
}

export interface Attribute {
  kind: 'attribute';
  name: string;
  nameRange: Range;
  expr: Expr;
  range: Range;
}

export interface Block {
  kind: 'block';
  type: string;
  typeRange: Range;
  labels: string[];
  labelRanges: Range[];
  body: Body;
  range: Range;
}

export type TemplatePart =
  | { kind: 'text'; value: string; range: Range }
  | { kind: 'interp'; expr: Expr; range: Range }
  | { kind: 'if'; cond: Expr; then: TemplatePart[]; else: TemplatePart[]; range: Range }
  | { kind: 'for'; keyVar?: string; valueVar: string; collection: Expr; body: TemplatePart[]; range: Range };

/** One step after a name: `.attr`, `[key]` or `.0` (a legacy index). */
export type Traverser = { kind: 'attr'; name: string; range: Range } | { kind: 'index'; key: Expr; range: Range };

export type Expr =
  | { kind: 'literal'; value: null | boolean | number | string; range: Range }
  | { kind: 'template'; parts: TemplatePart[]; range: Range }
  | { kind: 'variable'; name: string; range: Range }
  | { kind: 'traverse'; object: Expr; step: Traverser; range: Range }
  | { kind: 'splat'; object: Expr; each: Expr; range: Range }
  /** The element a splat's `each` expression is applied to. */
  | { kind: 'splatItem'; range: Range }
  | { kind: 'call'; name: string; nameRange: Range; args: Expr[]; expandFinal: boolean; range: Range }
  | { kind: 'tuple'; items: Expr[]; range: Range }
  | { kind: 'object'; items: Array<{ key: Expr; value: Expr }>; range: Range }
  | { kind: 'unary'; op: '!' | '-'; operand: Expr; range: Range }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; range: Range }
  | { kind: 'conditional'; cond: Expr; then: Expr; else: Expr; range: Range }
  | {
      kind: 'for';
      keyVar?: string;
      valueVar: string;
      collection: Expr;
      keyExpr?: Expr;
      valueExpr: Expr;
      cond?: Expr;
      group: boolean;
      range: Range;
    }
  | { kind: 'paren'; expr: Expr; range: Range };

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

/** The names an expression reads (`var.x` → ["var","x"]), for ordering locals. */
export function references(expr: Expr, out: Array<{ root: string; attr?: string; range: Range }> = []): Array<{ root: string; attr?: string; range: Range }> {
  const visitParts = (parts: TemplatePart[]): void => {
    for (const part of parts) {
      if (part.kind === 'interp') references(part.expr, out);
      else if (part.kind === 'if') {
        references(part.cond, out);
        visitParts(part.then);
        visitParts(part.else);
      } else if (part.kind === 'for') {
        references(part.collection, out);
        visitParts(part.body);
      }
    }
  };
  switch (expr.kind) {
    case 'literal':
    case 'splatItem':
      break;
    case 'template':
      visitParts(expr.parts);
      break;
    case 'variable':
      out.push({ root: expr.name, range: expr.range });
      break;
    case 'traverse':
      if (expr.object.kind === 'variable' && expr.step.kind === 'attr') out.push({ root: expr.object.name, attr: expr.step.name, range: expr.range });
      else references(expr.object, out);
      if (expr.step.kind === 'index') references(expr.step.key, out);
      break;
    case 'splat':
      references(expr.object, out);
      references(expr.each, out);
      break;
    case 'call':
      expr.args.forEach((arg) => references(arg, out));
      break;
    case 'tuple':
      expr.items.forEach((item) => references(item, out));
      break;
    case 'object':
      expr.items.forEach((item) => {
        references(item.key, out);
        references(item.value, out);
      });
      break;
    case 'unary':
      references(expr.operand, out);
      break;
    case 'binary':
      references(expr.left, out);
      references(expr.right, out);
      break;
    case 'conditional':
      references(expr.cond, out);
      references(expr.then, out);
      references(expr.else, out);
      break;
    case 'for':
      references(expr.collection, out);
      if (expr.keyExpr) references(expr.keyExpr, out);
      references(expr.valueExpr, out);
      if (expr.cond) references(expr.cond, out);
      break;
    case 'paren':
      references(expr.expr, out);
      break;
  }
  return out;
}
