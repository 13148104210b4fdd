// The HCL native-syntax scanner (hclsyntax/spec.md): source text → tokens with positions.
// HCL is modal: inside a quoted string or a heredoc the text is a template, in which `${`
// and `%{` open an expression that a matching `}` closes again. The scanner keeps a stack of
// open braces to know, at each `}`, whether it ends an object or returns to template text.

export interface Pos {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  offset: number;
}

export interface Range {
  file: string;
  start: Pos;
  end: Pos;
}

export type TokenKind =
  | 'ident'
  | 'number'
  | 'comment' // only with { comments: true }: `# …`, `// …` (without the newline) or `/* … */`
  | 'newline'
  | 'eof'
  // template pieces
  | 'oquote' // "
  | 'cquote'
  | 'oheredoc' // <<EOT or <<-EOT
  | 'cheredoc'
  | 'literal' // template text (escapes already decoded)
  | 'interp' // ${
  | 'control' // %{
  | 'seqend' // the } closing ${ or %{
  // punctuation and operators
  | '{' | '}' | '[' | ']' | '(' | ')' | ',' | '.' | '...' | '=' | '=>' | '?' | ':' | '~'
  | '+' | '-' | '*' | '/' | '%' | '!' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||'
  | 'invalid';

export interface Token {
  kind: TokenKind;
  /** The source text; for `literal`, the decoded text; for `oheredoc`, the delimiter. */
  text: string;
  range: Range;
  /** `oheredoc`: `<<-` (indented heredoc). */
  flush?: boolean;
}

/** A problem found while reading the text: the same shape the parser and evaluator report. */
export interface Diagnostic {
  summary: string;
  detail: string;
  range: Range;
}

const OPERATORS = ['...', '==', '!=', '<=', '>=', '&&', '||', '=>', '{', '}', '[', ']', '(', ')', ',', '.', '=', '?', ':', '~', '+', '-', '*', '/', '%', '!', '<', '>'] as const;

type Mode = { kind: 'brace' } | { kind: 'interp' } | { kind: 'quoted' } | { kind: 'heredoc'; delimiter: string };

// ASCII first: the Unicode classes are only needed for the rare non-ASCII identifier.
export function isIdentStart(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) return true;
  return c > 127 && /[\p{L}\p{Nl}]/u.test(ch);
}

function isIdentContinue(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45) return true;
  return c > 127 && /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]/u.test(ch);
}

