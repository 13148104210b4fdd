// Which renderer `kiln build` and `kiln resume` use, from --json and Packer's output flags, and
// what they print once the builds have ended.
import type { OutputArgs } from '../commands/shared-options.js';
import { finishPackerUi, PackerUiRenderer, type FinishedBuild } from './machine.js';
import { artifactJson, artifactReport, createRenderer, type ProgressRenderer } from './progress.js';

export type OutputKind = 'json' | 'machine' | 'timestamped' | 'tty' | 'plain';

export function outputKind(args: { json: boolean } & Partial<OutputArgs>): OutputKind {
  if (args.json) return 'json';
  if (args['machine-readable']) return 'machine';
  if (args['timestamp-ui']) return 'timestamped';
  // -color=false: no escape sequences at all, so no live block either.
  return args.color !== false && process.stdout.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

export interface Output {
  renderer: ProgressRenderer;
  /** Prints the artifacts (and, in Packer's machine-readable form, the errors) of the ended builds. */
  finish(builds: readonly (FinishedBuild & { buildId: string })[]): void;
}

export function createOutput(kind: OutputKind, out: NodeJS.WritableStream = process.stdout): Output {
  if (kind === 'machine' || kind === 'timestamped') {
    const renderer = new PackerUiRenderer(kind, out);
    return {
      renderer,
      finish: (builds) => (kind === 'machine' ? finishPackerUi(renderer.ui, builds) : out.write(artifactReport([...builds]))),
    };
  }
  return {
    renderer: createRenderer(kind, out),
    finish: (builds) => {
      if (kind !== 'json') out.write(artifactReport([...builds]));
      else for (const b of builds) if (b.artifact) out.write(JSON.stringify(artifactJson(b.buildId, b.builderName, b.artifact)) + '\n');
    },
  };
}
