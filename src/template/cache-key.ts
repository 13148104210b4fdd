// The build cache's keys (incremental builds): the key of the server's disk after provisioner i
// is a hash chain over everything that can change that disk up to there — the resolved source
// image, the architecture, the zone, the volume layout, the user data, and for each provisioner
// up to i its type, its evaluated options and the bytes of every script and file it runs or
// uploads (directories walked). A pure function of the evaluated BuildSpec and the bytes it names
// (read through `read`), next to the code that knows those inputs.
//
// Each input is kept with its name and its hash (the "manifest"), so that a miss can say which
// input changed. A hash never holds a value: a plain SHA-256 of the input's canonical JSON, or,
// when the input contains a secret value (a sensitive variable, the secret key, the SSH
// password), an HMAC under a secret of the store's own — a guessable secret is not found back
// from its hash without that store. Paths on this machine do not enter (a teammate's checkout
// lives elsewhere): a script counts by its bytes, an uploaded file by its name and bytes.
import { createHash, createHmac } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { secretValuesOf } from './redact.js';
import type { BuildSpec, ProvisionerSpec } from './spec.js';

/** What the prepare phase resolved before the keys can be made (a label's image is resolved first). */
export interface ResolvedSource {
  /** The source image's id: a marketplace label resolved to today's image, so a new release is a new key. */
  imageId: string;
  arch: string;
  /** The root volume's type the server gets (the API's choice when the template names none). */
  rootVolumeType: string;
}

/** One named input of a key and its hash (`sha256:…` or, holding a secret, `hmac:…`). */
export interface CacheInput {
  name: string;
  hash: string;
}

/** The key of the disk after one provisioner, with the inputs that provisioner added. */
export interface CacheStep {
  /** The provisioner's position in the build's list (0-based). */
  index: number;
  type: ProvisionerSpec['type'];
  key: string;
  /** This step's own inputs (the first step's include the base: image, zone, volumes, user data). */
  inputs: CacheInput[];
}

/** How the files a provisioner names are read (tests give their own). */
export interface FileTree {
  /** The bytes of a file, or the entries of a directory (names, sorted), or a symlink's target. */
  read(path: string): { kind: 'file'; bytes: Buffer; mode: number } | { kind: 'dir'; entries: string[] } | { kind: 'link'; target: string };
}

export const localFiles: FileTree = {
  read(path) {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return { kind: 'link', target: readlinkSync(path) };
    if (stats.isDirectory()) return { kind: 'dir', entries: readdirSync(path).sort() };
    return { kind: 'file', bytes: readFileSync(path), mode: stats.mode & 0o777 };
  },
};

/** Key length in hex: 128 bits, short enough for a tag (`kiln-cache-key=<key>`). */
const KEY_HEX = 32;
/** Bumped when what enters a key changes, so that old checkpoints stop matching. */
const KEY_VERSION = 'kiln-cache-v1';

/** Provisioner fields that change how or when a provisioner runs, never what it leaves on the disk. */
const NOT_ON_THE_DISK = new Set(['index', 'type', 'pauseBeforeMs', 'maxRetries', 'timeoutMs']);
/** Packer's spelling of each option, for the manifest's names (a field not listed keeps its own). */
const PACKER_NAMES: Record<string, string> = {
  inline: 'inline',
  environmentVars: 'environment_vars',
  executeCommand: 'execute_command',
  inlineShebang: 'inline_shebang',
  remoteFolder: 'remote_folder',
  expectDisconnect: 'expect_disconnect',
  validExitCodes: 'valid_exit_codes',
  destination: 'destination',
  direction: 'direction',
  command: 'command',
};

/** Hashes inputs: plain SHA-256, or an HMAC under the store's secret when a secret value is inside. */
class Hasher {
  constructor(
    private readonly secrets: readonly string[],
    private readonly hmacKey: string | undefined,
  ) {}

  /** Whether `bytes` hold a secret value. */
  holdsSecret(bytes: Buffer): boolean {
    return this.secrets.some((secret) => bytes.includes(secret));
  }

  /** The hash of `value`'s canonical JSON; keyed when it holds a secret (or `secretInside` says the bytes it stands for do). */
  hash(value: unknown, secretInside = false): string {
    const text = Buffer.from(canonicalJson(value));
    if (secretInside || this.holdsSecret(text)) {
      if (this.hmacKey === undefined) throw new Error('internal: an input holds a secret value but no store secret was given to key it');
      return `hmac:${createHmac('sha256', this.hmacKey).update(text).digest('hex').slice(0, 40)}`;
    }
    return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
  }
}

