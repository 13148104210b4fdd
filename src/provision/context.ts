// What a provisioner run receives from the engine, the error it fails with, and the shared
// helpers for output and environment variables.
import type { Communicator } from '../ssh/index.js';
import { assertEnvName, shellQuote } from '../ssh/index.js';
import type { BuildValues } from '../template/functions.js';
import { ERROR_CLEANUP_INDEX, type ProvisionerSpec } from '../template/spec.js';

export interface ProvisionOutput {
  /** The provisioner's index in the template. */
  index: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Where the build's server is and how to log in to it: what `ansible` hands to ssh itself. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** The key the build logs in with (the user's ssh_private_key_file, or kiln's temporary key, 0600);
   *  absent: the ssh-agent's keys only. */
  privateKeyFile?: string;
}

export interface ProvisionContext {
  /** Required by `shell`, `file` and `ansible-local`; absent when the communicator is `none`. */
  communicator?: Communicator;
  /** Required by `ansible`: the server's SSH address and the build's key. */
  target?: SshTarget;
  /** Packer's build values (`ID`, `Host`, …): `ansible`'s inventory_file_template may use them. */
  buildValues?: BuildValues;
  /** `PACKER_BUILD_NAME`. */
  buildName: string;
  /** `PACKER_BUILDER_TYPE`. */
  builderType: 'scaleway';
  /** Abort = interruption: the run stops and rejects with the signal's reason (not a ProvisionerError). */
  signal: AbortSignal;
  onOutput: (output: ProvisionOutput) => void;
  /** Called before each retry allowed by `max_retries`. */
  onRetry?: (attempt: number, error: ProvisionerError) => void;
  /** Pause between `max_retries` attempts. Default 2 s. */
  retryDelayMs?: number;
}

/** A provisioner failed: a bad exit code, a timeout, a lost connection, a missing file… */
export class ProvisionerError extends Error {
  override name = 'ProvisionerError';
  readonly index: number;
  /** The failing command's exit code, when it had one. */
  readonly exitCode: number | null;
  /** The last output lines (both streams, in order) before the failure. */
  readonly lastLines: string[];
  /** True when trying again could help (the connection dropped); false for a script's own failure. */
  readonly retryable: boolean;

  constructor(message: string, details: { index: number; exitCode?: number | null; lastLines?: string[]; retryable?: boolean }) {
    const lastLines = details.lastLines ?? [];
    super(lastLines.length > 0 ? `${message}\nlast output:\n${lastLines.map((l) => `  | ${l}`).join('\n')}` : message);
    this.index = details.index;
    this.exitCode = details.exitCode ?? null;
    this.lastLines = lastLines;
    this.retryable = details.retryable ?? false;
  }
}

/** How messages name a provisioner: "provisioner 2 (shell)", or "error-cleanup-provisioner (shell)". */
export function provisionerLabel(spec: Pick<ProvisionerSpec, 'index' | 'type'>): string {
  return spec.index === ERROR_CLEANUP_INDEX ? `error-cleanup-provisioner (${spec.type})` : `provisioner ${spec.index} (${spec.type})`;
}

/** Forwards every output line to the context and keeps the last few for error messages. */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly index: number,
    private readonly onOutput: ProvisionContext['onOutput'],
    private readonly keep = 20,
  ) {}

  readonly onLine = (stream: 'stdout' | 'stderr', line: string): void => {
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    this.onOutput({ index: this.index, stream, line });
  };

  last(): string[] {
    return [...this.lines];
  }
}

/**
 * Packer's `{{.Vars}}`: `environment_vars` (then `env`) plus PACKER_BUILD_NAME and
 * PACKER_BUILDER_TYPE, sorted by name (a template's own value wins), each written with Go's printf
 * `format` (`%s='%s' ` by default) after Packer's escaping of single quotes in the value ('"'"').
 */
export function flattenEnvVars(
  environmentVars: string[],
  ctx: Pick<ProvisionContext, 'buildName' | 'builderType'>,
  where: string,
  format = "%s='%s' ",
): string {
  const vars = new Map<string, string>([
    ['PACKER_BUILD_NAME', ctx.buildName],
    ['PACKER_BUILDER_TYPE', ctx.builderType],
  ]);
  for (const entry of environmentVars) {
    const equals = entry.indexOf('=');
    if (equals <= 0) {
      throw new Error(`${where}: environment_vars entry "${entry}" must look like NAME=value`);
    }
    const name = entry.slice(0, equals);
    assertEnvName(name, `${where}: environment_vars`);
    vars.set(name, entry.slice(equals + 1));
  }
  return [...vars.keys()]
    .sort()
    .map((name) => printfStrings(format, [name, vars.get(name)!.replaceAll("'", `'"'"'`)]))
    .join('');
}

/** Go's Sprintf for the verbs an env_var_format may hold (%s, %v, %%; the loader refuses others). */
function printfStrings(format: string, args: string[]): string {
  let next = 0;
  return format.replace(/%([%sv])/g, (_whole, verb: string) => (verb === '%' ? '%' : (args[next++] ?? '%!s(MISSING)')));
}