/** `comments`: keep comments as tokens (the formatter needs them; the parser does not). */
export function scan(source: string, file: string, options: { comments?: boolean } = {}): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let offset = 0;
  let line = 1;
  let column = 1;
  const modes: Mode[] = [];

  const pos = (): Pos => ({ line, column, offset });
  const advance = (count: number): void => {
    for (let i = 0; i < count && offset < source.length; i++) {
      const ch = source[offset]!;
      offset++;
      if (ch === '\n') {
        line++;
        column = 1;
      } else column++;
    }
  };
  const emit = (kind: TokenKind, length: number, text = source.slice(offset, offset + length), extra: Partial<Token> = {}): void => {
    const start = pos();
    advance(length);
    tokens.push({ kind, text, range: { file, start, end: pos() }, ...extra });
  };
  const error = (summary: string, detail: string, length = 1): void => {
    const start = pos();
    const end = { ...start, column: start.column + length, offset: start.offset + length };
    diagnostics.push({ summary, detail, range: { file, start, end } });
  };
  const top = (): Mode | undefined => modes[modes.length - 1];

  // Template text up to `${`, `%{`, the closing quote or (heredoc) the end of the line.
  const scanTemplateText = (quoted: boolean): void => {
    const start = pos();
    let text = '';
    while (offset < source.length) {
      const ch = source[offset]!;
      if (quoted && ch === '"') break;
      if (quoted && ch === '\n') break;
      if ((ch === '$' || ch === '%') && source[offset + 1] === '{') break;
      if ((ch === '$' || ch === '%') && source[offset + 1] === ch && source[offset + 2] === '{') {
        text += `${ch}{`; // `$${` and `%%{` are literal `${` and `%{`
        advance(3);
        continue;
      }
      if (quoted && ch === '\\') {
        const next = source[offset + 1];
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
        if (next !== undefined && simple[next] !== undefined) {
          text += simple[next];
          advance(2);
          continue;
        }
        if (next === 'u' || next === 'U') {
          const digits = next === 'u' ? 4 : 8;
          const hex = source.slice(offset + 2, offset + 2 + digits);
          if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === digits) {
            const code = parseInt(hex, 16);
            // A surrogate or a code point past U+10FFFF has no UTF-8 form: hclsyntax refuses it.
            if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) error('Invalid escape sequence', `Cannot encode character U+${code.toString(16)} in UTF-8.`, 2 + digits);
            else text += String.fromCodePoint(code);
            advance(2 + digits);
            continue;
          }
        }
        error('Invalid escape sequence', `The symbol "${next ?? ''}" is not a valid escape sequence selector.`, 2);
        advance(2);
        continue;
      }
      text += ch;
      advance(1);
      if (!quoted && ch === '\n') break; // a heredoc is checked for its delimiter line by line
    }
    if (text !== '' || offset > start.offset) tokens.push({ kind: 'literal', text, range: { file, start, end: pos() } });
  };

  const atHeredocEnd = (delimiter: string): number => {
    // At the start of a line: optional indentation, the delimiter, then end of line/file.
    const match = /^[ \t]*([^\s]+)[ \t]*(\r?\n|$)/.exec(source.slice(offset, offset + delimiter.length + 200));
    return match && match[1] === delimiter ? match[0].length - (match[2]?.length ?? 0) : -1;
  };

  while (offset < source.length) {
    const mode = top();
    if (mode?.kind === 'quoted') {
      const ch = source[offset]!;
      if (ch === '"') {
        emit('cquote', 1);
        modes.pop();
      } else if (ch === '\n') {
        error('Invalid multi-line string', 'Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the "heredoc" multi-line template syntax.');
        modes.pop();
      } else if ((ch === '$' || ch === '%') && source[offset + 1] === '{') {
        emit(ch === '$' ? 'interp' : 'control', 2);
        modes.push({ kind: 'interp' });
      } else scanTemplateText(true);
      continue;
    }
    if (mode?.kind === 'heredoc') {
      const atLineStart = offset === 0 || source[offset - 1] === '\n';
      const endLength = atLineStart ? atHeredocEnd(mode.delimiter) : -1;
      if (endLength >= 0) {
        emit('cheredoc', endLength);
        modes.pop();
        continue;
      }
      const ch = source[offset]!;
      if ((ch === '$' || ch === '%') && source[offset + 1] === '{') {
        emit(ch === '$' ? 'interp' : 'control', 2);
        modes.push({ kind: 'interp' });
      } else scanTemplateText(false);
      continue;
    }

    const ch = source[offset]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      advance(1);
      continue;
    }
    if (ch === '\n') {
      emit('newline', 1);
      continue;
    }
    if (ch === '#' || (ch === '/' && source[offset + 1] === '/')) {
      const newline = source.indexOf('\n', offset);
      const length = (newline < 0 ? source.length : newline) - offset;
      if (options.comments) emit('comment', length);
      else advance(length);
      continue;
    }
    if (ch === '/' && source[offset + 1] === '*') {
      const close = source.indexOf('*/', offset + 2);
      if (close < 0) {
        error('Unterminated comment', 'There is no closing marker for this comment.', 2);
        advance(source.length - offset);
      } else if (options.comments) emit('comment', close + 2 - offset);
      else advance(close + 2 - offset);
      continue;
    }
    if (ch === '"') {
      emit('oquote', 1);
      modes.push({ kind: 'quoted' });
      continue;
    }
    if (ch === '<' && source[offset + 1] === '<') {
      const match = /^<<(-?)([\p{L}_][\p{L}\p{N}_-]*)[ \t]*\r?\n/u.exec(source.slice(offset, offset + 200));
      if (match) {
        emit('oheredoc', match[0].length, match[2]!, { flush: match[1] === '-' });
        modes.push({ kind: 'heredoc', delimiter: match[2]! });
        continue;
      }
    }
    if (/[0-9]/.test(ch)) {
      const match = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(offset, offset + 400))!;
      emit('number', match[0].length);
      continue;
    }
    if (isIdentStart(ch)) {
      let end = offset + 1;
      while (end < source.length && isIdentContinue(source[end]!)) end++;
      emit('ident', end - offset);
      continue;
    }
    if (ch === '{') {
      emit('{', 1);
      modes.push({ kind: 'brace' });
      continue;
    }
    if (ch === '}') {
      const closing = top();
      if (closing?.kind === 'interp') emit('seqend', 1);
      else emit('}', 1);
      if (closing?.kind === 'brace' || closing?.kind === 'interp') modes.pop();
      continue;
    }
    const operator = OPERATORS.find((op) => source.startsWith(op, offset));
    if (operator) {
      emit(operator, operator.length);
      continue;
    }
    error('Invalid character', `This character is not used within the language: ${JSON.stringify(ch)}.`);
    emit('invalid', 1);
  }
  const unclosed = top();
  if (unclosed?.kind === 'heredoc') error('Unterminated template string', `No closing marker was found for the heredoc "${unclosed.delimiter}".`, 0);
  emit('eof', 0, '');
  return { tokens, diagnostics };
}