/** JSON with object keys sorted: the same value always gives the same text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * The key after each provisioner of `spec`, in order, with the inputs each added. `storeSecret`
 * keys the inputs that hold a secret value (a build without any needs none).
 */
export function cacheSteps(spec: BuildSpec, source: ResolvedSource, o: { files?: FileTree; storeSecret: string | undefined }): CacheStep[] {
  const hasher = new Hasher(secretValuesOf(spec), o.storeSecret);
  const files = o.files ?? localFiles;
  const input = (name: string, value: unknown): CacheInput => ({ name, hash: hasher.hash(value) });
  const base: CacheInput[] = [
    input('source image', source.imageId),
    input('architecture', source.arch),
    input('zone', spec.zone),
    input('root volume', { type: source.rootVolumeType, sizeGb: spec.rootVolume.sizeGb ?? null, iops: spec.rootVolume.iops ?? null }),
    input('block volumes', spec.blockVolumes.map((v) => ({ sizeGb: v.sizeGb ?? null, snapshotId: v.snapshotId ?? null, iops: v.iops ?? null }))),
    input('user data', spec.userData),
    // Who the provisioners run as decides the owners and places of what they write.
    input('ssh user', spec.communicator.type === 'ssh' ? spec.communicator.username : null),
  ];
  const steps: CacheStep[] = [];
  let previous = chainHash([KEY_VERSION], base);
  spec.provisioners.forEach((p, index) => {
    const inputs = [...(index === 0 ? base : []), ...provisionerInputs(p, index, input, hasher, files)];
    const own = index === 0 ? inputs.slice(base.length) : inputs;
    previous = chainHash([previous], own);
    steps.push({ index, type: p.type, key: previous, inputs });
  });
  return steps;
}

function chainHash(prefix: string[], inputs: readonly CacheInput[]): string {
  const h = createHash('sha256').update(JSON.stringify([...prefix, ...inputs.map((i) => [i.name, i.hash])]));
  return h.digest('hex').slice(0, KEY_HEX);
}

/** One provisioner's inputs: each option by its Packer name, each script by its bytes, each upload by its name and tree. */
function provisionerInputs(
  p: ProvisionerSpec,
  index: number,
  input: (name: string, value: unknown) => CacheInput,
  hasher: Hasher,
  files: FileTree,
): CacheInput[] {
  const prefix = `provisioner ${index} (${p.type})`;
  const out: CacheInput[] = [input(`${prefix} type`, p.type)];
  for (const [field, value] of Object.entries(p).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (NOT_ON_THE_DISK.has(field) || value === undefined) continue;
    if (field === 'scripts') {
      (value as string[]).forEach((path, k) => out.push({ name: `${prefix} script ${k} (${basename(path)})`, hash: treeHash(path, hasher, files) }));
    } else if (field === 'sources' && p.type === 'file' && p.direction === 'upload') {
      // An upload's name counts (it names what lands in a directory destination), and a trailing
      // slash (the directory's contents rather than the directory).
      (value as string[]).forEach((path, k) =>
        out.push({ name: `${prefix} source ${k} (${basename(path)}${path.endsWith('/') ? '/' : ''})`, hash: treeHash(path, hasher, files) }),
      );
    } else if ((p.type === 'ansible' || p.type === 'ansible-local') && ANSIBLE_LOCAL_PATHS.has(field)) {
      // What Ansible reads from this machine: each named path's tree (its name counts too), and the
      // directory of each playbook, whose roles/, group_vars/ and templates it reads unnamed.
      const paths = ([] as string[]).concat(value as string | string[]);
      out.push(input(`${prefix} ${PACKER_NAMES[field] ?? field}`, paths.map((path) => basename(path))));
      paths.forEach((path, k) => out.push({ name: `${prefix} ${PACKER_NAMES[field] ?? field} ${k} (${basename(path)}) contents`, hash: treeHashIfThere(path, hasher, files) }));
      if (field === 'playbookFile' || field === 'playbookFiles') {
        paths.forEach((path, k) => out.push({ name: `${prefix} playbook ${k}'s directory`, hash: treeHashIfThere(dirname(path), hasher, files) }));
      }
    } else if (field === 'inlineShebangSet') {
      continue; // part of inline_shebang's input, below: whether the template set it decides a `#!` inline's shebang
    } else {
      const shown = field === 'inlineShebang' && 'inlineShebangSet' in p ? [value, p.inlineShebangSet] : value;
      out.push(input(`${prefix} ${PACKER_NAMES[field] ?? field}`, shown));
    }
  }
  return out;
}

