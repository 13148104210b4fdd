// HCL templates: quoted strings and heredocs, with `${…}` interpolations and `%{ if }`/`%{ for }`
// directives, their `~` strip markers, and `<<-` heredocs' indentation. The expressions inside
// them are parsed by the layer above (parse-expressions.ts), hence the abstract parseExpression.
import type { Expr, TemplatePart } from './ast.js';
import type { Range, Token } from './lexer.js';
import { span, TokenCursor } from './parse-cursor.js';

export abstract class TemplateParser extends TokenCursor {
  abstract parseExpression(): Expr;

  /** `k, v in collection` (or `v in collection`) after the `for` of an expression or a template directive (both layers use it). */
  protected parseForHead(where: 'expression' | 'directive'): { keyVar?: string; valueVar: string; collection: Expr } {
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

  protected parseQuoted(): Expr {
    const open = this.next();
    const parts = this.withNewlines(false, () => this.parseTemplateParts(['cquote']));
    const close = this.next();
    if (close.kind !== 'cquote') this.fail('Unterminated template string', 'No closing marker was found for the string.', open.range);
    return this.templateExpr(parts, span(open.range, close.range));
  }

  protected parseHeredoc(): Expr {
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
    return this.nested(() => this.templatePartsUntil(ends));
  }

  private templatePartsUntil(ends: Array<'cquote' | 'cheredoc' | 'else' | 'endif' | 'endfor'>): TemplatePart[] {
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

  /** Consumes a `~` strip marker if there is one; returns whether there was. */
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
