// `kiln build`: load the template, record each build, run them (up to --parallel-builds at once),
// render progress, print the artifacts; Ctrl-C stops at the next safe point.
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { PHASES, type PhaseName } from '../../../machines/phases.js';
import { armCrashPoint } from '../../engine/crash.js';
import { BuildRun, createBuildRecord, newBuildId, sharedServerLooks, WaitHistory, type BuildOutcome, type CacheSettings, type Decision } from '../../engine/index.js';
import { keyPassphraseFromEnv, withKeyPassphrase } from '../../engine/key-seal.js';
import { debugRequests } from './debug.js';
import { announceRetries, countApiCalls, type ApiCallCounter } from './api-calls.js';
import { unsharedKeyNotice } from '../../engine/keys.js';
import { phaseRuns } from '../../engine/resume.js';
import { hostStateDir, type BuildStore, type ErrorInfo, type OnError } from '../../store/index.js';
import { openStoreFor } from './open-store.js';
import { loadTemplate, redactSpec, selectionFromArgv, TemplateError, templateInputsFromArgv } from '../../template/index.js';
import type { BuildSpec } from '../../template/spec.js';
import type { OnErrorFlag, OutputArgs } from '../commands/shared-options.js';
import { createOutput, outputKind, type OutputKind } from '../render/output.js';
import { describeError, nextSteps } from '../../view/index.js';
import { simPackageNotice } from './sim-notice.js';
import { settledWithin, STORE_GOODBYE_MS } from '../../engine/log.js';
import { EXIT } from './exit.js';
import { EMBEDDED_SIMULATOR, endWithSimulator, SIMULATOR_ENDED } from '../../engine/embedded-sim.js';
import { CacheFlagError, cacheSettingsOf, type CacheArgs } from './cache-flags.js';
import { explainCacheCheck } from '../../view/index.js';

export interface BuildArgs extends OutputArgs, CacheArgs {
  template: string;
  var?: string[];
  'var-file'?: string[];
  only?: string[];
  except?: string[];
  'on-error': OnErrorFlag;
  'parallel-builds': number;
  force: boolean;
  json: boolean;
  debug: boolean;
  sim: boolean;
  db?: string;
}

/** The project the embedded simulator's resources belong to when the template names none. */
const SIM_PROJECT_ID = '00000000-0000-4000-8000-00000000c1a7';
const SIM_TOKEN = '5e1a1a70-0000-4000-8000-00000000c1a7';

export { EXIT };

/** The --on-error a build runs with: ask needs a terminal; the substitution is said in one line. */
export function effectiveOnError(flag: OnErrorFlag, output: OutputKind, say: (line: string) => void): OnError {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && output !== 'json' && output !== 'machine';
  if (flag === 'ask' && !interactive) {
    say('kiln: --on-error ask needs a terminal; cleaning up on failure instead (use --on-error abort to keep resources)');
    return 'cleanup';
  }
  return flag;
}

/** The phases a build will go through (communicator none skips SSH and provisioning; optional phases run when asked for). */
export function phasesShown(spec: BuildSpec): PhaseName[] {
  return PHASES.filter((p) => phaseRuns(spec, p));
}

/** Runs `tasks` with at most `limit` at once (0 = no limit). */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const width = limit > 0 ? Math.min(limit, tasks.length) : tasks.length;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

/** --on-error ask, on a terminal: retry, clean up, or abort. */
export async function askDecision(builderName: string, failure: { phase: PhaseName; error: ErrorInfo }): Promise<Decision> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = (
        await rl.question(
          `\n${builderName}: ${failure.phase} failed: ${describeError(failure.error)}\n[r]etry the phase, [c]lean up, or [a]bort (keep everything, resumable)? `,
        )
      )
        .trim()
        .toLowerCase();
      if (answer.startsWith('r')) return 'retry';
      if (answer.startsWith('c')) return 'cleanup';
      if (answer.startsWith('a')) return 'abort';
    }
  } finally {
    rl.close();
  }
}

