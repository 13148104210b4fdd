// Runs one provisioner with Packer's wrappers: `pause_before` once, then up to
// `max_retries + 1` attempts, each bounded by `timeout`.
import type { ProvisionerSpec } from '../template/spec.js';
import { abortError, sleep } from '../ssh/index.js';
import { ProvisionerError, provisionerLabel, type ProvisionContext } from './context.js';
import { runShell } from './shell.js';
import { runFile } from './file.js';
import { runShellLocal } from './shell-local.js';
import { runAnsible } from './ansible.js';
import { runAnsibleLocal } from './ansible-local.js';

export async function runProvisioner(spec: ProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  if (spec.pauseBeforeMs > 0) await sleep(spec.pauseBeforeMs, ctx.signal);
  const attempts = Math.max(0, spec.maxRetries) + 1;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await runAttempt(spec, ctx);
      return;
    } catch (err) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      const error =
        err instanceof ProvisionerError
          ? err
          : new ProvisionerError(`${provisionerLabel(spec)}: ${(err as Error).message}`, { index: spec.index });
      if (attempt >= attempts) throw error;
      ctx.onRetry?.(attempt, error);
      await sleep(ctx.retryDelayMs ?? 2000, ctx.signal);
    }
  }
}

/** One attempt, aborted when `timeout` expires (reported as a ProvisionerError). */
async function runAttempt(spec: ProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  const timeout = new AbortController();
  const timer = spec.timeoutMs > 0 ? setTimeout(() => timeout.abort(), spec.timeoutMs) : undefined;
  const signal = AbortSignal.any([ctx.signal, timeout.signal]);
  // The attempt's last lines, for the timeout error (the provisioner's own error has them already).
  const recent: string[] = [];
  const onOutput: ProvisionContext['onOutput'] = (output) => {
    recent.push(output.line);
    if (recent.length > 20) recent.shift();
    ctx.onOutput(output);
  };
  try {
    await runOnce(spec, { ...ctx, signal, onOutput });
  } catch (err) {
    if (timeout.signal.aborted && !ctx.signal.aborted) {
      throw new ProvisionerError(
        `${provisionerLabel(spec)} timed out after ${spec.timeoutMs / 1000} s; raise its timeout if it needs longer`,
        { index: spec.index, lastLines: recent },
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function runOnce(spec: ProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  if (spec.type === 'shell-local') return runShellLocal(spec, ctx);
  if (spec.type === 'ansible') return runAnsible(spec, ctx);
  const communicator = ctx.communicator;
  if (!communicator) {
    throw new ProvisionerError(
      `${provisionerLabel(spec)} needs an SSH connection, but the communicator is "none"; ` +
        'use shell-local, or configure the ssh communicator',
      { index: spec.index },
    );
  }
  switch (spec.type) {
    case 'shell':
      return runShell(spec, ctx, communicator);
    case 'file':
      return runFile(spec, ctx, communicator);
    case 'ansible-local':
      return runAnsibleLocal(spec, ctx, communicator);
  }
}
