// The communicator: the temporary key pair (`key`: made once, kept 0600 in the state directory,
// its public half recorded, its private half sealed into the log only under a passphrase), and the
// SSH connection (`ssh.connect`, and every later phase that needs one after a retry or a resume).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { authorizedKeyTag, connect, type Communicator } from '../../ssh/index.js';
import { publicKeyOf } from '../../ssh/keys.js';
import { sealPrivateKey } from '../key-seal.js';
import { KeyUnavailableError, loadOrCreateKeyPair, temporaryPrivateKey } from '../keys.js';
import { BuildError, requireFact, type PhaseRuntime } from '../runtime.js';

export async function key(rt: PhaseRuntime, input: PhaseInput): Promise<BuildFacts> {
  const { spec, stateDir, buildId } = rt.deps;
  if (spec.communicator.type !== 'ssh') return {};
  if (spec.communicator.privateKeyFile) {
    // The user's own key: read at connect time, never copied. Its public half goes in the
    // AUTHORIZED_KEY tag, as a temporary key's does, so the server lets it in.
    const publicKey = publicKeyOf(readFileSync(spec.communicator.privateKeyFile, 'utf8'));
    return { keySource: 'file', ...(publicKey ? { authorizedKeyTag: authorizedKeyTag(publicKey) } : {}) };
  }
  const { pair, created } = loadOrCreateKeyPair(stateDir, buildId);
  // Recorded for a new pair, and for one written just before a crash that left no record of it.
  if (created || (await rt.last('key.created'))?.data.publicKey !== pair.publicKey) {
    const passphrase = rt.deps.keyPassphrase;
    const sealed = passphrase ? await sealPrivateKey(pair.privateKey, passphrase, buildId) : undefined;
    // The host says where the key is when it is not sealed (a resume elsewhere names it).
    await rt.record(input, 'key.created', { publicKey: pair.publicKey, host: hostname(), ...(sealed ? { sealed } : {}) });
  }
  return { keySource: 'temporary', authorizedKeyTag: authorizedKeyTag(pair.publicKey) };
}

/** Connects (or reuses the connection) to the build's server. */
export async function ensureCommunicator(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, deadlineAt: number | null): Promise<Communicator> {
  if (rt.communicator) return rt.communicator;
  const { spec, stateDir, buildId, sshPortOverride } = rt.deps;
  if (spec.communicator.type !== 'ssh') throw new BuildError('internal: no SSH communicator configured');
  const c = spec.communicator;
  // ssh_agent_auth: the keys of the running ssh-agent are offered too.
  const agent = c.agentAuth ? process.env.SSH_AUTH_SOCK : undefined;
  if (c.agentAuth && !agent) {
    throw new BuildError('ssh_agent_auth is true but SSH_AUTH_SOCK is not set: start an ssh-agent (eval $(ssh-agent); ssh-add) or remove ssh_agent_auth');
  }
  let privateKey: string | undefined;
  if (c.privateKeyFile) privateKey = readFileSync(c.privateKeyFile, 'utf8');
  else {
    try {
      privateKey = await temporaryPrivateKey({ stateDir, buildId, passphrase: rt.deps.keyPassphrase, created: await rt.last('key.created') });
    } catch (error) {
      if (!(error instanceof KeyUnavailableError)) throw error;
      // A password or an agent may still let the build in.
      if (!c.password && !agent) throw new BuildError(error.message);
    }
  }
  const host = requireFact(input.facts, 'publicIp', input.phase);
  const timeoutMs = deadlineAt !== null ? Math.max(1_000, deadlineAt - Date.now()) : c.timeoutMs;
  rt.communicator = await connect({
    host,
    port: sshPortOverride ?? c.port,
    username: c.username,
    privateKey,
    password: c.password,
    ...(agent ? { agent } : {}),
    timeoutMs,
    readWriteTimeoutMs: c.readWriteTimeoutMs,
    handshakeAttempts: c.handshakeAttempts,
    keepAliveIntervalMs: c.keepAliveIntervalMs || undefined,
    signal,
  });
  await rt.record(input, 'ssh.connected', { host, username: c.username });
  return rt.communicator;
}

export async function sshConnect(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  return {};
}
