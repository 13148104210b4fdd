// Packer's JSON template language: Go text/template actions inside strings, `{{user `x`}}`,
// `{{env `X`}}`, `{{timestamp}}`, `{{uuid}}`, `{{isotime "2006-01-02"}}`, `{{build_name}}`, …
// kiln implements the part of Go's template syntax that Packer templates use: function calls
// with string/number arguments, parenthesised calls, pipelines (`a | b`), `{{- trim -}}` markers,
// string-literal actions (`{{"{{"}}` writes braces) and the fields (`{{ .Path }}`, `{{- .Vars -}}`,
// any spelling Go accepts) of keys such as `execute_command` that the provisioner fills in when it
// runs: the load keeps each as `{{.Name}}` and renderFields() fills it in, with this same reader.
import { isoTime } from './isotime.js';
import { closest } from './suggest.js';

/** Where the string being evaluated lives: Packer allows `env` only in `variables`, and the
 *  build functions only where there is a build. */
export type TemplateSection = 'variables' | 'builder' | 'provisioner';

export interface InterpolationContext {
  section: TemplateSection;
  /** Value of a user variable, or undefined when it is neither declared nor set. */
  user: (name: string) => string | undefined;
  /** Told of a `{{user}}` of a variable that is neither declared nor set: it reads as "" (as in
   *  Packer), and the load warns. */
  onUnknownUser?: (name: string) => void;
  /** Declared variable names, for "did you mean" hints. */
  userNames: () => string[];
  env: Readonly<Record<string, string | undefined>>;
  /** The load's single instant: `timestamp` and `isotime` both read it (Packer's InitTime). */
  initTime: Date;
  /** The load's single UUID: every `{{uuid}}` in one load gives the same value. */
  uuid: string;
  templateDir: string;
  buildName?: string;
  buildType?: string;
  /** Fields (`Path`, `Vars`) left in place, as `{{.Name}}`, for the provisioner to fill in at run time. */
  keepFields?: readonly string[];
  /** The fields' values at run time (renderFields). */
  fields?: Readonly<Record<string, string>>;
}

/** A problem with one template expression; the caller adds the key path. */
export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The functions kiln understands, for messages. */
export const TEMPLATE_FUNCTIONS = [
  'user',
  'env',
  'timestamp',
  'uuid',
  'isotime',
  'build_name',
  'build_type',
  'template_dir',
  'pwd',
  'or',
  'lower',
  'upper',
  'split',
  'replace',
  'replace_all',
  'build',
] as const;

/** `{{build \`X\`}}` values known once the server is up (Packer's BuilderDataCommonKeys without
 *  the secret ones): kept as written at load time, filled in before each provisioner runs. */
export const BUILD_VALUES = ['ID', 'Host', 'Port', 'User', 'SSHPublicKey', 'PackerRunUUID', 'ConnType'] as const;
export type BuildValues = Record<(typeof BUILD_VALUES)[number], string>;
const SECRET_BUILD_VALUES = ['Password', 'SSHPrivateKey', 'WinRMPassword'];

const DEFERRED_BUILD = /\{\{build `(\w+)`\}\}/g;

const isBuildPlaceholder = (text: string): boolean => /^\{\{build `\w+`\}\}$/.test(text);

/** Fills the `{{build \`X\`}}` placeholders the load kept in every string of `value`. */
export function fillBuildValues<T>(value: T, values: BuildValues): T {
  if (typeof value === 'string') return value.replace(DEFERRED_BUILD, (whole, name: string) => values[name as keyof BuildValues] ?? whole) as T;
  if (Array.isArray(value)) return value.map((item) => fillBuildValues(item, values)) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillBuildValues(v, values)])) as T;
  return value;
}

// Packer functions kiln knows of but does not implement: say so rather than "unknown".
const PACKER_ONLY_FUNCTIONS = new Set([
  'clean_resource_name',
  'consul_key',
  'vault',
  'aws_secretsmanager',
  'packer_version',
  'sed',
  'clean_ami_name',
]);

type Token =
  | { kind: 'ident'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'field'; name: string }
  | { kind: '(' | ')' | '|' };

type Node =
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'literal'; value: string }
  | { kind: 'field'; name: string }
  | { kind: 'pipeline'; commands: Node[][] };

/** True when the text contains a template action. */
export function hasActions(text: string): boolean {
  return text.includes('{{');
}

