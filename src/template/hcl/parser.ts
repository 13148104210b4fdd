// The HCL native-syntax parser: tokens → Body/Expr trees with a range on every node. Error
// summaries follow hclsyntax's wording ("Missing item separator", "Invalid expression", …),
// so that kiln's first error names the same line as Packer's.
import { scan, type Diagnostic, type Pos, type Range, type Token, type TokenKind } from './lexer.js';
import type { Attribute, BinaryOp, Block, Body, Expr, TemplatePart, Traverser } from './ast.js';

export class HclSyntaxError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(`${diagnostic.summary}: ${diagnostic.detail}`);
  }
}

export interface ParsedFile {
  file: string;
  source: string;
  body: Body;
}

/** Parses one `.pkr.hcl`/`.pkrvars.hcl` file. Throws HclSyntaxError with the first problem. */
export function parseFile(source: string, file: string): ParsedFile {
  const { tokens, diagnostics } = scan(source, file);
  if (diagnostics.length) throw new HclSyntaxError(diagnostics[0]!);
  const parser = new Parser(tokens);
  const body = parser.parseBody('eof');
  return { file, source, body };
}

/** Parses one expression (e.g. a `-var` value for a list variable, or a `packer console` line). */
export function parseExpression(source: string, file: string): Expr {
  const { tokens, diagnostics } = scan(source, file);
  if (diagnostics.length) throw new HclSyntaxError(diagnostics[0]!);
  const parser = new Parser(tokens);
  return parser.parseStandaloneExpression();
}

/** Parses a string as a template (the text of a quoted string without its quotes). */
export function parseTemplate(source: string, file: string): Expr {
  const delimiter = 'KILN_TEMPLATE_END';
  const expr = parseExpression(`<<${delimiter}\n${source}\n${delimiter}\n`, file);
  // The heredoc adds a newline after the text: take it off again.
  if (expr.kind === 'literal' && typeof expr.value === 'string') return { ...expr, value: expr.value.slice(0, -1) };
  if (expr.kind === 'template') {
    const last = expr.parts[expr.parts.length - 1]!;
    if (last.kind === 'text') {
      const parts = [...expr.parts.slice(0, -1), ...(last.value === '\n' ? [] : [{ ...last, value: last.value.slice(0, -1) }])];
      return parts.length === 1 && parts[0]!.kind === 'text' ? { kind: 'literal', value: parts[0].value, range: expr.range } : { ...expr, parts };
    }
  }
  return expr;
}

