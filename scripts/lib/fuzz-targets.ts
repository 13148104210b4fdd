// The fuzz targets of issue 25: kiln's input readers, each with a fast-check generator of inputs
// (grammar-aware where it helps: near-valid HCL2 and JSON templates, Packer's flag spellings) and a
// run that drives the real reader in-process the way a command does. The property, for every
// target and every input: kiln ends with success or with a refusal that `kiln` turns into exit 2
// with a message — never an unexpected exception (a stack trace, exit 1), a hang or an
// out-of-memory. test/fuzz/fuzz.test.ts runs a small budget; scripts/fuzz.ts a large one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CommandModule } from 'yargs';
import { runValidate } from '../../src/template/validate.js';
import { parseVarArgs, TemplateError } from '../../src/template/index.js';
import { readScalewayConfig } from '../../src/template/credentials.js';
import { Problems } from '../../src/template/errors.js';
import { scan } from '../../src/template/hcl/lexer.js';
import { parseFile, HclSyntaxError } from '../../src/template/hcl/parser.js';
import { hclFunctions } from '../../src/template/hcl/functions.js';
import { commands } from '../../src/cli/commands/index.js';
import { createCli, unknownFlagsMessage } from '../../src/cli/parse.js';

/** What one input made kiln do. `problem` is set when the property does not hold. */
export interface Outcome {
  /** The exit code kiln's command would end with (0 or 2 when all is well). */
  code: number;
  output: string;
  problem?: string;
}

export interface FuzzTarget<T> {
  name: string;
  /** What the target reads, for the reports. */
  describe: string;
  inputs: fc.Arbitrary<T>;
  run(input: T, dir: string): Promise<Outcome>;
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Strings as people and attackers write them: ASCII, unicode (astral, combining, RTL, NUL), escapes. */
const oddChar = fc.constantFrom('\u0000', '\n', '\r', '\t', '\\', '"', "'", '`', '$', '%', '{', '}', '[', ']', '(', ')', '=', ':', ',', '.', '#', '/', '*', '\u00e9', '\u0301', '\u202e', '\ufeff', '\ud83d\ude00', '\ud800', '\u2028', '<<', '~');
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 3 }), oddChar), { maxLength: 8 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
);
/** Names: identifiers, the ones JavaScript objects already have, and junk. */
const name = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'x', 'name', 'image', 'zone', 'region', 'token', 'list', 'map', 'v1', 'my-var', '_x') },
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', 'length') },
  { weight: 1, arbitrary: text },
);
const numberLiteral = fc.oneof(
  fc.integer({ min: -5, max: 2000 }).map(String),
  fc.constantFrom('0.5', '-1', '1e9', '1e16', '1e308', '1e309', '-0', '0x10', '1.', '.5', '1e', '9007199254740993', '1024', '1025', '-1e16'),
  fc.double({ noNaN: true }).map((n) => String(n)),
);