/** Evaluates every `{{ … }}` action in `text`. Throws InterpolationError on the first bad action. */
export function interpolate(text: string, ctx: InterpolationContext): string {
  if (!hasActions(text)) return text;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open < 0) {
      out += text.slice(pos);
      break;
    }
    let literal = text.slice(pos, open);
    let start = open + 2;
    // `{{- ` trims the whitespace before the action (Go requires the space after the dash).
    if (text.startsWith('- ', start) || text.startsWith('-\t', start) || text.startsWith('-\n', start)) {
      literal = literal.trimEnd();
      start += 1;
    }
    out += literal;
    const { end, body, trimAfter } = findActionEnd(text, start);
    out += evaluateAction(body, ctx);
    pos = end;
    if (trimAfter) while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  }
  return out;
}

// Finds the closing `}}`, skipping over quoted strings (which may contain braces).
function findActionEnd(text: string, start: number): { end: number; body: string; trimAfter: boolean } {
  let i = start;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === '`') {
      const close = text.indexOf('`', i + 1);
      if (close < 0) break;
      i = close + 1;
      continue;
    }
    if (text.startsWith('}}', i)) {
      const trimAfter = /\s-$/.test(text.slice(start, i));
      const body = trimAfter ? text.slice(start, i - 1) : text.slice(start, i);
      return { end: i + 2, body, trimAfter };
    }
    i++;
  }
  throw new InterpolationError(`unclosed template action "${text.slice(start - 2, start + 30)}": "{{" has no matching "}}"`, 'close it with "}}", or write a literal "{{" as {{"{{"}}');
}

function tokenize(body: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === '|') {
      tokens.push({ kind: ch });
      i++;
    } else if (ch === '`') {
      const close = body.indexOf('`', i + 1);
      if (close < 0) throw new InterpolationError('unterminated raw string (a backquote is not closed)');
      tokens.push({ kind: 'string', value: body.slice(i + 1, close) });
      i = close + 1;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      if (j >= body.length) throw new InterpolationError('unterminated string (a double quote is not closed)');
      try {
        tokens.push({ kind: 'string', value: JSON.parse(body.slice(i, j + 1)) as string });
      } catch {
        throw new InterpolationError(`bad escape sequence in the string ${body.slice(i, j + 1)}`);
      }
      i = j + 1;
    } else if (ch === '.') {
      const match = /^\.([A-Za-z_][A-Za-z0-9_]*)?/.exec(body.slice(i))!;
      tokens.push({ kind: 'field', name: match[1] ?? '' });
      i += match[0].length;
    } else if (/[0-9-]/.test(ch)) {
      const match = /^-?[0-9][0-9.]*/.exec(body.slice(i));
      if (!match) throw new InterpolationError(`unexpected "${ch}" in {{${body}}}`);
      tokens.push({ kind: 'number', value: match[0] });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i))!;
      tokens.push({ kind: 'ident', name: match[0] });
      i += match[0].length;
    } else {
      throw new InterpolationError(`unexpected "${ch}" in {{${body}}}`);
    }
  }
  return tokens;
}

// pipeline := command ('|' command)* ; command := operand+ ; operand := ident | string | number | field | '(' pipeline ')'
function parse(tokens: Token[], body: string): Node {
  let pos = 0;
  const pipeline = (): Node => {
    const commands: Node[][] = [command()];
    while (tokens[pos]?.kind === '|') {
      pos++;
      commands.push(command());
    }
    return { kind: 'pipeline', commands };
  };
  const command = (): Node[] => {
    const operands: Node[] = [];
    for (;;) {
      const token = tokens[pos];
      if (!token || token.kind === ')' || token.kind === '|') break;
      pos++;
      if (token.kind === '(') {
        operands.push(pipeline());
        if (tokens[pos]?.kind !== ')') throw new InterpolationError(`missing ")" in {{${body}}}`);
        pos++;
      } else if (token.kind === 'ident') operands.push({ kind: 'call', name: token.name, args: [] });
      else if (token.kind === 'string' || token.kind === 'number') operands.push({ kind: 'literal', value: token.value });
      else if (token.kind === 'field') operands.push({ kind: 'field', name: token.name });
    }
    if (operands.length === 0) throw new InterpolationError(`empty template action {{${body}}}`, 'remove it, or write a literal "{{" as {{"{{"}}');
    return operands;
  };
  const node = pipeline();
  if (pos < tokens.length) throw new InterpolationError(`unexpected "${tokens[pos]!.kind === ')' ? ')' : '|'}" in {{${body}}}`);
  return node;
}