/** Asks with live progress held, so the prompt stays readable. One question at a time. */
let asking: Promise<unknown> = Promise.resolve();
export function askWhileSuspended(
  renderer: { suspend(): void; resume(): void },
  builderName: string,
  failure: { phase: PhaseName; error: ErrorInfo },
): Promise<Decision> {
  const answer = asking.then(async () => {
    renderer.suspend();
    try {
      return await askDecision(builderName, failure);
    } finally {
      renderer.resume();
    }
  });
  asking = answer.catch(() => undefined);
  return answer;
}

/** Wires SIGINT/SIGTERM: the first asks every run to stop at a safe point, the second exits at once. */
export function handleSignals(runs: () => BuildRun[], say: (line: string) => void): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received > 1) {
      say(`kiln: second ${signal}: exiting now (the event log stays consistent; \`kiln resume\` continues)`);
      process.exit(EXIT.interrupted);
    }
    say(`kiln: ${signal} received: stopping at the next safe point (press Ctrl-C again to exit at once)`);
    for (const run of runs()) run.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

export async function runBuildCommand(argv: BuildArgs): Promise<number> {
  const err = (line: string) => process.stderr.write(line.endsWith('\n') ? line : line + '\n');
  const kind = outputKind(argv);
  const onError = effectiveOnError(argv['on-error'], kind, err);

  // --sim: an embedded simulator, loaded only when asked for.
  let sim: { apiUrl: string; sshPort: number; close(): Promise<void> } | undefined;
  if (argv.sim) {
    const { startSimulator } = await import('../../sim/index.js');
    sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => (argv.debug ? err(`sim: ${line}`) : undefined) });
    err(`kiln: embedded Scaleway simulator at ${sim.apiUrl} (SSH port ${sim.sshPort})`);
  }

  let store: BuildStore | undefined;
  try {
    const { passphrase: keyPassphrase, problem } = keyPassphraseFromEnv();
    if (problem) {
      err(`kiln build: ${problem}`);
      return EXIT.invalid;
    }
    let loaded;
    try {
      const inputs = templateInputsFromArgv(argv);
      const env = sim
        ? {
            ...process.env,
            SCW_API_URL: sim.apiUrl,
            SCW_SECRET_KEY: process.env.SCW_SECRET_KEY ?? SIM_TOKEN,
            SCW_DEFAULT_PROJECT_ID: process.env.SCW_DEFAULT_PROJECT_ID ?? SIM_PROJECT_ID,
          }
        : process.env;
      loaded = await loadTemplate(argv.template, { ...inputs, env, force: argv.force, selection: selectionFromArgv(argv) });
    } catch (error) {
      if (error instanceof TemplateError) {
        err(`kiln build: ${error.message}`);
        return EXIT.invalid;
      }
      throw error;
    }
    for (const warning of loaded.warnings) err(`kiln: warning: ${warning}`);

    const specs: BuildSpec[] = loaded.builds.map((spec) =>
      sim
        ? // Never send real credentials to the simulator; point every build at it.
          { ...spec, apiUrl: sim.apiUrl, secretKey: SIM_TOKEN }
        : spec,
    );

    let cacheOf: (spec: BuildSpec) => CacheSettings;
    try {
      const settings = new Map(specs.map((spec) => [spec, cacheSettingsOf(argv, spec)]));
      cacheOf = (spec) => settings.get(spec)!;
    } catch (error) {
      if (error instanceof CacheFlagError) {
        err(`kiln build: ${error.message}`);
        return EXIT.invalid;
      }
      throw error;
    }

    const opened = await openStoreFor('build', argv.db);
    if ('exitCode' in opened) return opened.exitCode;
    store = opened.store;
    const location = opened.location;
    const stateDir = hostStateDir(location);
    const sharedStore = location.kind === 'postgres';
    const notice = specs.map((spec) => unsharedKeyNotice({ sharedStore, spec, passphrase: keyPassphrase, stateDir })).find(Boolean);
    if (notice) err(notice);
    const output = createOutput(kind);
    const renderer = output.renderer;
    const unsubscribe = store.subscribe((e) => renderer.onEvent(e));
    armCrashPoint(store); // after the renderer: the killing event is printed first
    const secrets = withKeyPassphrase(loaded.sensitiveValues, keyPassphrase);

    const runs: BuildRun[] = [];
    const counters: { buildId: string; counter: ApiCallCounter }[] = [];
    const stopSignals = handleSignals(() => runs, err);
    let outcomes: BuildOutcome[];
    try {
      // Each build's id comes first in its output (the build.started event).
      const ids: string[] = [];
      for (const spec of specs) {
        const buildId = newBuildId();
        renderer.track(buildId, spec.name, phasesShown(spec));
        await createBuildRecord({
          store: store!,
          spec,
          redacted: redactSpec(spec, secrets),
          templatePath: resolve(argv.template),
          templateHash: loaded.templateHash,
          evaluation: loaded.evaluation,
          onError,
          buildId,
          ...(sim ? { simulator: EMBEDDED_SIMULATOR } : {}),
          cache: cacheOf(spec),
        });
        ids.push(buildId);
      }
      const serverLooksOf = sharedServerLooks(specs, argv['parallel-builds']);
      const waitHistory = new WaitHistory();
      outcomes = await pool(
        specs.map((spec, i) => async () => {
          const counter = countApiCalls(announceRetries((text) => renderer.note(ids[i]!, text), secrets, debugRequests(argv.debug, err, secrets)));
          counters.push({ buildId: ids[i]!, counter });
          const run = new BuildRun({
            store: store!,
            buildId: ids[i]!,
            spec,
            onError,
            stateDir,
            keyPassphrase,
            sshPortOverride: sim?.sshPort,
            serverLooks: serverLooksOf(spec),
            waitHistory,
            cache: cacheOf(spec),
            decide: onError === 'ask' ? (failure) => askWhileSuspended(renderer, spec.name, failure) : undefined,
            onRequest: counter.onRequest,
          });
          runs.push(run);
          return run.run();
        }),
        argv['parallel-builds'],
      );
    } finally {
      stopSignals();
      renderer.close();
      unsubscribe();
      // After the renderers stopped listening: the count is for `kiln show` and the report, not the progress.
      for (const { buildId, counter } of counters) await counter.record(store!, buildId);
    }

    output.finish(outcomes);
    // --explain-cache: the cache's verdicts, per provisioner (in --json, the cache.checked events hold them).
    if (argv['explain-cache'] && kind !== 'json') await explainCache(store, outcomes, err);
    for (const o of outcomes) {
      if (o.status === 'succeeded') continue;
      if (sim && !(o.status === 'failed' && o.cleanedUp)) {
        // What it kept went with the simulator: its record ends here, and resume or gc would find nothing.
        // (A store that failed the build is not waited on: the message matters more.)
        await settledWithin(() => endWithSimulator(store!, o.buildId, stateDir), STORE_GOODBYE_MS);
        const what = o.failure
          ? `Build ${o.buildId} (${o.builderName}) failed in ${o.failure.phase}: ${describeError(o.failure.error)}`
          : `Build ${o.buildId} (${o.builderName}) was interrupted during ${o.phase ?? 'start-up'}.`;
        err(`${what}\nkiln: ${SIMULATOR_ENDED(o.buildId)}`);
      } else err(nextSteps(o));
    }
    const packageNotice = sim ? outcomes.map(simPackageNotice).find(Boolean) : undefined;
    if (packageNotice) err(packageNotice);
    if (outcomes.some((o) => o.status === 'interrupted')) return EXIT.interrupted;
    return outcomes.every((o) => o.status === 'succeeded') ? EXIT.ok : EXIT.failed;
  } finally {
    if (store) await settledWithin(() => store!.close(), STORE_GOODBYE_MS);
    await sim?.close();
  }
}

/** `--explain-cache` on a terminal: each build's cache verdicts, from its cache.checked event. */
async function explainCache(store: BuildStore, outcomes: BuildOutcome[], say: (line: string) => void): Promise<void> {
  for (const { buildId, builderName: name } of outcomes) {
    const checked = (await store.events(buildId)).find((e) => e.type === 'cache.checked');
    if (!checked) say(`${name}: build cache not consulted (--cache off, no SSH, fewer than two provisioners, or the build stopped before)`);
    else for (const line of explainCacheCheck(checked.data)) say(`${name}: ${line}`);
  }
}
