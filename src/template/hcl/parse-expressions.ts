// HCL expressions: operators by precedence, conditionals, traversals and splats, function calls,
// tuples, objects and `for` expressions, each node with its range. Quoted strings and heredocs are
// templates (parse-templates.ts).
import type { BinaryOp, Expr, Traverser } from './ast.js';
import type { Range, Token } from './lexer.js';
import { span } from './parse-cursor.js';
import { TemplateParser } from './parse-templates.js';

const BINARY_LEVELS: BinaryOp[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']];

export class ExpressionParser extends TemplateParser {
  parseStandaloneExpression(): Expr {
    const expr = this.withNewlines(false, () => this.parseExpression());
    const token = this.peek();
    if (token.kind !== 'eof' && token.kind !== 'newline') this.fail('Extra characters after expression', 'An expression was successfully parsed, but extra characters were found after it.', token.range);
    return expr;
  }

  parseExpression(): Expr {
    return this.nested(() => {
      const cond = this.parseBinary(0);
      if (this.peek().kind !== '?') return cond;
      this.next();
      const then = this.parseExpression();
      this.expect(':', 'Missing false expression in conditional', 'The conditional operator (...?...:...) requires a false expression, delimited by a colon.');
      const otherwise = this.parseExpression();
      return { kind: 'conditional', cond, then, else: otherwise, range: span(cond.range, otherwise.range) } satisfies Expr;
    });
  }

  private parseBinary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.parseUnary();
    let left = this.parseBinary(level + 1);
    for (;;) {
      const op = this.peek().kind as BinaryOp;
      if (!BINARY_LEVELS[level]!.includes(op)) return left;
      this.next();
      const right = this.parseBinary(level + 1);
      left = { kind: 'binary', op, left, right, range: span(left.range, right.range) };
    }
  }

  private parseUnary(): Expr {
    const token = this.peek();
    if (token.kind === '!' || token.kind === '-') {
      this.next();
      const operand = this.nested(() => this.parseUnary());
      return { kind: 'unary', op: token.kind, operand, range: span(token.range, operand.range) };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(base: Expr, inSplat = false): Expr {
    let expr = base;
    for (;;) {
      const token = this.peek();
      if (token.kind === '.') {
        this.next();
        const name = this.next();
        if (name.kind === 'ident') {
          expr = this.step(expr, { kind: 'attr', name: name.text, range: name.range });
        } else if (name.kind === 'number' && /^\d+$/.test(name.text)) {
          const key: Expr = { kind: 'literal', value: Number(name.text), range: name.range };
          expr = this.step(expr, { kind: 'index', key, range: name.range });
        } else if (name.kind === '*' && !inSplat) {
          // Legacy attribute-only splat: `a.*.b` applies only the attribute steps that follow.
          expr = this.splat(expr, name.range, true);
        } else {
          this.fail('Invalid attribute name', 'An attribute name is required after a dot.', name.range);
        }
      } else if (token.kind === '[' ) {
        const open = this.next();
        if (this.peek().kind === '*' && !inSplat) {
          this.next();
          const close = this.expect(']', 'Missing close bracket on splat index', 'The star for a full splat operator must be immediately followed by a closing bracket ("]").');
          expr = this.splat(expr, span(open.range, close.range), false);
          continue;
        }
        const key = this.withNewlines(false, () => this.parseExpression());
        const close = this.withNewlines(false, () => this.expect(']', 'Missing close bracket on index', 'The index operator must end with a closing bracket ("]").'));
        expr = this.step(expr, { kind: 'index', key, range: span(open.range, close.range) });
      } else return expr;
    }
  }

  private step(object: Expr, step: Traverser): Expr {
    return { kind: 'traverse', object, step, range: span(object.range, step.range) };
  }

  private splat(object: Expr, range: Range, attrOnly: boolean): Expr {
    const item: Expr = { kind: 'splatItem', range };
    let each: Expr = item;
    for (;;) {
      const token = this.peek();
      if (token.kind === '.' && (this.tokens[this.index + 1]?.kind === 'ident' || this.tokens[this.index + 1]?.kind === 'number')) {
        this.next();
        const name = this.next();
        each = name.kind === 'ident'
          ? this.step(each, { kind: 'attr', name: name.text, range: name.range })
          : this.step(each, { kind: 'index', key: { kind: 'literal', value: Number(name.text), range: name.range }, range: name.range });
      } else if (token.kind === '[' && !attrOnly) {
        each = this.parsePostfixIndexOnly(each);
      } else break;
    }
    return { kind: 'splat', object, each, range: span(object.range, each.range) };
  }

  private parsePostfixIndexOnly(expr: Expr): Expr {
    const open = this.next();
    const key = this.withNewlines(false, () => this.parseExpression());
    const close = this.withNewlines(false, () => this.expect(']', 'Missing close bracket on index', 'The index operator must end with a closing bracket ("]").'));
    return this.step(expr, { kind: 'index', key, range: span(open.range, close.range) });
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
        this.next();
        return { kind: 'literal', value: Number(token.text), range: token.range };
      case 'ident': {
        this.next();
        if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true', range: token.range };
        if (token.text === 'null') return { kind: 'literal', value: null, range: token.range };
        if (this.tokens[this.index]!.kind === '(') return this.parseCall(token);
        return { kind: 'variable', name: token.text, range: token.range };
      }
      case '(': {
        this.next();
        const expr = this.withNewlines(false, () => this.parseExpression());
        const close = this.withNewlines(false, () => this.expect(')', 'Unbalanced parentheses', 'Expected a closing parenthesis to terminate the expression.'));
        return { kind: 'paren', expr, range: span(token.range, close.range) };
      }
      case '[':
        return this.parseTuple();
      case '{':
        return this.parseObject();
      case 'oquote':
        return this.parseQuoted();
      case 'oheredoc':
        return this.parseHeredoc();
      default:
        return this.fail('Invalid expression', 'Expected the start of an expression, but found an invalid expression token.', token.range);
    }
  }

  private parseCall(name: Token): Expr {
    return this.withNewlines(false, () => {
      this.next(); // (
      const args: Expr[] = [];
      let expandFinal = false;
      while (this.peek().kind !== ')') {
        args.push(this.parseExpression());
        const sep = this.peek();
        if (sep.kind === '...') {
          this.next();
          expandFinal = true;
          if (this.peek().kind !== ')') this.fail('Missing closing parenthesis', 'An expanded function argument (with ...) must be immediately followed by closing parentheses.', this.peek().range);
          break;
        }
        if (sep.kind === ',') {
          this.next();
          continue;
        }
        if (sep.kind !== ')') this.fail('Missing argument separator', 'A comma is required to separate each function argument from the next.', sep.range);
      }
      const close = this.next();
      return { kind: 'call', name: name.text, nameRange: name.range, args, expandFinal, range: span(name.range, close.range) } as Expr;
    });
  }

  private parseTuple(): Expr {
    return this.withNewlines(false, () => {
      const open = this.next();
      if (this.peek().kind === 'ident' && this.peek().text === 'for' && this.isForStart()) return this.parseFor(open, ']');
      const items: Expr[] = [];
      while (this.peek().kind !== ']') {
        if (this.peek().kind === 'eof') this.fail('Missing item separator', 'Expected a comma to mark the beginning of the next item.', this.peek().range);
        items.push(this.parseExpression());
        const sep = this.peek();
        if (sep.kind === ',') this.next();
        else if (sep.kind !== ']') this.fail('Missing item separator', 'Expected a comma to mark the beginning of the next item.', sep.range);
      }
      const close = this.next();
      return { kind: 'tuple', items, range: span(open.range, close.range) } as Expr;
    });
  }

  private isForStart(): boolean {
    const next = this.tokens[this.index + 1];
    return next?.kind === 'ident';
  }

  private parseObject(): Expr {
    const open = this.next();
    return this.withNewlines(true, () => {
      const skip = (): void => {
        while (this.peek().kind === 'newline') this.next();
      };
      skip();
      if (this.peek().kind === 'ident' && this.peek().text === 'for' && this.isForStart()) {
        return this.withNewlines(false, () => this.parseFor(open, '}'));
      }
      const items: Array<{ key: Expr; value: Expr }> = [];
      for (;;) {
        skip();
        if (this.peek().kind === '}') break;
        if (this.peek().kind === 'eof') this.fail('Missing item separator', 'Expected a newline or comma to mark the beginning of the next attribute.', this.peek().range);
        const key = this.withNewlines(false, () => this.parseExpression());
        const eq = this.peek();
        if (eq.kind !== '=' && eq.kind !== ':') {
          this.fail('Missing key/value separator', 'Expected an equals sign ("=") to mark the beginning of the attribute value.', eq.range);
        }
        this.next();
        const value = this.parseExpression();
        items.push({ key, value });
        const sep = this.tokens[this.index]!;
        if (sep.kind === ',' || sep.kind === 'newline') {
          this.index++;
          continue;
        }
        if (sep.kind !== '}') this.fail('Missing attribute separator', 'Expected a newline or comma to mark the beginning of the next attribute.', sep.range);
      }
      const close = this.next();
      return { kind: 'object', items, range: span(open.range, close.range) } as Expr;
    });
  }

  private parseFor(open: Token, close: ']' | '}'): Expr {
    this.next(); // for
    const { keyVar, valueVar, collection } = this.parseForHead('expression');
    this.expect(':', 'Invalid "for" expression', 'For expression requires a colon after the collection expression.');
    let keyExpr: Expr | undefined;
    let valueExpr = this.parseExpression();
    let group = false;
    if (close === '}') {
      this.expect('=>', 'Invalid "for" expression', 'For expression requires "=>" between the key and value expressions in an object "for".');
      keyExpr = valueExpr;
      valueExpr = this.parseExpression();
      if (this.peek().kind === '...') {
        this.next();
        group = true;
      }
    }
    let cond: Expr | undefined;
    if (this.peek().kind === 'ident' && this.peek().text === 'if') {
      this.next();
      cond = this.parseExpression();
    }
    const end = this.peek();
    if (end.kind !== close) this.fail('Invalid "for" expression', `Extra characters after the end of the 'for' expression.`, end.range);
    this.next();
    return { kind: 'for', ...(keyVar !== undefined ? { keyVar } : {}), valueVar, collection, ...(keyExpr ? { keyExpr } : {}), valueExpr, ...(cond ? { cond } : {}), group, range: span(open.range, end.range) };
  }
}
