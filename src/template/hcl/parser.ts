// The HCL native-syntax parser: tokens → Body/Expr trees with a range on every node. Error
// summaries follow hclsyntax's wording ("Missing item separator", "Invalid expression", …),
// so that kiln's first error names the same line as Packer's. In layers, each on the one below:
// the token cursor (parse-cursor.ts), templates (parse-templates.ts), expressions
// (parse-expressions.ts), and here bodies: arguments and blocks.
import { scan, type Range } from './lexer.js';
import type { Attribute, Block, Body, Expr } from './ast.js';
import { HclSyntaxError, span } from './parse-cursor.js';
import { ExpressionParser } from './parse-expressions.js';

export { HclSyntaxError };

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
  return new ExpressionParser(tokens).parseStandaloneExpression();
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

class Parser extends ExpressionParser {
  parseBody(end: 'eof' | '}'): Body {
    return this.nested(() => this.parseBodyItems(end));
  }

  private parseBodyItems(end: 'eof' | '}'): Body {
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
}
