// `kiln resume <build-id>`: continue an interrupted, crashed or aborted build where it stopped.
import { resolve } from 'node:path';
import { armCrashPoint } from '../../engine/crash.js';
import { keyPassphraseFromEnv, withKeyPassphrase } from '../../engine/key-seal.js';
import { debugRequests } from './debug.js';
import { announceRetries, countApiCalls } from './api-calls.js';
import { artifactOf, checkCloud, finishedFacts, fromProvisioner, needsTemporaryKey, resumePoint, ResumeRefusedError, type ResumePoint } from '../../engine/resume.js';
import { isUnreachable, ScalewayClient } from '../../scaleway/index.js';
import { BuildIdError, LeaseHeldError, hostStateDir, thisProcess } from '../../store/index.js';
import { openStoreFor } from './open-store.js';
import { loadTemplate, onlyBuild, TemplateError, templateInputsFromArgv } from '../../template/index.js';
import { envForTarget, recordedTarget, targetConflicts, targetOf } from '../../template/target.js';
import { EMBEDDED_SIMULATOR, endWithSimulator, SIMULATOR_ENDED } from '../../engine/embedded-sim.js';
import type { TemplateEvaluation } from '../../template/build-specs.js';
import type { OnErrorFlag, OutputArgs } from '../commands/shared-options.js';
import { describeArtifact, nextSteps } from '../../view/index.js';
import { settledWithin, STORE_GOODBYE_MS } from '../../engine/log.js';
import { LEASE_TTL_MS } from '../../engine/run.js';
import { recordedCacheSettings } from '../../engine/cache-settings.js';
import { EXIT } from './exit.js';

export interface ResumeArgs extends OutputArgs {
  id: string;
  var?: string[];
  'var-file'?: string[];
  'on-error'?: OnErrorFlag;
  'from-provisioner'?: number;
  /** Where to read the template, when not at the path the build started from. */
  template?: string;
  force: boolean;
  json: boolean;
  debug: boolean;
  db?: string;
}

