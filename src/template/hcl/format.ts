// HCL's canonical layout, as `packer fmt` writes it (Packer 1.6.6 formats with hclwrite's
// token-based formatter of hcl v2.3–2.7, which still writes `! x`). Only the whitespace between
// tokens changes: every token's text, every comment and every blank line stays. The rules, learnt from hclwrite and checked
// byte for byte against `packer fmt` (test/template/hcl/format.test.ts):
// - a line is cut in up to three cells: the lead, an `= value` assignment (when the value closes
//   every bracket it opens on that line) and a trailing comment;
// - indentation is two spaces per level; a line that opens more brackets than it closes starts a
//   level, one that closes more ends as many levels as it closes;
// - between two tokens of a cell there is one space or none (spaceBetween);
// - the `=` of consecutive assignment lines line up, and so do consecutive trailing comments;
// - heredoc text and the inside of quoted strings are kept as written (the `${…}` in them are
//   spaced like any expression).
// The caller checks that the text parses first (Packer refuses to format a file that does not).
import { scan, type Token as LexToken } from './lexer.js';

type Kind = LexToken['kind'] | 'quotedLit' | 'stringLit';

interface Token {
  kind: Kind;
  text: string;
  /** Spaces written before the token; recomputed for every token but the end of the file. */
  spaces: number;
}

interface Line {
  lead: Token[];
  assign: Token[];
  comment: Token[];
}

/** The source in canonical layout. */
export function formatHcl(source: string): string {
  const tokens = formatterTokens(source);
  const lines = splitLines(tokens);
  indent(lines);
  for (const line of lines) {
    spaceCell(line.lead);
    if (line.assign.length) {
      line.assign[0]!.spaces = 1;
      spaceCell(line.assign);
    }
  }
  alignCells(lines, (line) => line.assign, (line) => columns(line.lead));
  alignCells(lines, (line) => line.comment, (line) => columns(line.lead) + columns(line.assign));
  return tokens.map((token) => ' '.repeat(token.spaces) + token.text).join('');
}

/** The scanner's tokens as the formatter sees them: raw text, comments with their newline, `${~` and `~}` as one token. */
function formatterTokens(source: string): Token[] {
  const { tokens } = scan(source, '', { comments: true });
  const out: Token[] = [];
  const templates: Array<'quoted' | 'heredoc'> = [];
  let lastEnd = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    let start = token.range.start.offset;
    let end = token.range.end.offset;
    let kind: Kind = token.kind;
    const next = tokens[i + 1];
    if (kind === 'oquote') templates.push('quoted');
    else if (kind === 'oheredoc') templates.push('heredoc');
    else if (kind === 'cquote' || kind === 'cheredoc') templates.pop();
    else if (kind === 'literal') kind = templates[templates.length - 1] === 'heredoc' ? 'stringLit' : 'quotedLit';
    else if ((kind === 'interp' || kind === 'control') && next?.kind === '~' && next.range.start.offset === end) {
      end = next.range.end.offset; // `${~`: one token, as hclsyntax scans it
      i++;
    } else if (kind === '~' && next?.kind === 'seqend' && next.range.start.offset === end) {
      end = next.range.end.offset; // `~}`
      kind = 'seqend';
      i++;
    } else if (kind === 'comment' && !source.startsWith('/*', start) && next?.kind === 'newline') {
      end = next.range.end.offset; // a line comment ends with its newline
      i++;
    } else if (kind === 'newline' && source[start - 1] === '\r') start--;
    out.push({ kind, text: source.slice(start, end), spaces: kind === 'eof' ? Math.max(0, start - lastEnd) : 0 });
    lastEnd = end;
  }
  return out;
}

function endsLine(token: Token): boolean {
  return token.kind === 'newline' || (token.kind === 'comment' && token.text.endsWith('\n'));
}

function bracketChange(token: Token): number {
  switch (token.kind) {
    case '{':
    case '[':
    case '(':
    case 'interp':
    case 'control':
      return 1;
    case '}':
    case ']':
    case ')':
    case 'seqend':
      return -1;
    default:
      return 0;
  }
}

const netBrackets = (tokens: readonly Token[]): number => tokens.reduce((sum, token) => sum + bracketChange(token), 0);

