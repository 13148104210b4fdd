// Packer's UI, for scripts written against `packer build`:
// - `machine` (-machine-readable): Packer's lines `timestamp,target,type,data…` — `ui` lines
//   (say/message/error) while builds run, then `error-count`/`error` and `artifact-count`/`artifact`
//   lines targeted at each build, exactly as Packer 1.6.6's scaleway builder prints them (a script
//   greps `,artifact,0,id,` for `<zone>:<image id>`). kiln's own events are not mixed in (--json).
// - `timestamped` (-timestamp-ui): the same messages as plain text, each prefixed with an
//   RFC 3339 timestamp and `: `, as Packer's TimestampedUi does.
import { Writable } from 'node:stream';
import type { Artifact, BuildEvent, ErrorInfo } from '../../store/index.js';
import { describeArtifact, describeError, describeEvent, outputLines } from '../../view/index.js';
import type { ProgressRenderer } from './progress.js';

/** What Packer 1.6.6's scaleway builder calls itself in the `artifact,N,builder-id` line. */
export const PACKER_SCALEWAY_BUILDER_ID = 'hashicorp.scaleway';

/** One field of a machine-readable line, escaped as Packer does (commas, then \r and \n, spelled out). */
export function escapeMachineField(value: string): string {
  return value.replaceAll(',', '%!(PACKER_COMMA)').replaceAll('\r', '\\r').replaceAll('\n', '\\n');
}

/** `1796044214,target,type,data1,data2\n`; `at` defaults to now (Packer prints Unix seconds). */
export function machineLine(target: string, type: string, data: readonly string[], at: Date = new Date()): string {
  return `${Math.floor(at.getTime() / 1000)},${target},${type},${data.map(escapeMachineField).join(',')}\n`;
}