/** Drops, doubles or inserts one character at a random place: near-valid input. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(base, fc.nat(), fc.constantFrom('drop', 'double', 'insert', 'cut'), oddChar).map(([s, at, how, ch]) => {
    if (s.length === 0) return ch;
    const i = at % s.length;
    if (how === 'drop') return s.slice(0, i) + s.slice(i + 1);
    if (how === 'double') return s.slice(0, i + 1) + s.slice(i);
    if (how === 'cut') return s.slice(0, i);
    return s.slice(0, i) + ch + s.slice(i);
  });
}

function nearValid(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: base }, { weight: 2, arbitrary: mutated(base) }, { weight: 1, arbitrary: text });
}

// ---------------------------------------------------------------------------------------------
// HCL2: expressions from the grammar, with the real function names and odd arguments

const FUNCTIONS = [...hclFunctions({ cwd: '.', initTime: new Date(0), uuid: 'fuzz' }).keys()];

const hclString = fc.array(fc.oneof(text.map((t) => JSON.stringify(t).slice(1, -1)), oddChar.filter((c) => c !== '"' && c !== '\\')), { maxLength: 4 }).map((parts) => parts.join(''));

const { expr: hclExpr } = fc.letrec<{ expr: string; leaf: string; template: string }>((tie) => ({
  leaf: fc.oneof(
    numberLiteral,
    hclString.map((s) => `"${s}"`),
    fc.constantFrom('"__proto__"', '"constructor"', 'true', 'false', 'null', 'var.v', 'var.list', 'var.map', 'local.a', 'local.b', 'path.root', 'path.cwd', 'each.value', 'source.name', 'var.missing', 'x'),
  ),
  template: fc.array(fc.oneof(hclString, tie('expr').map((e) => `\${${e}}`), tie('expr').map((e) => `%{ if ${e} }a%{ else }b%{ endif }`), tie('expr').map((e) => `%{ for x in ${e} }\${x}%{ endfor }`)), { maxLength: 3 }).map((parts) => `"${parts.join('')}"`),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: tie('leaf') },
    { weight: 2, arbitrary: tie('template') },
    { weight: 3, arbitrary: fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...FUNCTIONS) }, { weight: 1, arbitrary: name }), fc.array(tie('expr'), { maxLength: 4 }), fc.boolean()).map(([f, args, spread]) => `${f}(${args.join(', ')}${spread && args.length ? '...' : ''})`) },
    { weight: 1, arbitrary: fc.array(tie('expr'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(name, tie('leaf')), tie('expr')), { maxLength: 3 }).map((kv) => `{${kv.map(([k, v]) => `${k} = ${v}`).join(', ')}}`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '%', '==', '!=', '<', '>=', '&&', '||'), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('-', '!'), tie('expr')).map(([op, e]) => `${op}${e}`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `${c} ? ${a} : ${b}`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), tie('expr')).map(([e, i]) => `${e}[${i}]`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), name).map(([e, n]) => `${e}.${n}`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), name).map(([e, n]) => `${e}[*].${n}`) },
    { weight: 1, arbitrary: tie('expr').map((e) => `(${e})`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), tie('expr'), fc.boolean()).map(([src, body, obj]) => (obj ? `{for k, v in ${src} : k => ${body}}` : `[for x in ${src} : ${body} if x != null]`)) },
  ),
}));

const hclVariableType = fc.constantFrom('string', 'number', 'bool', 'list(string)', 'map(number)', 'any', 'object({a=string})', 'tuple([string, number])', 'set(string)', 'list(list(any))');

/** A whole HCL2 template: variables, locals, a source and a build whose values are fuzzed expressions. */
const hclTemplate = fc
  .record({
    type: hclVariableType,
    dflt: hclExpr,
    a: hclExpr,
    b: hclExpr,
    image: hclExpr,
    extra: fc.array(fc.tuple(name, hclExpr), { maxLength: 2 }),
    provisioner: hclExpr,
  })
  .map(
    (t) => `variable "v" {
  type    = ${t.type}
  default = ${t.dflt}
}
variable "list" {
  default = ["a", "b", 3]
}
variable "map" {
  default = { a = 1, "b c" = "d" }
}
locals {
  a = ${t.a}
  b = ${t.b}
}
source "scaleway" "x" {
  access_key      = "SCWABCDEFGHIJKLMNOPQ"
  secret_key      = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
  project_id      = "11111111-2222-4333-8444-555555555555"
  zone            = "fr-par-1"
  commercial_type = "DEV1-S"
  image           = ${t.image}
${t.extra.map(([k, v]) => `  ${k} = ${v}`).join('\n')}
}
build {
  sources = ["source.scaleway.x"]
  provisioner "shell" {
    inline = [${t.provisioner}]
  }
}
`,
  );

/** Near-valid HCL2 text for the lexer and parser: nested brackets, heredocs, comments, cut tokens. */
const hclText = nearValid(
  fc.oneof(
    { weight: 3, arbitrary: hclTemplate },
    { weight: 2, arbitrary: hclExpr.map((e) => `locals {\n  x = ${e}\n}\n`) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.constantFrom('a {', '}', '[', ']', '(', ')', '{', '"', '${', '%{', '<<EOT\n', '\nEOT\n', '<<-X\n', '# c\n', '/* c', '*/', '// c\n', 'x = ', '1', '.', ',', ':', '=>', '...', '\n', ' ', '?', 'for', 'in', 'if', 'endif', 'endfor', '\\', '$${', '%%{', 'block "l" {\n'), { maxLength: 40 })
        .map((parts) => parts.join('')),
    },
  ),
);