function splitLines(tokens: Token[]): Line[] {
  const lines: Line[] = [];
  let current: Token[] = [];
  for (const token of tokens) {
    if (token.kind === 'eof') break;
    current.push(token);
    if (endsLine(token)) {
      lines.push({ lead: current, assign: [], comment: [] });
      current = [];
    }
  }
  if (current.length) lines.push({ lead: current, assign: [], comment: [] });
  for (const line of lines) {
    const last = line.lead[line.lead.length - 1];
    if (line.lead.length > 1 && last?.kind === 'comment') line.comment = line.lead.splice(-1);
    // The first `=` starts the assignment cell, if what follows it closes what it opens.
    const equals = line.lead.findIndex((token, i) => i > 0 && token.kind === '=');
    if (equals > 0 && netBrackets(line.lead.slice(equals)) === 0) line.assign = line.lead.splice(equals);
  }
  return lines;
}

function indent(lines: Line[]): void {
  // Each open level remembers how many brackets opened it, so that a line closing several
  // brackets at once ends the right number of levels.
  const levels: number[] = [];
  for (const line of lines) {
    const first = line.lead[0];
    if (!first) continue;
    if (first.kind === 'newline') {
      first.spaces = 0;
      continue;
    }
    // Brackets after a heredoc's opening belong to its text.
    const heredoc = line.lead.findIndex((token) => token.kind === 'oheredoc');
    const change = netBrackets(heredoc < 0 ? line.lead : line.lead.slice(0, heredoc + 1)) + netBrackets(line.assign);
    if (change > 0) {
      first.spaces = 2 * levels.length;
      levels.push(change);
      continue;
    }
    let closed = -change;
    while (closed > 0 && levels.length) {
      const top = levels[levels.length - 1]!;
      if (closed >= top) {
        levels.pop();
        closed -= top;
      } else {
        levels[levels.length - 1] = top - closed;
        closed = 0;
      }
    }
    first.spaces = 2 * levels.length;
  }
}

function spaceCell(cell: Token[]): void {
  for (let i = 0; i + 1 < cell.length; i++) cell[i + 1]!.spaces = spaceBetween(cell[i - 1], cell[i]!, cell[i + 1]!) ? 1 : 0;
}

const NEGATION_AFTER = new Set<Kind>(['(', '{', '[', '=', ':', ',', '?', '+', '*', '/', '%', '-', '==', '!=', '>', '>=', '<', '<=', '&&', '||', '!']);

/** Whether `subject` (after `before`, if any) and `after` are separated by a space. */
function spaceBetween(before: Token | undefined, subject: Token, after: Token): boolean {
  const s = subject.kind;
  const a = after.kind;
  if (a === 'newline') return false;
  if (s === 'ident' && a === '(') return false; // a function call
  if (s === '.' || a === '.') return false;
  if (a === ',' || a === '...') return false;
  if (s === ',') return true;
  // Template text is never padded.
  if (s === 'quotedLit' || s === 'stringLit' || s === 'oquote' || s === 'oheredoc') return false;
  if (a === 'quotedLit' || a === 'stringLit' || a === 'cquote' || a === 'cheredoc') return false;
  // `for x in [a]`: `in` is a keyword, not a name being indexed.
  if (s === 'ident' && subject.text === 'in' && before?.kind === 'ident') return true;
  if (a === '[' && (s === 'ident' || s === 'number' || bracketChange(subject) < 0)) return false;
  // A minus right after an operator, an opening bracket or a separator is a negation.
  if (s === '-') return before !== undefined && !NEGATION_AFTER.has(before.kind);
  if (s === '{' || a === '}') return !(s === '{' && a === '}');
  if ((s === 'interp' || s === 'control') && a === '{') return true;
  if (s === '}' && a === 'seqend') return true;
  if (s === 'seqend' && (a === 'interp' || a === 'control')) return false;
  if (bracketChange(subject) > 0) return false;
  if (bracketChange(after) < 0) return false;
  return true;
}

/** Lines up the first token of `cell` on consecutive lines that have one, one space after the widest text before it. */
function alignCells(lines: Line[], cell: (line: Line) => Token[], widthBefore: (line: Line) => number): void {
  let run: Line[] = [];
  const close = (): void => {
    const widest = Math.max(...run.map(widthBefore));
    for (const line of run) cell(line)[0]!.spaces = widest - widthBefore(line) + 1;
    run = [];
  };
  for (const line of lines) {
    if (cell(line).length) run.push(line);
    else if (run.length) close();
  }
  if (run.length) close();
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** The width of a cell: its spaces, and its text in grapheme clusters (as hclwrite counts). */
function columns(cell: readonly Token[]): number {
  let width = 0;
  for (const token of cell) {
    width += token.spaces;
    width += /^[\x20-\x7e]*$/.test(token.text) ? token.text.length : [...graphemes.segment(token.text)].length;
  }
  return width;
}
