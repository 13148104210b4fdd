// `kiln inspect`: what a template defines, in `packer inspect`'s layout so that a script or a
// person used to it reads the same thing. JSON templates are shown as written (Packer's "JSON
// mode": variables with their raw defaults, builders, provisioners); HCL2 templates with their
// evaluated variables and locals and each build's sources, provisioners and post-processors
// ("HCL2 mode"). The result is a list of Packer UI messages (and, for JSON templates, Packer's
// machine-readable template-* lines), which the command prints plainly or machine-readable.
import { isObject, type JsonObject } from './fields.js';
import { evaluateHcl } from './hcl-load.js';
import type { Block } from './hcl/ast.js';
import { attributes } from './hcl/report.js';
import { renderMultiline, type Value } from './hcl/value.js';
import { redactText } from './redact.js';
import type { LoadTemplateOptions } from './build-specs.js';
import { isHclTemplate } from './load.js';
import { readJsonTemplate } from './json-template.js';

export type InspectMessage = { say: string } | { machine: string; data: string[] };

export async function inspectTemplate(path: string, options: LoadTemplateOptions = {}): Promise<InspectMessage[]> {
  if (await isHclTemplate(path)) return inspectHcl(await inspectHclTemplate(path, options));
  return inspectJson(await readJsonTemplate(path));
}

/** A variable default as printed (Packer's variables are strings; kiln's JSON loader says so for the others). */
function defaultText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function inspectJson(template: JsonObject): InspectMessage[] {
  const out: InspectMessage[] = [{ say: 'Packer Inspect: JSON mode' }];
  const say = (text: string): void => void out.push({ say: text });
  if (typeof template.description === 'string' && template.description !== '') {
    say('Description:\n');
    say(`${template.description}\n`);
  }
  const variables = isObject(template.variables) ? template.variables : {};
  const sensitive = new Set(Array.isArray(template['sensitive-variables']) ? template['sensitive-variables'].map(String) : []);
  const names = Object.keys(variables).sort();
  if (names.length === 0) {
    say('Variables:\n');
    say('  <No variables>');
  } else {
    const shown = (name: string): string => (sensitive.has(name) ? '<sensitive>' : defaultText(variables[name]));
    const required = names.filter((name) => variables[name] === null);
    if (required.length) {
      say('Required variables:\n');
      for (const name of required) {
        out.push({ machine: 'template-variable', data: [name, shown(name), '1'] });
        say(`  ${name}`);
      }
      say('');
    }
    say('Optional variables and their defaults:\n');
    const width = Math.max(...names.map((n) => n.length));
    for (const name of names.filter((n) => variables[n] !== null)) {
      out.push({ machine: 'template-variable', data: [name, shown(name), '0'] });
      say(`  ${name.padEnd(width)} = ${shown(name)}`);
    }
  }
  say('');
  say('Builders:\n');
  const builders = (Array.isArray(template.builders) ? template.builders : []).filter(isObject).map((b) => ({ type: String(b.type ?? ''), name: String(b.name ?? b.type ?? '') }));
  if (builders.length === 0) say('  <No builders>');
  else {
    const width = Math.max(...builders.map((b) => b.name.length));
    for (const builder of [...builders].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      out.push({ machine: 'template-builder', data: [builder.name, builder.type] });
      say(`  ${builder.name.padEnd(width)}${builder.name !== builder.type ? ` (${builder.type})` : ''}`);
    }
  }
  say('');
  say('Provisioners:\n');
  const provisioners = (Array.isArray(template.provisioners) ? template.provisioners : []).filter(isObject).map((p) => String(p.type ?? ''));
  if (provisioners.length === 0) say('  <No provisioners>');
  for (const type of provisioners) {
    out.push({ machine: 'template-provisioner', data: [type] });
    say(`  ${type}`);
  }
  say(
    "\nNote: If your build names contain user variables or template\nfunctions such as 'timestamp', these are processed at build time,\nand therefore only show in their raw form here.",
  );
  return out;
}

/** What `packer inspect` shows of an HCL2 template: variables, locals, and each build's sources, provisioners and post-processors. */
export interface HclInspection {
  variables: Record<string, { value: Value; sensitive: boolean }>;
  locals: Record<string, Value>;
  builds: HclBuildInspection[];
  /** The string values of the sensitive variables, to hide wherever they show. */
  sensitiveValues: string[];
}

