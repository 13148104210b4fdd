// Post-processors as Packer's templates write them: `manifest` and `shell-local`, with only/except
// (by builder name). A JSON template's "post-processors" list holds names, objects, or lists of
// them (sequences); kiln flattens the sequences, which for these two pass-through
// post-processors changes nothing.
import { resolveLocalPath } from './paths.js';
import { FieldReader, isObject, describeType } from './fields.js';
import { appliesTo, readProvisioner, type ProvisionerBuild, type ProvisionerContext } from './provisioners/index.js';
import { didYouMean } from './suggest.js';
import type { ManifestPostProcessorSpec, PostProcessorSpec } from './spec.js';

export const POST_PROCESSOR_TYPES = ['manifest', 'shell-local'] as const;

const COMMON_KEYS = ['type', 'name', 'only', 'except', 'keep_input_artifact'];
const MANIFEST_KEYS = [...COMMON_KEYS, 'output', 'strip_path', 'custom_data'];

/** One post-processor of the flattened list, with the key path it was written at. */
export interface RawPostProcessor {
  raw: Record<string, unknown>;
  path: string;
}

/** Flattens and checks the list (types, only/except names); returns the entries to read per build. */
export function checkPostProcessorList(raw: unknown, ctx: ProvisionerContext): RawPostProcessor[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    ctx.problems.add('post-processors', `must be a list of post-processors, not ${describeType(raw)}`, 'write "post-processors": [{"type": "manifest"}]');
    return [];
  }
  const out: RawPostProcessor[] = [];
  const visit = (item: unknown, path: string, nested: boolean): void => {
    if (typeof item === 'string') item = { type: item };
    if (Array.isArray(item) && !nested) {
      item.forEach((inner, i) => visit(inner, `${path}[${i}]`, true));
      return;
    }
    if (!isObject(item)) {
      ctx.problems.add(path, `must be a post-processor object with a "type", not ${describeType(item)}`);
      return;
    }
    const type = item.type;
    if (typeof type !== 'string') {
      ctx.problems.add(`${path}.type`, type === undefined ? 'a post-processor needs a type' : `a post-processor type is a string, not ${describeType(type)}`, `one of ${POST_PROCESSOR_TYPES.join(', ')}`);
      return;
    }
    if (!(POST_PROCESSOR_TYPES as readonly string[]).includes(type)) {
      const written = type;
      ctx.problems.add(`${path}.type`, `the post-processor type "${written}" is not supported by kiln`, didYouMean(written, POST_PROCESSOR_TYPES) ?? `kiln runs ${POST_PROCESSOR_TYPES.join(' and ')} post-processors; run other steps after \`kiln build\``);
      return;
    }
    for (const key of ['only', 'except'] as const) {
      const names = item[key];
      if (names === undefined) continue;
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) ctx.problems.add(`${path}.${key}`, `must be a list of builder names, not ${describeType(names)}`);
      else names.forEach((name, i) => {
        if (!ctx.builderNames.includes(name)) ctx.problems.add(`${path}.${key}[${i}]`, `there is no builder named "${name}"`, didYouMean(name, ctx.builderNames) ?? `the builders are named ${ctx.builderNames.map((n) => `"${n}"`).join(', ')}`);
      });
    }
    out.push({ raw: item, path });
  };
  raw.forEach((item, i) => visit(item, `post-processors[${i}]`, false));
  return out;
}

/** The post-processors that apply to one build, read with that build's template context. */
export function readPostProcessors(list: RawPostProcessor[], build: ProvisionerBuild, ctx: ProvisionerContext): PostProcessorSpec[] {
  const out: PostProcessorSpec[] = [];
  list.forEach(({ raw, path }, index) => {
    if (!appliesTo(raw, build.name)) return;
    const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : String(raw.type);
    if (raw.type === 'manifest') {
      out.push({ ...readManifest(new FieldReader(raw, path, ctx), index, ctx), name });
      return;
    }
    // shell-local: the provisioner's reader, without the keys only a provisioner has.
    const { name: _name, keep_input_artifact: _keep, ...shellLocal } = raw;
    const spec = readProvisioner(shellLocal, index, { ...build, communicator: 'none' }, ctx, path);
    if (spec?.type === 'shell-local') out.push({ ...spec, index, name });
  });
  return out;
}

function readManifest(reader: FieldReader, index: number, ctx: ProvisionerContext): Omit<ManifestPostProcessorSpec, 'name'> {
  reader.checkKeys(MANIFEST_KEYS);
  const output = reader.string('output') ?? 'packer-manifest.json';
  const customData = reader.stringMap('custom_data') ?? {};
  return {
    type: 'manifest',
    index,
    output: resolveLocalPath(ctx.templateDir, output, ctx.home),
    stripPath: reader.bool('strip_path') ?? false,
    customData,
  };
}