const BINARY_LEVELS: BinaryOp[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']];

function span(from: Range, to: Range): Range {
  return { file: from.file, start: from.start, end: to.end };
}

class Parser {
  private index = 0;
  /** Whether newlines are tokens at the current nesting (bodies, objects) or skipped (parens, brackets). */
  private readonly newlineModes: boolean[] = [true];

  constructor(private readonly tokens: Token[]) {}

  private fail(summary: string, detail: string, range: Range): never {
    throw new HclSyntaxError({ summary, detail, range });
  }

  private skipNewlines(): boolean {
    return !this.newlineModes[this.newlineModes.length - 1];
  }

  private peek(): Token {
    if (this.skipNewlines()) while (this.tokens[this.index]!.kind === 'newline') this.index++;
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private expect(kind: TokenKind, summary: string, detail: string): Token {
    const token = this.peek();
    if (token.kind !== kind) this.fail(summary, detail, token.range);
    return this.next();
  }

  private withNewlines<T>(include: boolean, fn: () => T): T {
    this.newlineModes.push(include);
    try {
      return fn();
    } finally {
      this.newlineModes.pop();
    }
  }

  // ---- bodies ----

  parseBody(end: 'eof' | '}'): Body {
    const items: Array<Attribute | Block> = [];
    const first = this.tokens[this.index]!.range;
    for (;;) {
      const token = this.peek();
      if (token.kind === 'newline') {
        this.next();
        continue;
      }
      if (token.kind === end) break;
      if (token.kind === 'eof') this.fail('Unclosed configuration block', 'There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.', token.range);
      if (token.kind !== 'ident') {
        this.fail('Argument or block definition required', 'An argument or block definition is required here.', token.range);
      }
      const item = this.parseBodyItem();
      if (item.kind === 'attribute') {
        const previous = items.find((other): other is Attribute => other.kind === 'attribute' && other.name === item.name);
        if (previous) {
          const at = previous.nameRange;
          this.fail('Attribute redefined', `The argument "${item.name}" was already set at ${at.file}:${at.start.line},${at.start.column}-${at.end.column}. Each argument may be set only once.`, item.nameRange);
        }
      }
      items.push(item);
    }
    const last = this.tokens[this.index]!.range;
    return { items, range: span(first, last) };
  }

  private parseBodyItem(): Attribute | Block {
    const name = this.next();
    const after = this.peek();
    if (after.kind === '=') {
      this.next();
      const expr = this.parseExpression();
      const end = this.peek();
      if (end.kind !== 'newline' && end.kind !== 'eof' && end.kind !== '}') {
        this.fail('Missing newline after argument', 'An argument definition must end with a newline.', end.range);
      }
      if (end.kind === 'newline') this.next();
      return { kind: 'attribute', name: name.text, nameRange: name.range, expr, range: span(name.range, expr.range) };
    }
    const labels: string[] = [];
    const labelRanges: Range[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind === 'ident') {
        this.next();
        labels.push(token.text);
        labelRanges.push(token.range);
      } else if (token.kind === 'oquote') {
        const start = this.next();
        let text = '';
        let inner = this.next();
        while (inner.kind === 'literal') {
          text += inner.text;
          inner = this.next();
        }
        if (inner.kind !== 'cquote') this.fail('Invalid block label', 'Template sequences are not allowed in block labels.', inner.range);
        labels.push(text);
        labelRanges.push(span(start.range, inner.range));
      } else break;
    }
    const open = this.peek();
    if (open.kind !== '{') {
      if (labels.length === 0) {
        this.fail('Argument or block definition required', 'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.', open.range);
      }
      this.fail('Invalid block definition', 'Either a quoted string block label or an opening brace ("{") is expected here.', open.range);
    }
    this.next();
    let body: Body;
    const afterOpen = this.tokens[this.index]!;
    if (afterOpen.kind !== 'newline' && afterOpen.kind !== '}') {
      // A single-line block: `name { attr = value }`, at most one argument.
      if (afterOpen.kind !== 'ident' || this.tokens[this.index + 1]?.kind !== '=') {
        this.fail('Invalid single-argument block definition', 'A single-line block definition can contain only a single argument. If you meant to define argument, use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.', afterOpen.range);
      }
      const attr = this.withNewlines(true, () => {
        const key = this.next();
        this.next();
        const expr = this.parseExpression();
        return { kind: 'attribute', name: key.text, nameRange: key.range, expr, range: span(key.range, expr.range) } as Attribute;
      });
      const close = this.tokens[this.index]!;
      if (close.kind !== '}') {
        this.fail('Invalid single-argument block definition', 'A single-line block definition must end with a closing brace immediately after its single argument definition.', close.range);
      }
      body = { items: [attr], range: span(afterOpen.range, close.range) };
    } else {
      body = this.withNewlines(true, () => this.parseBody('}'));
    }
    const close = this.next();
    const end = this.tokens[this.index]!;
    if (end.kind !== 'newline' && end.kind !== 'eof') {
      this.fail('Missing newline after block definition', 'A block definition must end with a newline.', end.range);
    }
    return { kind: 'block', type: name.text, typeRange: name.range, labels, labelRanges, body, range: span(name.range, close.range) };
  }

  // ---- expressions ----

  parseStandaloneExpression(): Expr {
    const expr = this.withNewlines(false, () => this.parseExpression());
    const token = this.peek();
    if (token.kind !== 'eof' && token.kind !== 'newline') this.fail('Extra characters after expression', 'An expression was successfully parsed, but extra characters were found after it.', token.range);
    return expr;
  }

  parseExpression(): Expr {
    const cond = this.parseBinary(0);
    if (this.peek().kind !== '?') return cond;
    this.next();
    const then = this.parseExpression();
    this.expect(':', 'Missing false expression in conditional', 'The conditional operator (...?...:...) requires a false expression, delimited by a colon.');
    const otherwise = this.parseExpression();
    return { kind: 'conditional', cond, then, else: otherwise, range: span(cond.range, otherwise.range) };
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
      const operand = this.parseUnary();
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

  /** `k, v in collection` (or `v in collection`) after the `for` of an expression or a template directive. */
  private parseForHead(where: 'expression' | 'directive'): { keyVar?: string; valueVar: string; collection: Expr } {
    const summary = `Invalid "for" ${where}`;
    const first = this.expect('ident', summary, `For ${where} requires variable name after "for".`);
    let keyVar: string | undefined;
    let valueVar = first.text;
    if (this.peek().kind === ',') {
      this.next();
      keyVar = first.text;
      valueVar = this.expect('ident', summary, `For ${where} requires value variable name after comma.`).text;
    }
    const inToken = this.next();
    if (inToken.kind !== 'ident' || inToken.text !== 'in') this.fail(summary, `For ${where} requires the "in" keyword after its name declarations.`, inToken.range);
    return { ...(keyVar !== undefined ? { keyVar } : {}), valueVar, collection: this.parseExpression() };
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

  // ---- templates ----

  private parseQuoted(): Expr {
    const open = this.next();
    const parts = this.withNewlines(false, () => this.parseTemplateParts(['cquote']));
    const close = this.next();
    if (close.kind !== 'cquote') this.fail('Unterminated template string', 'No closing marker was found for the string.', open.range);
    return this.templateExpr(parts, span(open.range, close.range));
  }

  private parseHeredoc(): Expr {
    const open = this.next();
    let parts = this.withNewlines(false, () => this.parseTemplateParts(['cheredoc']));
    const close = this.next();
    if (close.kind !== 'cheredoc') this.fail('Unterminated template string', `No closing marker was found for the heredoc "${open.text}".`, open.range);
    if (open.flush) parts = flushHeredoc(parts);
    return this.templateExpr(parts, span(open.range, close.range));
  }

  private templateExpr(parts: TemplatePart[], range: Range): Expr {
    const merged = mergeText(parts);
    if (merged.length === 0) return { kind: 'literal', value: '', range };
    if (merged.length === 1 && merged[0]!.kind === 'text') return { kind: 'literal', value: merged[0]!.value, range };
    return { kind: 'template', parts: merged, range };
  }

  /** Template parts up to one of `ends` (a closing quote/heredoc, or a control keyword). */
  private parseTemplateParts(ends: Array<'cquote' | 'cheredoc' | 'else' | 'endif' | 'endfor'>): TemplatePart[] {
    const parts: TemplatePart[] = [];
    let stripNextText = false;
    for (;;) {
      const token = this.tokens[this.index]!;
      if (token.kind === 'literal') {
        this.index++;
        const value = stripNextText ? token.text.replace(/^\s+/, '') : token.text;
        stripNextText = false;
        parts.push({ kind: 'text', value, range: token.range });
        continue;
      }
      if (token.kind === 'cquote' || token.kind === 'cheredoc' || token.kind === 'eof') {
        if (ends.includes(token.kind as 'cquote')) return parts;
        if (token.kind === 'eof') this.fail('Unterminated template string', 'No closing marker was found for the string.', token.range);
        this.fail('Unexpected end of template', `The control directives within this template are unbalanced.`, token.range);
      }
      if (token.kind === 'interp') {
        this.index++;
        const stripBefore = this.eatStrip();
        if (stripBefore) stripTrailing(parts);
        const expr = this.parseExpression();
        const stripAfter = this.eatStrip();
        const end = this.peek();
        if (end.kind !== 'seqend') this.fail('Extra characters after interpolation expression', 'Expected a closing brace to end the interpolation expression, but found extra characters.', end.range);
        this.index++;
        parts.push({ kind: 'interp', expr, range: span(token.range, end.range) });
        stripNextText = stripAfter;
        continue;
      }
      if (token.kind === 'control') {
        // Peek the keyword: else/endif/endfor end the current sequence.
        const save = this.index;
        this.index++;
        const stripBefore = this.eatStrip();
        const keyword = this.peek();
        if (keyword.kind !== 'ident' || !['if', 'for', 'else', 'endif', 'endfor'].includes(keyword.text)) {
          this.fail('Invalid template directive', 'A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ sequence.', keyword.range);
        }
        if (keyword.text === 'else' || keyword.text === 'endif' || keyword.text === 'endfor') {
          if (!ends.includes(keyword.text as 'else')) {
            this.fail(`Unexpected "${keyword.text}" directive`, `The control directives within this template are unbalanced.`, keyword.range);
          }
          this.index = save;
          if (stripBefore) stripTrailing(parts);
          return parts;
        }
        if (stripBefore) stripTrailing(parts);
        this.next();
        if (keyword.text === 'if') {
          const cond = this.parseExpression();
          stripNextText = this.closeDirective();
          const thenParts = this.stripLeading(this.parseTemplateParts(['else', 'endif']), stripNextText);
          let elseParts: TemplatePart[] = [];
          let word = this.directiveWord();
          if (word.text === 'else') {
            const strip = this.closeDirective();
            elseParts = this.stripLeading(this.parseTemplateParts(['endif']), strip);
            word = this.directiveWord();
          }
          if (word.text !== 'endif') this.fail('Unterminated template directive', 'There is no matching %{ endif } for this %{ if }.', keyword.range);
          stripNextText = this.closeDirective();
          parts.push({ kind: 'if', cond, then: thenParts, else: elseParts, range: span(token.range, word.range) });
        } else {
          const { keyVar, valueVar, collection } = this.parseForHead('directive');
          stripNextText = this.closeDirective();
          const body = this.stripLeading(this.parseTemplateParts(['endfor']), stripNextText);
          const word = this.directiveWord();
          if (word.text !== 'endfor') this.fail('Unterminated template directive', 'There is no matching %{ endfor } for this %{ for }.', keyword.range);
          stripNextText = this.closeDirective();
          parts.push({ kind: 'for', ...(keyVar !== undefined ? { keyVar } : {}), valueVar, collection, body, range: span(token.range, word.range) });
        }
        continue;
      }
      this.fail('Invalid template', 'Unexpected token in template.', token.range);
    }
  }

  private stripLeading(parts: TemplatePart[], strip: boolean): TemplatePart[] {
    if (strip && parts[0]?.kind === 'text') parts[0] = { ...parts[0], value: parts[0].value.replace(/^\s+/, '') };
    return parts;
  }

  /** At `%{ else`/`%{ endif`/`%{ endfor`: consumes `%{`, an optional `~` and the keyword. */
  private directiveWord(): Token {
    const control = this.next();
    if (control.kind !== 'control') this.fail('Unterminated template directive', 'The control directives within this template are unbalanced.', control.range);
    this.eatStrip();
    return this.next();
  }

  /** Consumes an optional `~` and the closing `}`; returns whether `~` asked to strip what follows. */
  private closeDirective(): boolean {
    const strip = this.eatStrip();
    const end = this.peek();
    if (end.kind !== 'seqend') this.fail('Extra characters in template directive', 'Expected a closing brace to end the directive.', end.range);
    this.index++;
    return strip;
  }

  private eatStrip(): boolean {
    if (this.peek().kind === '~') {
      this.next();
      return true;
    }
    return false;
  }
}

function stripTrailing(parts: TemplatePart[]): void {
  const last = parts[parts.length - 1];
  if (last?.kind === 'text') parts[parts.length - 1] = { ...last, value: last.value.replace(/\s+$/, '') };
}

function mergeText(parts: TemplatePart[]): TemplatePart[] {
  const out: TemplatePart[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (part.kind === 'text' && last?.kind === 'text') out[out.length - 1] = { ...last, value: last.value + part.value, range: span(last.range, part.range) };
    else out.push(part);
  }
  return out;
}

// `<<-EOT`: the smallest indentation of the lines is removed from each line.
function flushHeredoc(parts: TemplatePart[]): TemplatePart[] {
  // Lines are text parts that start at column 1 (the scanner cuts heredoc text at each newline).
  const lineStarts = parts.filter((part): part is Extract<TemplatePart, { kind: 'text' }> => part.kind === 'text' && part.range.start.column === 1);
  let min = Infinity;
  for (const part of lineStarts) {
    if (part.value.trim() === '' && part.value.endsWith('\n')) continue;
    const indent = /^[ \t]*/.exec(part.value)![0].length;
    min = Math.min(min, indent);
  }
  if (!Number.isFinite(min) || min === 0) return parts;
  return parts.map((part) => (part.kind === 'text' && part.range.start.column === 1 ? { ...part, value: part.value.replace(new RegExp(`^[ \\t]{0,${min}}`), '') } : part));
}

export type { Pos, Range };
