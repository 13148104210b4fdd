// The token cursor the HCL parser stands on: where it is in the token list, whether newlines are
// tokens at the current nesting, and the one way a syntax error leaves it (HclSyntaxError, with
// hclsyntax's wording so that kiln's first error names the same line as Packer's).
import type { Diagnostic, Range, Token, TokenKind } from './lexer.js';

export class HclSyntaxError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(`${diagnostic.summary}: ${diagnostic.detail}`);
  }
}

/** The range from the start of `from` to the end of `to`. */
export function span(from: Range, to: Range): Range {
  return { file: from.file, start: from.start, end: to.end };
}

/**
 * How deep expressions, blocks and template directives may nest: far beyond any real template, and
 * well within Node's stack (a level is about a dozen frames here, and as many again to evaluate).
 * Deeper is refused with the place it happens, not left to overflow the stack.
 */
export const MAX_NESTING = 200;

export class TokenCursor {
  protected index = 0;
  private depth = 0;
  /** Whether newlines are tokens at the current nesting (bodies, objects) or skipped (parens, brackets). */
  private readonly newlineModes: boolean[] = [true];

  constructor(protected readonly tokens: Token[]) {}

  protected fail(summary: string, detail: string, range: Range): never {
    throw new HclSyntaxError({ summary, detail, range });
  }

  private skipNewlines(): boolean {
    return !this.newlineModes[this.newlineModes.length - 1];
  }

  protected peek(): Token {
    if (this.skipNewlines()) while (this.tokens[this.index]!.kind === 'newline') this.index++;
    return this.tokens[this.index]!;
  }

  protected next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  protected expect(kind: TokenKind, summary: string, detail: string): Token {
    const token = this.peek();
    if (token.kind !== kind) this.fail(summary, detail, token.range);
    return this.next();
  }

  /** `fn`, one nesting level deeper (MAX_NESTING). */
  protected nested<T>(fn: () => T): T {
    if (this.depth >= MAX_NESTING) {
      this.fail('Nesting too deep', `Expressions, blocks and template directives may nest at most ${MAX_NESTING} levels deep. Move the inner part to a local value.`, this.peek().range);
    }
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  protected withNewlines<T>(include: boolean, fn: () => T): T {
    this.newlineModes.push(include);
    try {
      return fn();
    } finally {
      this.newlineModes.pop();
    }
  }
}