// ---------------------------------------------------------------------------------------------
// JSON templates

const jsonString = fc.oneof(
  { weight: 3, arbitrary: text },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('user', 'env', 'timestamp', 'isotime', 'uuid', 'upper', 'lower', 'clean_resource_name', 'build_name', 'split', 'replace', 'template_dir', 'pwd', 'consul_key', 'nope'), fc.array(fc.oneof(name.map((n) => `\`${n}\``), text.map((t) => JSON.stringify(t)), numberLiteral), { maxLength: 3 }), fc.constantFrom('', ' | upper', '}}{{', '{{'))
      .map(([f, args, tail]) => `pre-{{${f} ${args.join(' ')}${tail}}}-post`),
  },
);
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    { weight: 4, arbitrary: jsonString },
    { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null)) },
    { weight: 1, arbitrary: fc.array(tie('v'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(name, tie('v'), { maxKeys: 3 }) },
  ),
})).v;

const BUILDER_KEYS = ['type', 'name', 'access_key', 'secret_key', 'api_access_key', 'api_token', 'project_id', 'organization_id', 'zone', 'region', 'image', 'commercial_type', 'snapshot_name', 'image_name', 'server_name', 'boot_type', 'bootscript', 'ssh_username', 'ssh_timeout', 'state_timeout', 'snapshot_timeout', 'image_timeout', 'remove_volume', 'ssh_private_key_file', 'user_data', 'tags', 'block_volume', 'root_volume', 'image_size_in_gb', 'communicator', 'ssh_port', 'api_url'];