/** Where the command's own lines go (tests give their own; the progress renderer writes to stdout). */
export interface CommandOutput {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function runResumeCommand(argv: ResumeArgs, io: CommandOutput = { out: process.stdout, err: process.stderr }): Promise<number> {
  const err = (line: string) => io.err.write(line.endsWith('\n') ? line : line + '\n');
  const { passphrase: keyPassphrase, problem } = keyPassphraseFromEnv();
  if (problem) {
    err(`kiln resume: ${problem}`);
    return EXIT.invalid;
  }
  const opened = await openStoreFor('resume', argv.db, io.err);
  if ('exitCode' in opened) return opened.exitCode;
  const { store, location } = opened;
  const stateDir = hostStateDir(location);
  const owner = thisProcess();
  armCrashPoint(store);
  let leased: string | undefined;
  try {
    let id;
    try {
      id = (await store.findBuild(argv.id)).id;
    } catch (error) {
      if (error instanceof BuildIdError) {
        err(`kiln resume: ${error.message}`);
        return EXIT.invalid;
      }
      throw error;
    }
    // The lease first, then the build's status and log: read before it, they could change under
    // us (the build finishing in another process, gc cleaning it up) and be resumed stale.
    try {
      await store.acquireLease(id, owner, LEASE_TTL_MS);
      leased = id;
    } catch (error) {
      if (error instanceof LeaseHeldError) {
        err(`kiln resume: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }
    const record = (await store.getBuild(id))!;
    if (record.status === 'succeeded') {
      if (argv['machine-readable'] && record.artifact) {
        // A script that resumes until success still finds the artifact lines it parses.
        const { createOutput } = await import('../render/output.js');
        createOutput('machine', io.out).finish([{ buildId: id, builderName: record.builderName, artifact: record.artifact, status: 'succeeded' }]);
      } else {
        io.out.write(`Build ${id} already succeeded: ${record.artifact ? describeArtifact(record.artifact) : 'no artifact recorded'}\n`);
      }
      return EXIT.ok;
    }
    // provision.output lines carry no state, and a long build has thousands of them.
    const events = await store.events(id, { withoutOutput: true });
    const lastFailed = [...events].reverse().find((e) => e.type === 'build.failed');
    if (record.status === 'cleaned') {
      err(`kiln resume: build ${id} was cleaned up by \`kiln gc\`; there is nothing to resume. Run \`kiln build\` again.`);
      return EXIT.failed;
    }
    if (record.status === 'failed' && lastFailed?.data.cleanedUp === true) {
      err(`kiln resume: build ${id} failed and everything it created was removed; there is nothing to resume. Run \`kiln build\` again.`);
      return EXIT.failed;
    }

    const started = events.find((e) => e.type === 'build.started');
    if (started?.data.simulator === EMBEDDED_SIMULATOR) {
      // Its world ended with the `kiln build --sim` that ran it (we hold the lease: that process is
      // gone): nothing of it exists anywhere, and no other API may be asked to continue it.
      await endWithSimulator(store, id, stateDir);
      err(`kiln resume: ${SIMULATOR_ENDED(id)}`);
      return EXIT.failed;
    }

    // The same template, evaluated to the same names ({{timestamp}}, {{uuid}}) as at the start,
    // where the build ran: its recorded zone, API URL and project fill what the shell leaves unset.
    const evaluation = started?.data.evaluation as TemplateEvaluation | undefined;
    const recorded = recordedTarget(record.spec);
    const env = recorded ? envForTarget(recorded, process.env) : process.env;
    const templatePath = argv.template !== undefined ? resolve(argv.template) : record.templatePath;
    let loaded;
    try {
      loaded = await loadTemplate(templatePath, {
        ...templateInputsFromArgv(argv),
        env,
        evaluation,
        // Only this build is read: another build of the template that does not load is not its problem.
        selection: onlyBuild(record.builderName),
        force: (record.spec as { force?: boolean } | null)?.force ?? false,
      });
    } catch (error) {
      if (error instanceof TemplateError) {
        const elsewhere = argv.template === undefined ? ' (on another machine or checkout? give its path with --template <path>)' : '';
        err(`kiln resume: the template of build ${id} (${templatePath}) does not load: ${error.message}${elsewhere}`);
        return EXIT.invalid;
      }
      throw error;
    }
    if (loaded.templateHash !== record.templateHash && !argv.force) {
      err(
        `kiln resume: ${templatePath} ${argv.template !== undefined ? `is not the template build ${id} started with` : `changed since build ${id} started`} (sha256 ${record.templateHash.slice(0, 12)}… → ${loaded.templateHash.slice(0, 12)}…). ` +
          'Resuming with a different template can give an image that matches neither; pass --force to resume anyway.',
      );
      return EXIT.invalid;
    }
    const spec = loaded.builds.find((b) => b.name === record.builderName);
    if (!spec) {
      err(`kiln resume: the template no longer has a builder named "${record.builderName}"`);
      return EXIT.invalid;
    }
    const conflicts = recorded ? targetConflicts(recorded, targetOf(spec), process.env) : [];
    if (conflicts.length > 0) {
      // Looking elsewhere would find nothing and call the build's server deleted.
      err(`kiln resume: build ${id} continues where it ran; ${conflicts.join('; ')}.`);
      return EXIT.invalid;
    }

    const finished = finishedFacts(events, spec);
    if (finished) {
      // Killed after its last phase, before recording its success: nothing is left to run.
      const artifact = artifactOf(record, finished, spec);
      await store.append(id, { type: 'build.succeeded', data: { artifact } });
      if (argv.json) {
        const { artifactJson } = await import('../render/progress.js');
        io.out.write(JSON.stringify(artifactJson(id, spec.name, artifact)) + '\n');
      } else {
        io.out.write(`Build ${id} had finished every phase; its success is now recorded. ${describeArtifact(artifact)}\n`);
      }
      return EXIT.ok;
    }

    let point: ResumePoint;
    try {
      point = resumePoint(events, spec);
      if (argv['from-provisioner'] !== undefined) point = fromProvisioner(point, spec, argv['from-provisioner']);
    } catch (error) {
      if (error instanceof ResumeRefusedError) {
        // Killed (or interrupted) in its cleanup after a failure, the build never recorded its end: it failed, its cleanup unfinished.
        if (error.failure && record.status !== 'failed') {
          const { phase, error: info } = error.failure;
          await store.append(id, { type: 'build.failed', phase, data: { error: info ?? { name: 'Error', message: 'the build failed', retryable: false }, cleanedUp: false } });
        }
        err(`kiln resume: build ${id}: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }

    // The build's temporary key, where the phases left log in with it: here, or unsealed from the
    // store (and kept here). Without it the resume is refused before it changes anything.
    if (needsTemporaryKey(spec, point)) {
      const { KeyUnavailableError, temporaryPrivateKey } = await import('../../engine/keys.js');
      try {
        await temporaryPrivateKey({ stateDir, buildId: id, passphrase: keyPassphrase, created: await store.lastEvent(id, 'key.created') });
      } catch (error) {
        if (error instanceof KeyUnavailableError) {
          err(`kiln resume: ${error.message}`);
          return EXIT.failed;
        }
        throw error;
      }
    }

    // The cloud first: is the server the build needs still there?
    const secrets = withKeyPassphrase(loaded.sensitiveValues, keyPassphrase);
    // The build's output exists once the cloud was checked: retries before it are said on stderr.
    let note = (text: string): void => void err(`kiln resume: ${text}`);
    const apiCalls = countApiCalls(announceRetries((text) => note(text), secrets, debugRequests(argv.debug, err, secrets)));
    const client = new ScalewayClient({ apiUrl: spec.apiUrl, zone: spec.zone, secretKey: spec.secretKey, projectId: spec.projectId, organizationId: spec.organizationId, onRequest: apiCalls.onRequest });
    let check;
    try {
      check = await checkCloud(client, record, point);
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      // Before anything changed: say where kiln looked rather than retry for minutes.
      err(`kiln resume: nothing answers at ${spec.apiUrl} (${(error as Error).message}); build ${id} is unchanged. Run \`kiln resume ${id}\` again once the API answers.`);
      return EXIT.failed;
    }
    if (check.action === 'fail') {
      await store.append(id, { type: 'resource.missing', phase: point.phase, data: { kind: 'server', id: check.missingServerId } });
      await store.append(id, { type: 'build.failed', phase: point.phase, data: { error: { name: 'ServerMissing', message: check.message, retryable: false }, cleanedUp: false } });
      err(`kiln resume: ${check.message}`);
      return EXIT.failed;
    }
    if (check.action === 'recreate-server') {
      await store.append(id, { type: 'resource.missing', phase: point.phase, data: { kind: 'server', id: check.missingServerId } });
      err(`kiln resume: server ${check.missingServerId} was deleted outside kiln before provisioning; creating a new one`);
    }
    point = check.point;

    // What runs the build (xstate, SSH, provisioners, the renderer) loads only now, after the
    // first API call: resume reaches the cloud check sooner.
    const [{ BuildRun }, { askWhileSuspended, effectiveOnError, handleSignals, phasesShown }, { createOutput, outputKind }] = await Promise.all([
      import('../../engine/run.js'),
      import('./build.js'),
      import('../render/output.js'),
    ]);

    const kind = outputKind(argv);
    const onError = effectiveOnError(argv['on-error'] ?? record.onError, kind, err);
    const output = createOutput(kind, io.out);
    const renderer = output.renderer;
    renderer.track(id, spec.name, phasesShown(spec));
    note = (text) => renderer.note(id, text);
    const unsubscribe = store.subscribe((e) => renderer.onEvent(e));
    await store.append(id, {
      type: 'build.resumed',
      phase: point.phase,
      data: {
        fromPhase: point.phase,
        ...(point.phase === 'provision' ? { fromProvisioner: point.provisionerIndex } : {}),
        previousStatus: record.status,
        templateChanged: loaded.templateHash !== record.templateHash,
        pid: owner.pid,
        host: owner.host,
      },
    });

    const run = new BuildRun({
      store,
      buildId: id,
      spec,
      onError,
      decide: onError === 'ask' ? (failure) => askWhileSuspended(renderer, spec.name, failure) : undefined,
      stateDir,
      keyPassphrase,
      resumeAt: point,
      cache: recordedCacheSettings(events),
      leaseTtlMs: LEASE_TTL_MS,
      onRequest: apiCalls.onRequest,
    });
    const stopSignals = handleSignals(() => [run], err);
    let outcome;
    try {
      outcome = await run.run();
    } finally {
      stopSignals();
      renderer.close();
      unsubscribe();
      // After the renderer stopped listening: the count is for `kiln show` and the report, not the progress.
      await apiCalls.record(store, id);
    }
    output.finish([outcome]);
    if (outcome.status !== 'succeeded') err(nextSteps(outcome));
    return outcome.status === 'succeeded' ? EXIT.ok : outcome.status === 'interrupted' ? EXIT.interrupted : EXIT.failed;
  } finally {
    try {
      // (BuildRun releases it too when it ran; releasing twice is harmless.)
      if (leased) await settledWithin(() => store.releaseLease(leased!, owner), STORE_GOODBYE_MS);
    } finally {
      await settledWithin(() => store.close(), STORE_GOODBYE_MS);
    }
  }
}