/** The local paths of the ansible and ansible-local provisioners (spec.ts), whose bytes change what the play does. */
const ANSIBLE_LOCAL_PATHS: ReadonlySet<string> = new Set([
  'playbookFile', 'playbookFiles', 'playbookDir', 'playbookPaths', 'rolePaths', 'collectionPaths', 'groupVars', 'hostVars',
  'inventoryFile', 'galaxyFile', 'inventoryDirectory', 'rolesPath', 'collectionsPath',
]);

/** treeHash, or a fixed mark for a path that is not there yet (a roles_path that galaxy fills). */
function treeHashIfThere(path: string, hasher: Hasher, files: FileTree): string {
  try {
    return treeHash(path, hasher, files);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}

/** The hash of a file's bytes and mode, or of a directory's whole tree (names, kinds, modes, bytes, link targets). */
function treeHash(path: string, hasher: Hasher, files: FileTree): string {
  const entries: unknown[] = [];
  let secretInside = false;
  const walk = (at: string, rel: string) => {
    const node = files.read(at);
    if (node.kind === 'file') {
      entries.push([rel, 'file', node.mode, createHash('sha256').update(node.bytes).digest('hex')]);
      secretInside ||= hasher.holdsSecret(node.bytes);
    } else if (node.kind === 'link') entries.push([rel, 'link', node.target]);
    else {
      entries.push([rel, 'dir']);
      for (const name of node.entries) walk(join(at, name), rel === '' ? name : `${rel}/${name}`);
    }
  };
  walk(path.replace(/\/+$/, '') || '/', '');
  // A file holding a secret value: the tree is keyed by HMAC, so that its plain hash appears nowhere.
  return hasher.hash(entries, secretInside);
}

/** The inputs of the key after provisioner `index`: the base and every provisioner up to it. */
export function manifestUpTo(steps: readonly CacheStep[], index: number): CacheInput[] {
  return steps.filter((s) => s.index <= index).flatMap((s) => s.inputs);
}

/** The names of the inputs that differ between two manifests (changed, added or gone), in `current`'s order. */
export function changedInputs(current: readonly CacheInput[], recorded: readonly CacheInput[]): string[] {
  const before = new Map(recorded.map((i) => [i.name, i.hash]));
  const now = new Set(current.map((i) => i.name));
  return [...current.filter((i) => before.get(i.name) !== i.hash).map((i) => i.name), ...recorded.filter((i) => !now.has(i.name)).map((i) => `${i.name} (gone)`)];
}

/** A problem with `--checkpoint-after`, for the usage error (exit 2). */
export class CheckpointFlagError extends Error {
  override readonly name = 'CheckpointFlagError';
}

/**
 * `--checkpoint-after N|name` as provisioner positions of the build: N counts the build's
 * provisioners from 0; a name is a provisioner's type when only one has it, or the file name of
 * a script or upload one of them names. After the last provisioner there is nothing to save.
 */
export function checkpointPositions(provisioners: readonly ProvisionerSpec[], values: readonly string[]): number[] {
  const positions = new Set<number>();
  const described = provisioners.map((p, i) => `${i} (${[p.type, ...namesOf(p)].join(', ')})`).join('; ');
  for (const value of values) {
    let at: number;
    if (/^\d+$/.test(value)) {
      at = Number(value);
      if (at >= provisioners.length) throw new CheckpointFlagError(`--checkpoint-after ${value}: the build has provisioners 0 to ${provisioners.length - 1}: ${described}`);
    } else {
      const matches = provisioners.flatMap((p, i) => (namesOf(p).includes(value) || p.type === value ? [i] : []));
      if (matches.length !== 1) {
        throw new CheckpointFlagError(
          `--checkpoint-after ${value}: ${matches.length === 0 ? 'no provisioner has that name' : `${matches.length} provisioners have that name (${matches.join(', ')}); give a number`}. The provisioners are ${described}`,
        );
      }
      at = matches[0]!;
    }
    if (at === provisioners.length - 1) {
      const choice = provisioners.length === 1 ? 'the build has only one, so there is nothing to put a checkpoint before' : provisioners.length === 2 ? 'so name 0' : `so name one of 0 to ${provisioners.length - 2}`;
      throw new CheckpointFlagError(`--checkpoint-after ${value}: that is the last provisioner; a checkpoint saves the provisioners before a later one, ${choice}`);
    }
    positions.add(at);
  }
  return [...positions].sort((a, b) => a - b);
}

/** The file names a provisioner runs or uploads: what `--checkpoint-after` may call it by. */
function namesOf(p: ProvisionerSpec): string[] {
  const paths =
    p.type === 'file' ? (p.direction === 'upload' ? p.sources : [])
    : p.type === 'ansible' ? [p.playbookFile]
    : p.type === 'ansible-local' ? p.playbookFiles
    : p.scripts;
  return paths.map((path) => basename(path.replace(/\/+$/, '')));
}
