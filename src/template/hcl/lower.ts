// HCL2 sources and builds → the JSON template shape (builders, provisioners, post-processors)
// that the JSON loader's readers take, remembering where each key was written.
import type { JsonObject } from '../fields.js';
import { didYouMean } from '../suggest.js';
import { BUILD_VALUES } from '../functions.js';
import type { Block, Body, Expr } from './ast.js';
import type { Range } from './lexer.js';
import type { Scope } from './eval.js';
import { isObjectValue, type Value } from './value.js';
import { attributes, checkSchema, type HclReporter } from './report.js';

const BUILD_ATTRIBUTES = ['name', 'description', 'sources'];
const BUILD_BLOCKS = ['source', 'provisioner', 'post-processor', 'post-processors'];
const REFUSED_BUILD_BLOCKS: Record<string, string> = {
  'error-cleanup-provisioner': 'kiln always cleans up what it created',
  hcp_packer_registry: 'kiln does not publish to HCP Packer',
};
/** Nested blocks of a source that are lists even when written once (as in JSON templates). */
const LIST_BLOCKS = new Set(['block_volume']);
export function collectSources(blocks: Block[], load: HclReporter): Map<string, Block> {
  const sources = new Map<string, Block>();
  for (const block of blocks) {
    if (block.labels.length !== 2) {
      load.report({ summary: 'Invalid source block', detail: 'A source block has two labels: its type and its name.', range: block.typeRange, hint: 'write source "scaleway" "NAME" { … }' });
      continue;
    }
    const [type, name] = block.labels as [string, string];
    if (type !== 'scaleway') {
      load.report({ summary: 'Unknown source type', detail: `The source type "${type}" is not supported by kiln.`, range: block.labelRanges[0]!, hint: didYouMean(type, ['scaleway']) ?? 'kiln builds "scaleway" images only' });
      continue;
    }
    const key = `${type}.${name}`;
    if (sources.has(key)) {
      load.report({ summary: 'Duplicate source block', detail: `A source block named "${key}" was already defined at line ${sources.get(key)!.range.start.line}.`, range: block.labelRanges[1]! });
      continue;
    }
    sources.set(key, block);
  }
  return sources;
}

export interface Lowered {
  builders: JsonObject[];
  provisioners: JsonObject[];
  postProcessors: JsonObject[];
  /** Each lowered provisioner's position among its build block's provisioners. */
  positions: number[];
  /** Each lowered post-processor's position among its build block's post-processors. */
  postProcessorPositions: number[];
  /** JSON key path (`builders[0].zone`) → where it was written. */
  ranges: Map<string, Range>;
}

