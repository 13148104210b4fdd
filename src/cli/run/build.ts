// `kiln build`: load the template, record each build, run them (up to --parallel-builds at once),
// render progress, print the artifacts; Ctrl-C stops at the next safe point.
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { PHASES, type PhaseName } from '../../../machines/phases.js';
import { armCrashPoint } from '../../engine/crash.js';
import { BuildRun, createBuildRecord, newBuildId, type BuildOutcome, type Decision } from '../../engine/index.js';
import { EventStore, resolveDbPath, type ErrorInfo, type OnError } from '../../store/index.js';
import { loadTemplate, redactSpec, redactText, TemplateError, templateInputsFromArgv } from '../../template/index.js';
import type { BuildSpec } from '../../template/spec.js';
import { artifactJson, artifactReport, createRenderer, type OutputMode } from '../render/progress.js';
import { describeError } from '../render/describe.js';
import { EXIT } from './exit.js';

export interface BuildArgs {
  template: string;
  var?: string[];
  'var-file'?: string[];
  'on-error': OnError;
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

function outputMode(json: boolean): OutputMode {
  if (json) return 'json';
  return process.stdout.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

/** The phases a build will go through (communicator none skips SSH and provisioning). */
export function phasesShown(spec: BuildSpec): PhaseName[] {
  const withoutSsh = spec.communicator.type === 'ssh' ? [] : ['key', 'ssh.connect'];
  return PHASES.filter((p) => !withoutSsh.includes(p) && (p !== 'provision' || spec.provisioners.length > 0));
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

/** What to tell the user after a build that did not succeed. */
export function nextSteps(o: BuildOutcome): string {
  const resume = `kiln resume ${o.buildId}`;
  const gc = `kiln gc --build ${o.buildId} --force`;
  if (o.status === 'interrupted') {
    return `Build ${o.buildId} (${o.builderName}) was interrupted during ${o.phase ?? 'start-up'}; its resources are kept.\n  continue:  ${resume}\n  clean up:  ${gc}\n`;
  }
  const cause = `Build ${o.buildId} (${o.builderName}) failed in ${o.failure?.phase}: ${describeError(o.failure?.error)}\n`;
  if (o.cleanedUp) return cause + `  Everything the build created was removed. Fix the cause and run \`kiln build\` again.\n`;
  return cause + `  Its resources are kept for inspection.\n  retry the failed phase after fixing the cause:  ${resume}\n  remove them:  ${gc}\n`;
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
  let onError = argv['on-error'];
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !argv.json;
  if (onError === 'ask' && !interactive) {
    err('kiln: --on-error ask needs a terminal; cleaning up on failure instead (use --on-error abort to keep resources)');
    onError = 'cleanup';
  }

  // --sim: an embedded simulator, loaded only when asked for.
  let sim: { apiUrl: string; sshPort: number; close(): Promise<void> } | undefined;
  if (argv.sim) {
    const { startSimulator } = await import('../../sim/index.js');
    sim = await startSimulator({ latency: 'fast', port: 0, sshPort: 0, log: (line) => (argv.debug ? err(`sim: ${line}`) : undefined) });
    err(`kiln: embedded Scaleway simulator at ${sim.apiUrl} (SSH port ${sim.sshPort})`);
  }

  let store: EventStore | undefined;
  try {
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
      loaded = await loadTemplate(argv.template, { ...inputs, env, force: argv.force });
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

    const dbPath = resolveDbPath(argv.db);
    store = EventStore.open(dbPath);
    const stateDir = dirname(dbPath);
    const renderer = createRenderer(outputMode(argv.json));
    const unsubscribe = store.subscribe((e) => renderer.onEvent(e));
    armCrashPoint(store); // after the renderer: the killing event is printed first
    const secrets = loaded.sensitiveValues;

    const runs: BuildRun[] = [];
    const stopSignals = handleSignals(() => runs, err);
    let outcomes: BuildOutcome[];
    try {
      // Each build's id comes first in its output (the build.started event).
      const ids = specs.map((spec) => {
        const buildId = newBuildId();
        renderer.track(buildId, spec.name, phasesShown(spec));
        createBuildRecord({
          store: store!,
          spec,
          redacted: redactSpec(spec, secrets),
          templatePath: resolve(argv.template),
          templateHash: loaded.templateHash,
          evaluation: loaded.evaluation,
          onError,
          buildId,
        });
        return buildId;
      });
      outcomes = await pool(
        specs.map((spec, i) => async () => {
          const run = new BuildRun({
            store: store!,
            buildId: ids[i]!,
            spec,
            onError,
            stateDir,
            sshPortOverride: sim?.sshPort,
            decide: onError === 'ask' ? (failure) => askWhileSuspended(renderer, spec.name, failure) : undefined,
            onRequest: argv.debug
              ? (r) => err(`debug: ${r.method} ${r.path} → ${r.status ?? 'no answer'} (attempt ${r.attempt}, ${r.durationMs} ms)${r.error ? ` ${redactText(r.error, secrets)}` : ''}`)
              : undefined,
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
    }

    if (argv.json) {
      for (const o of outcomes) if (o.artifact) process.stdout.write(JSON.stringify(artifactJson(o.buildId, o.builderName, o.artifact)) + '\n');
    } else {
      process.stdout.write(artifactReport(outcomes));
    }
    for (const o of outcomes) if (o.status !== 'succeeded') err(nextSteps(o));
    if (outcomes.some((o) => o.status === 'interrupted')) return EXIT.interrupted;
    return outcomes.every((o) => o.status === 'succeeded') ? EXIT.ok : EXIT.failed;
  } finally {
    store?.close();
    await sim?.close();
  }
}
