// The engine: runs builds (the machine + phase actors + event log), starts and resumes them.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BuildStore, OnError } from '../store/index.js';
import type { BuildSpec, RedactedBuildSpec } from '../template/spec.js';
import type { TemplateEvaluation } from '../template/build-specs.js';
import type { CacheSettings } from './cache-settings.js';

export { BuildRun, machineInput, sharedServerLooks, LEASE_TTL_MS, type RunOptions, type BuildOutcome, type Decision } from './run.js';
export { BuildError } from './runtime.js';
export { WaitHistory } from './wait-history.js';
export { DEFAULT_CACHE_MAX_AGE_MS, recordedCacheSettings, type CacheMode, type CacheSettings } from './cache-settings.js';
export { keyPath, deleteKeyPair } from './keys.js';
export { KILN_TAG, buildTag, phaseTag, resourceTags } from './tags.js';

/** A new build id: time-ordered, short enough to type (`kiln show m3k9x2a1-4f0c2e`). */
export function newBuildId(now: number = Date.now()): string {
  return `${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface NewBuildInput {
  store: BuildStore;
  spec: BuildSpec;
  /** `redactSpec(spec, sensitiveValues)`: what the database keeps. */
  redacted: RedactedBuildSpec;
  templatePath: string;
  templateHash: string;
  evaluation: TemplateEvaluation;
  onError: OnError;
  buildId?: string;
  /** Run by `kiln build --sim`: recorded, so that nothing continues it against another API. */
  simulator?: 'embedded';
  /** The build cache's flags: recorded, so that a resume goes on with them. */
  cache?: CacheSettings;
}

/** Records a new build (row + `build.started`) and returns its id. */
export async function createBuildRecord(input: NewBuildInput): Promise<string> {
  const id = input.buildId ?? newBuildId();
  await input.store.createBuild(
    {
      id,
      templatePath: input.templatePath,
      templateHash: input.templateHash,
      builderName: input.spec.name,
      spec: input.redacted,
      onError: input.onError,
    },
    {
      type: 'build.started',
      data: {
        templatePath: input.templatePath,
        templateHash: input.templateHash,
        builderName: input.spec.name,
        onError: input.onError,
        // The template's {{timestamp}}/{{uuid}}: resume evaluates the template to the same names.
        evaluation: input.evaluation,
        zone: input.spec.zone,
        ...(input.simulator ? { simulator: input.simulator } : {}),
        ...(input.cache ? { cache: input.cache } : {}),
        pid: process.pid,
        host: hostname(),
      },
    },
  );
  return id;
}