const jsonTemplate = fc
  .record(
    {
      variables: fc.dictionary(name, jsonValue, { maxKeys: 3 }),
      'sensitive-variables': fc.oneof(fc.array(name, { maxLength: 2 }), jsonValue),
      builders: fc.oneof(
        { weight: 5, arbitrary: fc.array(fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...BUILDER_KEYS) }, { weight: 1, arbitrary: name }), jsonValue, { maxKeys: 6 }).map((b) => ({ type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', project_id: '11111111-2222-4333-8444-555555555555', ...b })), { minLength: 1, maxLength: 2 }) },
        { weight: 1, arbitrary: jsonValue },
      ),
      provisioners: fc.oneof(fc.array(fc.record({ type: fc.constantFrom('shell', 'file', 'shell-local', 'ansible', 'breakpoint', 'nope'), inline: jsonValue, source: jsonValue, destination: jsonValue, only: jsonValue, pause_before: jsonValue }, { requiredKeys: ['type'] }), { maxLength: 2 }), jsonValue),
      'post-processors': jsonValue,
      description: jsonValue,
      min_packer_version: jsonValue,
    },
    { requiredKeys: ['builders'] },
  )
  .map((t) => JSON.stringify(t));
const jsonText = nearValid(fc.oneof({ weight: 5, arbitrary: jsonTemplate }, { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null') }));

// ---------------------------------------------------------------------------------------------
// Running kiln's readers

const STACK_TRACE = /\n\s+at .*:\d+:\d+\)?(\n|$)/;

/** The one check every target shares: the exit code and the words a person reads. */
function judge(code: number, output: string): Outcome {
  if (code !== 0 && code !== 2) return { code, output, problem: `exit ${code}` };
  if (code === 2 && output.trim() === '') return { code, output, problem: 'exit 2 without a message' };
  if (STACK_TRACE.test(output)) return { code, output, problem: 'a stack trace in the output' };
  if (output.includes('[object Object]')) return { code, output, problem: 'an unreadable message: [object Object]' };
  return { code, output };
}

/** An exception thrown by kiln, as the outcome it is: exit 1 with a stack trace. */
function crashed(error: unknown): Outcome {
  const description = error instanceof Error ? `${error.name}: ${error.message}\n${(error.stack ?? '').split('\n').slice(1, 5).join('\n')}` : String(error);
  return { code: 1, output: description, problem: `unexpected exception: ${description}` };
}

/** `kiln validate <file>` in-process (runValidate is the command's whole implementation). */
async function validate(dir: string, files: Record<string, string>, template: string, extra: { var?: string[]; 'var-file'?: string[] } = {}): Promise<Outcome> {
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  const output: string[] = [];
  try {
    const code = await runValidate({ template: join(dir, template), ...extra }, { stdout: (t) => output.push(t), stderr: (t) => output.push(t) });
    return judge(code, output.join(''));
  } catch (error) {
    return crashed(error);
  }
}

export const jsonTemplateTarget: FuzzTarget<string> = {
  name: 'json-template',
  describe: 'the JSON template loader (kiln validate t.json)',
  inputs: jsonText,
  run: (input, dir) => validate(dir, { 't.json': input }, 't.json'),
};

export const hclLexerTarget: FuzzTarget<string> = {
  name: 'hcl-lexer',
  describe: 'the HCL2 lexer: tokens and diagnostics, never an exception',
  inputs: fc.oneof(hclText, fc.string({ unit: 'binary', maxLength: 200 })),
  async run(input) {
    try {
      const { diagnostics } = scan(input, 't.pkr.hcl', { comments: true });
      const bad = diagnostics.find((d) => !d.summary || !(d.range.start.line >= 1));
      return bad ? { code: 2, output: JSON.stringify(bad), problem: 'a diagnostic without a message or a line' } : { code: diagnostics.length ? 2 : 0, output: '' };
    } catch (error) {
      return crashed(error);
    }
  },
};

export const hclParserTarget: FuzzTarget<string> = {
  name: 'hcl-parser',
  describe: 'the HCL2 parser: a syntax tree or an HclSyntaxError with a place',
  inputs: hclText,
  async run(input) {
    try {
      parseFile(input, 't.pkr.hcl');
      return { code: 0, output: '' };
    } catch (error) {
      if (error instanceof HclSyntaxError) return judge(2, error.message);
      return crashed(error);
    }
  },
};

export const hclTemplateTarget: FuzzTarget<string> = {
  name: 'hcl-evaluator',
  describe: 'HCL2 templates end to end: lexer, parser, evaluator, functions, lowering (kiln validate t.pkr.hcl)',
  inputs: fc.oneof({ weight: 4, arbitrary: hclTemplate }, { weight: 1, arbitrary: hclText }),
  run: (input, dir) => validate(dir, { 't.pkr.hcl': input }, 't.pkr.hcl'),
};

/** --var values and a --var-file, for an HCL2 template (typed variables) and a JSON one. */
export const varsTarget: FuzzTarget<{ hcl: boolean; vars: string[]; varFile: string; varFileName: string }> = {
  name: 'vars',
  describe: '--var name=value and --var-file values (JSON and .pkrvars.hcl), for HCL2 and JSON templates',
  inputs: fc.record({
    hcl: fc.boolean(),
    vars: fc.array(
      fc.oneof(
        fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constantFrom('s', 'n', 'b', 'l', 'm', 'o') }, { weight: 1, arbitrary: name }), fc.oneof(text, hclExpr, jsonValue.map((v) => JSON.stringify(v) ?? ''))).map(([n, v]) => `${n}=${v}`),
        text,
      ),
      { maxLength: 3 },
    ),
    varFileName: fc.constantFrom('v.json', 'v.pkrvars.hcl', 'v.auto.pkrvars.json', 'v.txt'),
    varFile: nearValid(fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('s', 'n', 'b', 'l', 'm', 'o'), name), jsonValue, { maxKeys: 3 }).map((d) => JSON.stringify(d)), fc.array(fc.tuple(fc.oneof(fc.constantFrom('s', 'n', 'b', 'l', 'm', 'o'), name), hclExpr), { maxLength: 3 }).map((kv) => kv.map(([k, v]) => `${k} = ${v}`).join('\n')))),
  }),
  async run(input, dir) {
    const template = input.hcl ? 't.pkr.hcl' : 't.json';
    const files = { [input.varFileName]: input.varFile, [template]: input.hcl ? TYPED_HCL : TYPED_JSON };
    // parseVarArgs is what the commands call on --var before loading (templateInputsFromArgv).
    try {
      parseVarArgs(input.vars);
    } catch (error) {
      if (!(error instanceof TemplateError)) return crashed(error);
    }
    return validate(dir, files, template, { var: input.vars, 'var-file': [join(dir, input.varFileName)] });
  },
};