function evaluateAction(body: string, ctx: InterpolationContext): string {
  const tokens = tokenize(body);
  // `{{ .Path }}` in execute_command is filled in by the provisioner at run time: keep it, in one
  // spelling (the trim markers have done their work on the text around it already).
  if (tokens.length === 1 && tokens[0]!.kind === 'field' && ctx.keepFields?.includes(tokens[0]!.name)) return `{{.${tokens[0]!.name}}}`;
  const value = evaluate(parse(tokens, body), ctx, []);
  // What is kept is read again at run time: braces in a value must stay text then.
  // (A `{{build \`ID\`}}` placeholder stays one: the engine fills it in before the provisioner runs.)
  return ctx.keepFields && !isBuildPlaceholder(value) ? value.replaceAll('{{', '{{"{{"}}') : value;
}

/**
 * Fills in the fields a load kept (`{{.Path}}`, `{{.Vars}}`…) with their run-time values: the
 * same reader as the load's, with no function left to call.
 */
export function renderFields(template: string, values: Readonly<Record<string, string>>): string {
  return interpolate(template, {
    section: 'provisioner',
    user: () => undefined,
    userNames: () => [],
    env: {},
    initTime: new Date(0),
    uuid: '',
    templateDir: '',
    fields: values,
  });
}

function evaluate(node: Node, ctx: InterpolationContext, piped: string[]): string {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'field': {
      const value = ctx.fields?.[node.name];
      if (value !== undefined) return value;
      const fields = ctx.keepFields?.length ? ctx.keepFields.map((f) => `{{.${f}}}`).join(' and ') : undefined;
      throw new InterpolationError(
        `{{.${node.name}}} has no value here`,
        fields ? `only ${fields} can be used in this key, each on its own` : '{{.Path}} and {{.Vars}} exist only in a shell provisioner\'s execute_command',
      );
    }
    case 'pipeline': {
      let result: string[] = piped;
      for (const command of node.commands) result = [evaluateCommand(command, ctx, result)];
      return result[0]!;
    }
    case 'call':
      return call(node.name, [...piped], ctx);
  }
}

function evaluateCommand(operands: Node[], ctx: InterpolationContext, piped: string[]): string {
  const [head, ...rest] = operands;
  if (head!.kind === 'call') {
    const args = rest.map((operand) => evaluate(operand, ctx, []));
    return call(head!.name, [...args, ...piped], ctx);
  }
  if (rest.length > 0 || piped.length > 0) throw new InterpolationError('only a function can take arguments');
  return evaluate(head!, ctx, []);
}

function arity(name: string, args: string[], count: number, usage: string): void {
  if (args.length !== count) {
    throw new InterpolationError(`${name} takes ${count === 0 ? 'no arguments' : count === 1 ? 'one argument' : `${count} arguments`}, got ${args.length}`, `write ${usage}`);
  }
}