/** One build block as `packer inspect` names its parts: `scaleway.NAME`, `type` or `type.name`. */
export interface HclBuildInspection {
  name?: string;
  description?: string;
  sources: string[];
  provisioners: string[];
  /** Each list runs in sequence: a `post-processor` block is a list of one, a `post-processors` block a longer one. */
  postProcessors: string[][];
}

/** Evaluates variables and locals (throws TemplateError like loadTemplate); sensitive values are kept, flagged. */
export async function inspectHclTemplate(path: string, options: LoadTemplateOptions = {}): Promise<HclInspection> {
  const { blocks, variables, locals, scope, load, sensitiveValues } = await evaluateHcl(path, options);
  const text = (block: Block, name: string): string | undefined => {
    const attr = attributes(block.body).get(name);
    const value = attr ? load.tryEvaluate(attr.expr, scope) : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  // `type` or `type.name`, as Packer prints a provisioner or post-processor.
  const label = (block: Block): string => [block.labels[0]!, text(block, 'name')].filter(Boolean).join('.');
  const nestedBlocks = (block: Block, type: string): Block[] => block.body.items.filter((i): i is Block => i.kind === 'block' && i.type === type);
  return {
    variables,
    locals,
    sensitiveValues,
    builds: blocks.build.map((build) => {
      const sourcesAttr = attributes(build.body).get('sources');
      const listed = sourcesAttr?.expr.kind === 'tuple' ? sourcesAttr.expr.items.map((i) => (i.kind === 'literal' ? String(i.value).replace(/^source\./, '') : '?')) : [];
      const nested = nestedBlocks(build, 'source').map((b) => b.labels[0]!.replace(/^source\./, ''));
      const postProcessors = build.body.items.flatMap((item): string[][] => {
        if (item.kind !== 'block') return [];
        if (item.type === 'post-processor') return [[label(item)]];
        if (item.type === 'post-processors') return [nestedBlocks(item, 'post-processor').map(label)];
        return [];
      });
      const name = text(build, 'name');
      const description = text(build, 'description');
      return { ...(name ? { name } : {}), ...(description ? { description } : {}), sources: [...listed, ...nested], provisioners: nestedBlocks(build, 'provisioner').map(label), postProcessors };
    }),
  };
}

function inspectHcl(inspection: HclInspection): InspectMessage[] {
  // Like Packer, hide the sensitive values wherever they show (a local built from one too).
  const shown = (value: Value): string => goQuote(redactText(renderMultiline(value), inspection.sensitiveValues));
  let variables = '> input-variables:\n\n';
  for (const name of Object.keys(inspection.variables).sort()) variables += `var.${name}: ${shown(inspection.variables[name]!.value)}\n`;
  variables += '\n> local-variables:\n\n';
  for (const name of Object.keys(inspection.locals).sort()) variables += `local.${name}: ${shown(inspection.locals[name]!)}\n`;

  let builds = '> builds:\n';
  inspection.builds.forEach((build, i) => {
    builds += `\n  > ${build.name ?? `<unnamed build ${i}>`}:\n`;
    if (build.description) builds += `\n  > Description: ${build.description}\n`;
    builds += '\n    sources:\n';
    if (build.sources.length === 0) builds += '\n      <no source>\n';
    for (const source of build.sources) builds += `\n      ${source}\n`;
    builds += '\n    provisioners:\n\n';
    if (build.provisioners.length === 0) builds += '      <no provisioner>\n';
    for (const provisioner of build.provisioners) builds += `      ${provisioner}\n`;
    builds += '\n    post-processors:\n';
    if (build.postProcessors.length === 0) builds += '\n      <no post-processor>\n';
    build.postProcessors.forEach((list, n) => {
      builds += `\n      ${n}:\n`;
      for (const postProcessor of list) builds += `        ${postProcessor}\n`;
    });
  });
  return [{ say: 'Packer Inspect: HCL2 mode\n' }, { say: variables }, { say: builds }];
}

/** Go's %q (strconv.Quote): a double-quoted string with Go's escapes, printable Unicode kept. */
export function goQuote(text: string): string {
  const simple: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (simple[ch]) out += simple[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (ch !== ' ' && /[\p{C}\p{Z}]/u.test(ch)) out += code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
