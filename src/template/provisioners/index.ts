// Provisioners as Packer's JSON templates write them: the list, only/except, the common keys
// pause_before, max_retries, timeout and continue_on_error, and one module per type (shell, file,
// shell-local, ansible, ansible-local).
import type { ProvisionerCommon, ProvisionerSpec } from '../spec.js';
import { FieldReader, isObject, describeType, type JsonObject } from '../fields.js';
import { didYouMean } from '../suggest.js';
import type { ProvisionerContext } from './common.js';
import { readShell } from './shell.js';
import { readFile } from './file.js';
import { readShellLocal } from './shell-local.js';
import { readAnsible } from './ansible.js';
import { readAnsibleLocal } from './ansible-local.js';

export type { ProvisionerContext } from './common.js';

export const PROVISIONER_TYPES = ['shell', 'file', 'shell-local', 'ansible', 'ansible-local'] as const;

/** The provisioners that run over the build's SSH connection (or, for ansible, connect as it does). */
const NEEDS_SSH: ReadonlySet<unknown> = new Set(['shell', 'file', 'ansible', 'ansible-local']);

export interface ProvisionerBuild {
  name: string;
  communicator: 'ssh' | 'none';
}

/** True when provisioner `raw` applies to the build named `buildName` (only/except). Malformed → true (reported elsewhere). */
export function appliesTo(raw: unknown, buildName: string): boolean {
  if (!isObject(raw)) return true;
  const only = Array.isArray(raw.only) ? raw.only : undefined;
  const except = Array.isArray(raw.except) ? raw.except : undefined;
  if (only && !only.includes(buildName)) return false;
  if (except && except.includes(buildName)) return false;
  return true;
}

/** Checks the parts of the provisioners list that do not depend on a build: its shape, types, only/except.
 *  `pathOf` names item i in problems (the error-cleanup-provisioner is checked as a one-item list). */
export function checkProvisionerList(raw: unknown, ctx: ProvisionerContext, pathOf = (i: number) => `provisioners[${i}]`): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    ctx.problems.add('provisioners', `must be a list of provisioners, not ${describeType(raw)}`, 'write "provisioners": [{"type": "shell", "inline": ["…"]}]');
    return [];
  }
  raw.forEach((item, index) => {
    const path = pathOf(index);
    if (!isObject(item)) {
      ctx.problems.add(path, `must be an object with a "type", not ${describeType(item)}`);
      return;
    }
    if (item.type === undefined) ctx.problems.add(`${path}.type`, 'a provisioner needs a type', `one of ${PROVISIONER_TYPES.join(', ')}`);
    else if (typeof item.type !== 'string') ctx.problems.add(`${path}.type`, `a provisioner type is a string, not ${describeType(item.type)}`, `one of ${PROVISIONER_TYPES.join(', ')}`);
    else if (!(PROVISIONER_TYPES as readonly string[]).includes(item.type)) {
      const type = item.type;
      ctx.problems.add(`${path}.type`, `the provisioner type "${type}" is not supported by kiln`, didYouMean(type, PROVISIONER_TYPES) ?? `kiln has ${PROVISIONER_TYPES.join(', ')}`);
    }
    for (const key of ['only', 'except'] as const) {
      if (item[key] === undefined || item[key] === null) continue;
      if (!Array.isArray(item[key]) || !(item[key] as unknown[]).every((name) => typeof name === 'string')) {
        ctx.problems.add(`${path}.${key}`, `must be a list of builder names, not ${describeType(item[key])}`, `write "${key}": ["${ctx.builderNames[0] ?? 'scaleway'}"]`);
        continue;
      }
      (item[key] as string[]).forEach((name, i) => {
        if (!ctx.builderNames.includes(name)) {
          ctx.problems.add(`${path}.${key}[${i}]`, `there is no builder named "${name}"`, didYouMean(name, ctx.builderNames) ?? `the builders are named ${ctx.builderNames.map((n) => `"${n}"`).join(', ')}`);
        }
      });
    }
    if (item.only !== undefined && item.except !== undefined) {
      ctx.problems.add(path, 'only one of "only" and "except" may be set', 'keep the one that is shorter to read');
    }
    checkOverride(item.override, `${path}.override`, ctx);
  });
  return raw;
}

// `override`: {"<builder name>": {key: value, …}}: those keys replace the provisioner's own for that build.
function checkOverride(override: unknown, path: string, ctx: ProvisionerContext): void {
  if (override === undefined || override === null) return;
  if (!isObject(override)) {
    ctx.problems.add(path, `must be an object of builder names, not ${describeType(override)}`, `write "override": {"${ctx.builderNames[0] ?? 'scaleway'}": {"inline": ["…"]}}`);
    return;
  }
  for (const [name, keys] of Object.entries(override)) {
    if (!ctx.builderNames.some((builder) => overrideNames(builder).includes(name))) {
      ctx.problems.add(`${path}.${name}`, `there is no builder named "${name}"`, didYouMean(name, ctx.builderNames) ?? `the builders are named ${ctx.builderNames.map((n) => `"${n}"`).join(', ')}`);
    } else if (!isObject(keys)) {
      ctx.problems.add(`${path}.${name}`, `must be an object of the keys to change, not ${describeType(keys)}`);
    }
  }
}

// A build's names in `override`: its name, or (HCL2) its source's `scaleway.NAME`.
const overrideNames = (build: string): string[] => [build, `scaleway.${build}`];

/** The provisioner as `build` runs it: its keys, with the build's `override` on top (Packer's order). */
function withOverride(raw: JsonObject, build: string): JsonObject {
  const { override, ...own } = raw;
  if (!isObject(override)) return own;
  const mine = overrideNames(build).map((name) => override[name]).find(isObject);
  return mine ? { ...own, ...mine } : own;
}

/** Reads provisioner `index` for one build (template functions see that build's name). */
export function readProvisioner(raw: unknown, index: number, build: ProvisionerBuild, ctx: ProvisionerContext, path = `provisioners[${index}]`): ProvisionerSpec | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') return undefined;
  raw = withOverride(raw, build.name);
  const reader = new FieldReader(raw as JsonObject, path, ctx);
  const common: ProvisionerCommon = {
    index,
    pauseBeforeMs: reader.duration('pause_before') ?? 0,
    maxRetries: reader.int('max_retries', { min: 0 }) ?? 0,
    timeoutMs: reader.duration('timeout') ?? 0,
    ...(reader.bool('continue_on_error') ? { continueOnError: true } : {}),
  };
  const type = (raw as JsonObject).type;
  if (NEEDS_SSH.has(type) && build.communicator === 'none') {
    ctx.problems.add(
      path,
      `the ${String(type)} provisioner needs SSH, but the builder "${build.name}" has communicator "none"`,
      `remove "communicator": "none" from that builder, or add "except": ["${build.name}"] to this provisioner`,
    );
  }
  switch (type) {
    case 'shell':
      return readShell(reader, common, ctx);
    case 'file':
      return readFile(reader, common, ctx);
    case 'shell-local':
      return readShellLocal(reader, common, ctx);
    case 'ansible':
      return readAnsible(reader, common, ctx);
    case 'ansible-local':
      return readAnsibleLocal(reader, common, ctx);
    default:
      return undefined;
  }
}