const TYPED_HCL = `variable "s" {\n  type = string\n  default = "x"\n}\nvariable "n" {\n  type = number\n  default = 1\n}\nvariable "b" {\n  type = bool\n  default = true\n}\nvariable "l" {\n  type = list(string)\n  default = []\n}\nvariable "m" {\n  type = map(number)\n  default = {}\n}\nvariable "o" {\n  type = object({ a = string, b = list(number) })\n  default = { a = "x", b = [] }\n}\nsource "scaleway" "x" {\n  access_key = "SCWABCDEFGHIJKLMNOPQ"\n  secret_key = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"\n  project_id = "11111111-2222-4333-8444-555555555555"\n  zone = "fr-par-1"\n  commercial_type = "DEV1-S"\n  image = "\${var.s}-\${var.n}"\n  tags = var.l\n}\nbuild {\n  sources = ["source.scaleway.x"]\n}\n`;
const TYPED_JSON = JSON.stringify({
  variables: { s: 'x', n: '1', b: '', l: '', m: null, o: '{{env `HOME`}}' },
  builders: [{ type: 'scaleway', access_key: 'SCWABCDEFGHIJKLMNOPQ', secret_key: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', project_id: '11111111-2222-4333-8444-555555555555', zone: 'fr-par-1', commercial_type: 'DEV1-S', image: '{{user `s`}}-{{user `n`}}', snapshot_name: '{{user `b`}}{{user `l`}}{{user `m`}}' }],
});

/** The Scaleway CLI's config.yaml: YAML-ish text, profiles, aliases, and the profile asked for. */
export const scwConfigTarget: FuzzTarget<{ content: string; profile: string | undefined }> = {
  name: 'scw-config',
  describe: 'the scw config.yaml reader (profiles, SCW_PROFILE)',
  inputs: fc.record({
    profile: fc.option(name, { nil: undefined }),
    content: nearValid(
      fc.oneof(
        fc
          .record({ active_profile: fc.option(name, { nil: undefined }), access_key: jsonValue, secret_key: jsonValue, default_zone: jsonValue, profiles: fc.oneof(fc.dictionary(name, fc.dictionary(fc.constantFrom('access_key', 'secret_key', 'default_zone', 'api_url', 'default_project_id'), jsonValue, { maxKeys: 3 }), { maxKeys: 3 }), jsonValue) }, { requiredKeys: [] })
          .map((doc) => yamlOf(doc)),
        fc.constantFrom('a: &a [x]\nb: *a\n', 'a: !!binary x\n', '--- 1\n--- 2\n', '? [a]\n: b\n', 'profiles: &p\n  x: *p\n', 'a: &a [1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d]\n', '%YAML 1.1\n---\na: b\n', 'a: !!js/function x\n', '<<: {access_key: x}\n'),
        text,
      ),
    ),
  }),
  async run(input, dir) {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, input.content);
    try {
      const problems = new Problems();
      const file = await readScalewayConfig({ SCW_CONFIG_PATH: path, ...(input.profile === undefined ? {} : { SCW_PROFILE: input.profile }) }, undefined, problems);
      if (file.status !== 'loaded' && problems.count === 0) return { code: 2, output: file.status, problem: `status "${file.status}" without a problem to report` };
      for (const value of Object.values(file.settings)) if (typeof value !== 'string') return { code: 0, output: String(value), problem: 'a setting that is not a string' };
      return judge(problems.count ? 2 : 0, problems.list.map((p) => `${p.path}: ${p.message}`).join('\n'));
    } catch (error) {
      return crashed(error);
    }
  },
};

function yamlOf(doc: unknown, indent = ''): string {
  if (doc === null || typeof doc !== 'object') return JSON.stringify(doc) ?? 'null';
  if (Array.isArray(doc)) return doc.length ? `\n${doc.map((v) => `${indent}- ${yamlOf(v, `${indent}  `)}`).join('\n')}` : '[]';
  const entries = Object.entries(doc as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return entries.length ? `\n${entries.map(([k, v]) => `${indent}${JSON.stringify(k)}: ${yamlOf(v, `${indent}  `)}`).join('\n')}` : '{}';
}

// ---------------------------------------------------------------------------------------------
// argv: kiln's yargs parser with every command's handler replaced (nothing runs), process.exit
// turned into an exception for the duration of one parse.

const FLAGS = ['--var', '-var', '-var=a=b', '--var-file', '-var-file=v.json', '-only=a', '-except', '--json', '-machine-readable', '--print', '--syntax-only', '-syntax-only=false', '--force', '-force', '--on-error=abort', '-on-error', '-on-error=ask', '--parallel-builds', '-parallel-builds=-1', '--timestamp-ui', '--color=false', '--debug', '--sim', '--db', '--help', '-h', '--version', '-v', '--older-than', '7d', '--limit', '--', '-', '--no-color', '--wait', '--cache', '--no-cache', '--follow', '--format', '--latency', 'fast', '--port', '0', '-x', '--zzz', '--var=', '---var', '--json=maybe'];
const WORDS = ['build', 'resume', 'gc', 'ls', 'show', 'ui', 'db', 'init', 'validate', 'fmt', 'inspect', 'console', 'upgrade', 'sim', 'version', 'completion', 'help', 'biuld', 'validat', 't.json', 't.pkr.hcl', 'a=b', '=', 'kiln-b1', ''];
const argvInputs = fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...WORDS) }, { weight: 3, arbitrary: fc.constantFrom(...FLAGS) }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: numberLiteral }), { maxLength: 6 });

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const capturing = commands.map((c): CommandModule<any, any> => ({ ...c, handler: () => undefined }));