// Each (build block, source) pair becomes one JSON builder named `scaleway.NAME` (with the build's
// name in front when it has one); each of the build's provisioners becomes one JSON provisioner
// per source it applies to, restricted to that builder with "only", so that it is evaluated with
// that source's source.name.
export function lowerBuilds(builds: Block[], sources: Map<string, Block>, scope: Scope, load: HclReporter): Lowered {
  const out: Lowered = { builders: [], provisioners: [], postProcessors: [], positions: [], postProcessorPositions: [], ranges: new Map() };
  for (const build of builds) {
    checkSchema(build.body, load, { attributes: BUILD_ATTRIBUTES, blocks: BUILD_BLOCKS, refused: REFUSED_BUILD_BLOCKS }, 'a build block');
    const attrs = attributes(build.body);
    const buildName = attrs.get('name') ? load.tryEvaluate(attrs.get('name')!.expr, scope) : undefined;
    const used: Array<{ source: Block; name: string; overrides?: Block; range: Range }> = [];
    const lookup = (ref: string, range: Range): Block | undefined => {
      const key = ref.replace(/^source\./, '');
      const source = sources.get(key);
      if (!source) {
        load.report({ summary: 'Unknown source', detail: `Unknown source ${ref}.`, range, hint: didYouMean(key, sources.keys()) ?? (sources.size ? `the sources are ${[...sources.keys()].map((k) => `source.${k}`).join(', ')}` : 'define it with source "scaleway" "NAME" { … }') });
      }
      return source;
    };
    const sourcesAttr = attrs.get('sources');
    if (sourcesAttr) {
      const refs = sourcesAttr.expr.kind === 'tuple' ? sourcesAttr.expr.items : [];
      if (sourcesAttr.expr.kind !== 'tuple') load.report({ summary: 'Invalid sources', detail: 'sources is a list of source references.', range: sourcesAttr.expr.range, hint: 'write sources = ["source.scaleway.NAME"]' });
      for (const ref of refs) {
        const text = ref.kind === 'literal' && typeof ref.value === 'string' ? ref.value : exprPath(ref);
        if (text === undefined) {
          load.report({ summary: 'Invalid source reference', detail: 'A source reference is a string such as "source.scaleway.NAME".', range: ref.range });
          continue;
        }
        const source = lookup(text, ref.range);
        if (source) used.push({ source, name: source.labels[1]!, range: ref.range });
      }
    }
    for (const item of build.body.items) {
      if (item.kind !== 'block' || item.type !== 'source') continue;
      if (item.labels.length !== 1) {
        load.report({ summary: 'Invalid source block', detail: 'A source block in a build has one label: the source it refers to.', range: item.typeRange, hint: 'write source "source.scaleway.NAME" { … }' });
        continue;
      }
      const source = lookup(item.labels[0]!, item.labelRanges[0]!);
      if (!source) continue;
      const nameAttr = attributes(item.body).get('name');
      const name = nameAttr ? load.tryEvaluate(nameAttr.expr, scope) : source.labels[1]!;
      used.push({ source, name: typeof name === 'string' ? name : source.labels[1]!, overrides: item, range: item.range });
    }
    if (used.length === 0) {
      load.report({ summary: 'No source in build', detail: 'This build uses no source.', range: build.typeRange, hint: 'add sources = ["source.scaleway.NAME"]' });
      continue;
    }
    const builderNames: string[] = [];
    for (const use of used) {
      const builderName = `${typeof buildName === 'string' && buildName ? `${buildName}.` : ''}scaleway.${use.name}`;
      builderNames.push(builderName);
      // build.name is the source's name here too (Packer 1.6.6 has no build in sources; hcl2_upgrade writes it there).
      const sourceScope: Scope = { ...scope, variables: new Map([...scope.variables, ['source', { type: 'scaleway', name: use.name }], ['build', buildObject(use.name)]]), unavailable: new Map() };
      const index = out.builders.length;
      const prefix = `builders[${index}]`;
      out.ranges.set(prefix, use.source.range);
      const builder: JsonObject = { type: 'scaleway', name: builderName };
      lowerBody(use.source.body, sourceScope, load, builder, prefix, out.ranges);
      if (use.overrides) {
        const overrides = { ...use.overrides.body, items: use.overrides.body.items.filter((i) => !(i.kind === 'attribute' && i.name === 'name')) };
        lowerBody(overrides, sourceScope, load, builder, prefix, out.ranges);
      }
      builder.name = builderName;
      out.builders.push(builder);
    }
    let position = -1;
    let postProcessorPosition = -1;
    // Provisioners and post-processors, in file order; `post-processors {}` holds a sequence.
    const steps = build.body.items.flatMap((item): Block[] => {
      if (item.kind !== 'block') return [];
      if (item.type === 'post-processors') {
        checkSchema(item.body, load, { attributes: [], blocks: ['post-processor'] }, 'a post-processors block');
        return item.body.items.filter((i): i is Block => i.kind === 'block' && i.type === 'post-processor');
      }
      return item.type === 'provisioner' || item.type === 'post-processor' ? [item] : [];
    });
    for (const item of steps) {
      const kind = item.type === 'provisioner' ? 'provisioner' : 'post-processor';
      if (kind === 'provisioner') position++;
      else postProcessorPosition++;
      if (item.labels.length !== 1) {
        load.report({ summary: `Invalid ${kind} block`, detail: `A ${kind} block has one label: its type.`, range: item.typeRange, hint: `write ${kind} "${kind === 'provisioner' ? 'shell' : 'manifest'}" { … }` });
        continue;
      }
      const filter = sourceFilter(item, used.map((u, i) => ({ name: u.name, full: builderNames[i]! })), scope, load);
      used.forEach((use, i) => {
        if (!filter(i)) return;
        const sourceScope: Scope = { ...scope, variables: new Map([...scope.variables, ['source', { type: 'scaleway', name: use.name }], ['build', buildObject(use.name, kind === 'provisioner')]]), unavailable: new Map() };
        const list = kind === 'provisioner' ? out.provisioners : out.postProcessors;
        const prefix = `${kind}s[${list.length}]`;
        out.ranges.set(prefix, item.range);
        out.ranges.set(`${prefix}.type`, item.labelRanges[0]!);
        const lowered: JsonObject = { type: item.labels[0]! };
        const body = { ...item.body, items: item.body.items.filter((a) => !(a.kind === 'attribute' && (a.name === 'only' || a.name === 'except'))) };
        lowerBody(body, sourceScope, load, lowered, prefix, out.ranges);
        lowered.only = [builderNames[i]!];
        list.push(lowered);
        if (kind === 'provisioner') out.positions.push(position);
        else out.postProcessorPositions.push(postProcessorPosition);
      });
    }
  }
  return out;
}

