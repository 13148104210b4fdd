// Problems in HCL2 templates: each at file:line:col with the line's text, Packer's summary,
// a detail sentence and a hint; and the schema checks every block shares.
import { relative } from 'node:path';
import { Problems, type SourceLocation } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { Attribute, Body, Expr } from './ast.js';
import type { Range } from './lexer.js';
import { evaluate, HclEvalError, type Scope } from './eval.js';
import { ENV_ONLY_IN_DEFAULTS } from './functions.js';
import type { Value } from './value.js';

export interface Diagnosed {
  summary: string;
  detail: string;
  range: Range;
  hint?: string;
}

/** Collects the problems of one load, with the text of every file read to quote their lines. */
export class HclReporter {
  readonly problems = new Problems();
  readonly warnings: string[] = [];
  private readonly sources = new Map<string, string>();

  constructor(private readonly cwd: string) {}

  addSource(file: string, text: string): void {
    this.sources.set(file, text);
  }

  location(range: Range): SourceLocation {
    const text = this.sources.get(range.file) ?? '';
    const lineText = text.split('\n')[range.start.line - 1] ?? '';
    const shown = relative(this.cwd, range.file) || range.file;
    return { file: shown.startsWith('..') ? range.file : shown, line: range.start.line, column: range.start.column, lineText: lineText.replace(/\r$/, '') };
  }

  report(d: Diagnosed): void {
    const at = this.location(d.range);
    const detail = d.detail ? ` ${d.detail}` : '';
    this.problems.add(`${at.file}:${at.line}:${at.column}`, `${d.summary}:${detail}`.replace(/:$/, ''), d.hint, at);
  }

  /** Evaluates, reporting a problem (and returning undefined) instead of throwing. */
  tryEvaluate(expr: Expr, scope: Scope): Value | undefined {
    try {
      return evaluate(expr, scope);
    } catch (error) {
      if (!(error instanceof HclEvalError)) throw error;
      const d = error.diagnostic;
      const hint = d.hint ?? (d.summary === 'Call to unknown function' && /"env"/.test(d.detail) ? ENV_ONLY_IN_DEFAULTS : undefined);
      this.report({ ...d, ...(hint ? { hint } : {}) });
      return undefined;
    }
  }
}

/** Loads a `.pkr.hcl`/`.pkr.json` file or a directory of them (see `loadTemplate`). */
export function attributes(body: Body): Map<string, Attribute> {
  const out = new Map<string, Attribute>();
  for (const item of body.items) if (item.kind === 'attribute') out.set(item.name, item);
  return out;
}

export function checkSchema(body: Body, load: HclReporter, allowed: { attributes: readonly string[]; blocks: readonly string[]; refused?: Readonly<Record<string, string>> }, where: string): void {
  const seen = new Map<string, Attribute>();
  for (const item of body.items) {
    if (item.kind === 'attribute') {
      const previous = seen.get(item.name);
      if (previous) load.report({ summary: 'Attribute redefined', detail: `The argument "${item.name}" was already set at line ${previous.range.start.line}. Each argument may be set only once.`, range: item.nameRange });
      seen.set(item.name, item);
      if (!allowed.attributes.includes(item.name)) {
        load.report({ summary: 'Unsupported argument', detail: `An argument named "${item.name}" is not expected here.`, range: item.nameRange, hint: didYouMean(item.name, allowed.attributes) ?? `${where} has ${allowed.attributes.join(', ') || 'no arguments'}` });
      }
    } else if (allowed.refused && Object.hasOwn(allowed.refused, item.type)) {
      load.report({ summary: 'Unsupported block type', detail: `Blocks of type "${item.type}" are not supported by kiln.`, range: item.typeRange, hint: allowed.refused[item.type]! });
    } else if (!allowed.blocks.includes(item.type)) {
      load.report({ summary: 'Unsupported block type', detail: `Blocks of type "${item.type}" are not expected here.`, range: item.typeRange, hint: didYouMean(item.type, allowed.blocks) ?? (allowed.blocks.length ? `${where} has ${allowed.blocks.join(', ')} blocks` : `${where} has no nested blocks`) });
    }
  }
}

