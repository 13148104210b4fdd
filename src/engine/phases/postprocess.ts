// The postprocess phase: the build's post-processors, in order, once the image is available and
// the server is gone. Each runs between `postprocessor.started` and `postprocessor.succeeded`;
// a resumed phase skips those that succeeded (a shell-local command is not run twice) and runs
// the rest again (writing a manifest twice gives the same file).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { runProvisioner } from '../../provision/index.js';
import type { ManifestPostProcessorSpec } from '../../template/spec.js';
import { BuildError, type PhaseRuntime } from '../runtime.js';
import { OutputBatcher } from './provision.js';

export async function postprocess(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { spec, buildId } = rt.deps;
  const done = new Set((await rt.events()).filter((e) => e.type === 'postprocessor.succeeded').map((e) => e.data.index));
  const imageId = input.facts.imageId;
  if (typeof imageId !== 'string') throw new BuildError('internal: the postprocess phase has no image id');
  for (const postProcessor of spec.postProcessors ?? []) {
    if (done.has(postProcessor.index)) continue;
    await rt.record(input, 'postprocessor.started', { index: postProcessor.index, type: postProcessor.type });
    if (postProcessor.type === 'manifest') {
      await writeManifest(postProcessor, { name: spec.name, artifactId: `${spec.zone}:${imageId}`, runId: buildId });
      await rt.record(input, 'postprocessor.succeeded', { index: postProcessor.index, type: postProcessor.type, output: postProcessor.output });
      continue;
    }
    const batch = new OutputBatcher(rt, input, postProcessor.index);
    try {
      await runProvisioner({ ...postProcessor, maxRetries: 0, timeoutMs: 0, pauseBeforeMs: 0 }, { buildName: spec.name, builderType: 'scaleway', signal, onOutput: (o) => batch.push(o.stream, o.line) });
    } finally {
      await batch.flush();
    }
    await rt.record(input, 'postprocessor.succeeded', { index: postProcessor.index, type: postProcessor.type });
  }
  return {};
}

/** One entry of Packer's packer-manifest.json. */
interface ManifestEntry {
  name: string;
  builder_type: string;
  build_time: number;
  files: null;
  artifact_id: string;
  packer_run_uuid: string;
  custom_data: Record<string, string> | null;
}

// Packer's format: {"builds": [...], "last_run_uuid": "..."}, appending to an existing file. An
// entry of the same build and run is replaced rather than added again (a resumed write).
async function writeManifest(pp: ManifestPostProcessorSpec, build: { name: string; artifactId: string; runId: string }): Promise<void> {
  let manifest: { builds: ManifestEntry[]; last_run_uuid: string } = { builds: [], last_run_uuid: '' };
  try {
    const parsed = JSON.parse(await readFile(pp.output, 'utf8')) as Partial<typeof manifest>;
    if (Array.isArray(parsed.builds)) manifest = { builds: parsed.builds, last_run_uuid: String(parsed.last_run_uuid ?? '') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new BuildError(`manifest ${pp.output}: cannot read the existing file (${code ?? (error as Error).message}); move it away or fix it`);
  }
  const entry: ManifestEntry = {
    name: build.name,
    builder_type: 'scaleway',
    build_time: Math.floor(Date.now() / 1000),
    files: null,
    artifact_id: build.artifactId,
    packer_run_uuid: build.runId,
    custom_data: Object.keys(pp.customData).length ? pp.customData : null,
  };
  manifest.builds = [...manifest.builds.filter((b) => !(b.packer_run_uuid === build.runId && b.name === build.name)), entry];
  manifest.last_run_uuid = build.runId;
  await mkdir(dirname(pp.output), { recursive: true });
  const temporary = `${dirname(pp.output)}/.${basename(pp.output)}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, pp.output);
}