function call(name: string, args: string[], ctx: InterpolationContext): string {
  switch (name) {
    case 'user': {
      arity(name, args, 1, '{{user `name`}}');
      const value = ctx.user(args[0]!);
      if (value !== undefined) return value;
      // Packer 1.6.6 reads a variable that is neither declared nor set as "" (a warning says so).
      ctx.onUnknownUser?.(args[0]!);
      return '';
    }
    case 'env':
      arity(name, args, 1, '{{env `NAME`}}');
      if (ctx.section !== 'variables') {
        throw new InterpolationError(
          `{{env}} can only be used in the "variables" section (as in Packer)`,
          `declare a variable such as "my_var": "{{env \`${args[0]}\`}}" and use {{user \`my_var\`}} here`,
        );
      }
      // Own keys only: {{env `__proto__`}} is not Object's prototype.
      return (Object.hasOwn(ctx.env, args[0]!) ? ctx.env[args[0]!] : undefined) ?? '';
    case 'timestamp':
      arity(name, args, 0, '{{timestamp}}');
      return String(Math.floor(ctx.initTime.getTime() / 1000));
    case 'uuid':
      arity(name, args, 0, '{{uuid}}');
      return ctx.uuid;
    case 'isotime':
      if (args.length > 1) arity(name, args, 1, '{{isotime}} or {{isotime "2006-01-02"}}');
      return isoTime(ctx.initTime, args[0]);
    case 'build_name':
    case 'build_type': {
      arity(name, args, 0, `{{${name}}}`);
      const value = name === 'build_name' ? ctx.buildName : ctx.buildType;
      if (value === undefined) throw new InterpolationError(`{{${name}}} has no value in the "variables" section`, 'use it in a builder or provisioner');
      return value;
    }
    case 'build': {
      arity(name, args, 1, '{{build `ID`}}');
      const key = args[0]!;
      if (SECRET_BUILD_VALUES.includes(key)) throw new InterpolationError(`{{build \`${key}\`}} is a secret kiln does not hand to templates`, `kiln offers ${BUILD_VALUES.join(', ')}`);
      if (!(BUILD_VALUES as readonly string[]).includes(key)) {
        throw new InterpolationError(`{{build \`${key}\`}} is not a build value`, closest(key, BUILD_VALUES) ? `did you mean "${closest(key, BUILD_VALUES)}"?` : `kiln offers ${BUILD_VALUES.join(', ')}`);
      }
      if (ctx.section !== 'provisioner') throw new InterpolationError(`{{build \`${key}\`}} is known only once the server is up`, 'use it in a provisioner');
      return `{{build \`${key}\`}}`;
    }
    case 'template_dir':
      arity(name, args, 0, '{{template_dir}}');
      return ctx.templateDir;
    case 'pwd':
      arity(name, args, 0, '{{pwd}}');
      return process.cwd();
    case 'or':
      if (args.length === 0) throw new InterpolationError('or needs at least one argument', 'write {{or (user `a`) "default"}}');
      return args.find((arg) => arg !== '') ?? args[args.length - 1]!;
    case 'lower':
      arity(name, args, 1, '{{lower `TEXT`}}');
      return args[0]!.toLowerCase();
    case 'upper':
      arity(name, args, 1, '{{upper `text`}}');
      return args[0]!.toUpperCase();
    case 'split': {
      // Packer's split(text, separator, index): the index-th piece of text.
      arity(name, args, 3, '{{split (user `version`) "-" 0}}');
      const pieces = goSplit(args[0]!, args[1]!);
      const index = integerArgument(name, args[2]!);
      if (index < 0 || index >= pieces.length) {
        throw new InterpolationError(`split: piece ${index} of "${args[0]}" does not exist: the separator "${args[1]}" gives ${pieces.length}`, 'count pieces from 0');
      }
      return pieces[index]!;
    }
    case 'replace': {
      // Go's strings.Replace(text, old, new, n) written as Packer's replace(old, new, n, text): n < 0 replaces all.
      arity(name, args, 4, '{{replace "v" "" 1 (user `version`)}} or {{user `version` | replace "v" "" 1}}');
      return goReplace(args[3]!, args[0]!, args[1]!, integerArgument(name, args[2]!));
    }
    case 'replace_all':
      arity(name, args, 3, '{{replace_all "-" "_" (user `name`)}}');
      return goReplace(args[2]!, args[0]!, args[1]!, -1);
    default: {
      if (PACKER_ONLY_FUNCTIONS.has(name)) {
        throw new InterpolationError(`the Packer function "${name}" is not supported by kiln`, `kiln supports ${TEMPLATE_FUNCTIONS.join(', ')}`);
      }
      const suggestion = closest(name, TEMPLATE_FUNCTIONS);
      throw new InterpolationError(
        `unknown template function "${name}"`,
        suggestion ? `did you mean "${suggestion}"?` : `kiln supports ${TEMPLATE_FUNCTIONS.join(', ')}`,
      );
    }
  }
}

function integerArgument(name: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InterpolationError(`${name} needs a whole number where "${value}" is`, 'write the number without quotes, such as 0 or -1');
  return Number(value);
}

// Go's strings.Split: an empty separator splits after each character.
function goSplit(text: string, separator: string): string[] {
  return separator === '' ? [...text] : text.split(separator);
}

// Go's strings.Replace: the first n matches (all when n < 0); an empty `old` matches before each character and at the end.
function goReplace(text: string, old: string, replacement: string, n: number): string {
  if (n === 0) return text;
  const pieces = old === '' ? ['', ...text, ''] : text.split(old);
  const limit = n < 0 ? pieces.length - 1 : Math.min(n, pieces.length - 1);
  let out = pieces[0]!;
  for (let i = 1; i < pieces.length; i++) out += (i <= limit ? replacement : old) + pieces[i]!;
  return out;
}