// `build.*`: build.name is known now. In provisioners, the values known once the server is up
// (ID, Host, …) become `{{build \`X\`}}` placeholders that the engine fills in before the
// provisioner runs (Packer evaluates provisioner blocks a second time then).
function buildObject(sourceName: string, inProvisioner = false): Value {
  const deferred = inProvisioner ? Object.fromEntries(BUILD_VALUES.map((key) => [key, `{{build \`${key}\`}}`])) : {};
  return { name: sourceName, type: 'scaleway', ...deferred };
}

// only/except name sources as `scaleway.NAME` (or the builder's full name).
function sourceFilter(block: Block, used: Array<{ name: string; full: string }>, scope: Scope, load: HclReporter): (index: number) => boolean {
  const attrs = attributes(block.body);
  const read = (key: 'only' | 'except'): string[] | undefined => {
    const attr = attrs.get(key);
    if (!attr) return undefined;
    const value = load.tryEvaluate(attr.expr, scope);
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      if (value !== undefined) load.report({ summary: `Invalid ${key}`, detail: `${key} is a list of source names.`, range: attr.expr.range, hint: `write ${key} = ["scaleway.NAME"]` });
      return undefined;
    }
    const known = used.flatMap((u) => [`scaleway.${u.name}`, u.full, `source.scaleway.${u.name}`, u.name]);
    (value as string[]).forEach((name) => {
      if (!known.includes(name)) load.report({ summary: `Unknown source in ${key}`, detail: `This build has no source named "${name}".`, range: attr.expr.range, hint: didYouMean(name, known) ?? `the build's sources are ${used.map((u) => `"scaleway.${u.name}"`).join(', ')}` });
    });
    return value as string[];
  };
  const only = read('only');
  const except = read('except');
  return (index) => {
    // hcl2_upgrade writes bare source names (only = ["big"]); Packer's docs write scaleway.big.
    const names = [`scaleway.${used[index]!.name}`, used[index]!.full, `source.scaleway.${used[index]!.name}`, used[index]!.name];
    if (only && !names.some((n) => only.includes(n))) return false;
    if (except && names.some((n) => except.includes(n))) return false;
    return true;
  };
}