/** Go's time.RFC3339 in local time: 2026-11-30T13:11:17Z, or 2026-11-30T14:11:17+01:00. */
export function rfc3339(at: Date): string {
  const offset = -at.getTimezoneOffset();
  const pad = (n: number) => String(n).padStart(2, '0');
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}${zone}`;
}

/** A duration as Packer prints it (github.com/hako/durafmt, its two largest units): `11 seconds 604 milliseconds`. */
export function goDuration(ms: number): string {
  const units: [string, number][] = [['hour', 3_600_000], ['minute', 60_000], ['second', 1000], ['millisecond', 1]];
  let rest = Math.max(0, Math.round(ms));
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  }
  return parts.length > 0 ? parts.slice(0, 2).join(' ') : '0 milliseconds';
}

export type PackerUiMode = 'machine' | 'timestamped';
type UiKind = 'say' | 'message' | 'error';

/** Writes Packer UI messages in one of the two forms. */
export class PackerUi {
  constructor(
    private readonly mode: PackerUiMode,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  ui(kind: UiKind, text: string, at: Date = new Date()): void {
    if (this.mode === 'machine') this.out.write(machineLine('', 'ui', [kind, text], at));
    else for (const line of text.split('\n')) this.out.write(`${rfc3339(at)}: ${line}\n`);
  }

  /** A machine-readable line (nothing in timestamped mode: those are for scripts). */
  machine(target: string, type: string, ...data: string[]): void {
    if (this.mode === 'machine') this.out.write(machineLine(target, type, data));
  }
}

/** Build progress as Packer UI messages: `==> name: …` lines, provisioner output as `    name: …`. */
export class PackerUiRenderer implements ProgressRenderer {
  private readonly names = new Map<string, string>();
  /** When this process first saw each build's events (ms): Packer's "finished after" counts from there. */
  private readonly startedAt = new Map<string, number>();
  readonly ui: PackerUi;

  constructor(mode: PackerUiMode, out: NodeJS.WritableStream = process.stdout) {
    this.ui = new PackerUi(mode, out);
  }

  track(buildId: string, builderName: string): void {
    this.names.set(buildId, builderName);
  }

  onEvent(e: BuildEvent): void {
    const name = this.names.get(e.buildId);
    if (name === undefined) return;
    const at = new Date(e.at);
    // Packer shows a provisioner's stdout as a message and its stderr as an error.
    for (const o of outputLines(e)) this.ui.ui(o.stream === 'stderr' ? 'error' : 'message', `${o.stream === 'stderr' ? '==>' : '   '} ${name}: ${o.line}`, at);
    if (!this.startedAt.has(e.buildId)) this.startedAt.set(e.buildId, at.getTime());
    const text = describeEvent(e);
    if (text === null) return;
    // A provisioner failing with continue_on_error is a warning, as Packer says it (ui say).
    const failed = e.type === 'build.failed' || (e.type === 'phase.failed' && e.data.continued !== true);
    this.ui.ui(failed ? 'error' : 'say', `==> ${name}: ${text}`, at);
    // Packer's last line of a build, which logs and scripts look for.
    const took = goDuration(at.getTime() - this.startedAt.get(e.buildId)!);
    if (e.type === 'build.succeeded') this.ui.ui('say', `Build '${name}' finished after ${took}.`, at);
    if (e.type === 'build.failed') this.ui.ui('error', `Build '${name}' errored after ${took}: ${describeError(e.data.error)}`, at);
  }

  note(buildId: string, text: string): void {
    const name = this.names.get(buildId);
    if (name !== undefined) this.ui.ui('say', `==> ${name}: ${text}`);
  }

  suspend(): void {}
  resume(): void {}
  close(): void {}
}

export interface FinishedBuild {
  builderName: string;
  artifact?: Artifact;
  failure?: { error: ErrorInfo };
  status: string;
}

/**
 * What Packer prints once every build has ended: the errors (`error-count`, then one `error` line
 * targeted at each failed build), then the artifacts (`artifact-count` and the `artifact` lines).
 */
export function finishPackerUi(ui: PackerUi, builds: readonly FinishedBuild[]): void {
  const failed = builds.filter((b) => b.status !== 'succeeded');
  if (failed.length > 0) {
    ui.machine('', 'error-count', String(failed.length));
    ui.ui('error', "\n==> Some builds didn't complete successfully and had errors:");
    for (const b of failed) {
      const message = b.failure ? describeError(b.failure.error) : `the build was ${b.status}`;
      ui.machine(b.builderName, 'error', message);
      ui.ui('error', `--> ${b.builderName}: ${message}`);
    }
  }
  const done = builds.filter((b): b is FinishedBuild & { artifact: Artifact } => b.artifact !== undefined);
  if (done.length === 0) {
    ui.ui('say', '\n==> Builds finished but no artifacts were created.');
    return;
  }
  ui.ui('say', '\n==> Builds finished. The artifacts of successful builds are:');
  for (const b of done) {
    const text = describeArtifact(b.artifact);
    ui.machine(b.builderName, 'artifact-count', '1');
    ui.machine(b.builderName, 'artifact', '0', 'builder-id', PACKER_SCALEWAY_BUILDER_ID);
    ui.machine(b.builderName, 'artifact', '0', 'id', `${b.artifact.zone}:${b.artifact.imageId}`);
    ui.machine(b.builderName, 'artifact', '0', 'string', text);
    ui.machine(b.builderName, 'artifact', '0', 'files-count', '0');
    ui.machine(b.builderName, 'artifact', '0', 'end');
    ui.ui('say', `--> ${b.builderName}: ${text}`);
  }
}

/** A stream that writes each line written to it as a Packer UI message of `kind` (for commands that print text: `kiln gc`). */
export function packerUiStream(mode: PackerUiMode, kind: UiKind, out: NodeJS.WritableStream = process.stdout): Writable {
  const ui = new PackerUi(mode, out);
  let partial = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) ui.ui(kind, line);
      done();
    },
    final(done) {
      if (partial !== '') ui.ui(kind, partial);
      done();
    },
  });
}