export const argvTarget: FuzzTarget<string[]> = {
  name: 'argv',
  describe: "kiln's command line (src/cli/parse.ts: unknown flags, then yargs), handlers not run",
  inputs: argvInputs,
  async run(args) {
    const unknown = (() => {
      try {
        return { message: unknownFlagsMessage(args) };
      } catch (error) {
        return { error };
      }
    })();
    if ('error' in unknown) return crashed(unknown.error);
    if (unknown.message !== undefined) return judge(2, unknown.message);
    const output: string[] = [];
    const realExit = process.exit;
    const realWrite = process.stderr.write;
    const realLog = console.log;
    const realError = console.error;
    process.exit = ((code?: number) => {
      throw new ExitCalled(code ?? 0);
    }) as typeof process.exit;
    process.stderr.write = ((chunk: string) => (output.push(String(chunk)), true)) as typeof process.stderr.write;
    console.log = (...parts: unknown[]) => void output.push(parts.join(' '));
    console.error = console.log;
    try {
      await createCli(args, capturing).parseAsync();
      return judge(0, output.join(''));
    } catch (error) {
      if (error instanceof ExitCalled) return judge(error.code, output.join(''));
      return crashed(error);
    } finally {
      process.exit = realExit;
      process.stderr.write = realWrite;
      console.log = realLog;
      console.error = realError;
    }
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const TARGETS: FuzzTarget<any>[] = [jsonTemplateTarget, hclLexerTarget, hclParserTarget, hclTemplateTarget, varsTarget, scwConfigTarget, argvTarget];

/** A fresh directory for a target's files. */
export function fuzzDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** How long one input may take before it counts as a hang (generous: the machine is busy). */
export const PER_INPUT_MS = 10_000;

/**
 * Runs `runs` inputs of a target; resolves with fast-check's report. An input fails when its
 * outcome has a problem or it takes longer than `perInputMs`.
 */
export async function fuzz<T>(target: FuzzTarget<T>, options: { runs: number; seed: number; perInputMs?: number; onInput?: (input: T) => void }): Promise<{ tried: number; details: fc.RunDetails<[T]> }> {
  const { dir, remove } = fuzzDir();
  let tried = 0;
  const limit = options.perInputMs ?? PER_INPUT_MS;
  try {
    const property = fc.asyncProperty(target.inputs, async (input) => {
      tried++;
      options.onInput?.(input);
      const started = performance.now();
      const outcome = await target.run(input, dir);
      const ms = performance.now() - started;
      if (outcome.problem) throw new Error(`${outcome.problem}\n--- output (exit ${outcome.code}) ---\n${outcome.output.slice(0, 1500)}`);
      if (ms > limit) throw new Error(`took ${Math.round(ms)} ms (more than ${limit} ms): a hang`);
    });
    const details = await fc.check(property, { numRuns: options.runs, seed: options.seed, endOnFailure: false, verbose: 0 });
    return { tried, details };
  } finally {
    remove();
  }
}