// A body's attributes (evaluated) and nested blocks (as objects, or lists of objects) into a
// JSON object, remembering where each key was written.
function lowerBody(body: Body, scope: Scope, load: HclReporter, out: JsonObject, prefix: string, ranges: Map<string, Range>): void {
  const nested = new Map<string, JsonObject[]>();
  for (const item of body.items) {
    const path = `${prefix}.${item.kind === 'attribute' ? item.name : item.type}`;
    if (item.kind === 'attribute') {
      ranges.set(path, item.nameRange);
      const value = load.tryEvaluate(item.expr, scope);
      if (value === undefined || value === null) continue;
      out[item.name] = value;
      continue;
    }
    if (item.type === 'dynamic') {
      // dynamic "NAME" { for_each = …, iterator = …, content { … } }: one NAME block per element.
      for (const generated of expandDynamic(item, scope, load)) {
        const list = nested.get(generated.type) ?? [];
        const itemPath = LIST_BLOCKS.has(generated.type) ? `${prefix}.${generated.type}[${list.length}]` : `${prefix}.${generated.type}`;
        ranges.set(itemPath, item.range);
        const object: JsonObject = {};
        lowerBody(generated.body, generated.scope, load, object, itemPath, ranges);
        list.push(object);
        nested.set(generated.type, list);
      }
      continue;
    }
    if (item.labels.length) {
      load.report({ summary: 'Extraneous label', detail: `A "${item.type}" block takes no labels.`, range: item.labelRanges[0]! });
      continue;
    }
    const list = nested.get(item.type) ?? [];
    const object: JsonObject = {};
    const itemPath = LIST_BLOCKS.has(item.type) ? `${path}[${list.length}]` : path;
    ranges.set(itemPath, item.range);
    lowerBody(item.body, scope, load, object, itemPath, ranges);
    list.push(object);
    nested.set(item.type, list);
  }
  for (const [type, list] of nested) out[type] = LIST_BLOCKS.has(type) || list.length > 1 ? list : list[0]!;
}

function expandDynamic(block: Block, scope: Scope, load: HclReporter): Array<{ type: string; body: Body; scope: Scope }> {
  const type = block.labels[0];
  const attrs = attributes(block.body);
  const content = block.body.items.find((i): i is Block => i.kind === 'block' && i.type === 'content');
  const forEach = attrs.get('for_each');
  if (block.labels.length !== 1 || !content || !forEach || type === undefined) {
    load.report({ summary: 'Invalid dynamic block', detail: 'A dynamic block has one label (the block type to generate), a for_each argument and a content block.', range: block.typeRange, hint: 'write dynamic "NAME" { for_each = …; content { … } }' });
    return [];
  }
  const iteratorAttr = attrs.get('iterator');
  const iterator = iteratorAttr?.expr.kind === 'variable' ? iteratorAttr.expr.name : type;
  const collection = load.tryEvaluate(forEach.expr, scope);
  if (collection === undefined) return [];
  const entries: Array<[Value, Value]> = Array.isArray(collection)
    ? collection.map((v, i) => [i, v])
    : isObjectValue(collection)
      ? Object.keys(collection).sort().map((k) => [k, collection[k]!])
      : [];
  if (!Array.isArray(collection) && !isObjectValue(collection)) {
    load.report({ summary: 'Invalid dynamic for_each value', detail: 'Cannot use a non-collection value in for_each: a list, set, map or object is required.', range: forEach.expr.range });
  }
  return entries.map(([key, value]) => ({ type, body: content.body, scope: { ...scope, variables: new Map([...scope.variables, [iterator, { key, value }]]) } }));
}

function exprPath(expr: Expr): string | undefined {
  if (expr.kind === 'variable') return expr.name;
  if (expr.kind === 'traverse' && expr.step.kind === 'attr') {
    const base = exprPath(expr.object);
    return base === undefined ? undefined : `${base}.${expr.step.name}`;
  }
  return undefined;
}

