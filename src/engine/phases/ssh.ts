// The communicator: the temporary key pair (`key`: made once, kept 0600 in the state directory,
// its public half recorded, its private half sealed into the log only under a passphrase), and the
// SSH connection (`ssh.connect`, and every later phase that needs one after a retry or a resume).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { AUTH_REFUSED, authorizedKeyTag, connect, SshConnectError, type Communicator } from '../../ssh/index.js';
import type { EventData } from '../../store/index.js';
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

/** Connects (or reuses the connection) to the build's server; `handshakeAttempts` overrides the template's (1: one try at the keys). */
export async function ensureCommunicator(
  rt: PhaseRuntime,
  input: PhaseInput,
  signal: AbortSignal,
  deadlineAt: number | null,
  handshakeAttempts?: number,
): Promise<Communicator> {
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
    handshakeAttempts: handshakeAttempts ?? c.handshakeAttempts,
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

/**
 * Takes the build's temporary key out of root's authorized_keys on the server (what Packer's
 * ssh_clear_authorized_keys does), before a snapshot: the key must open no server made from it.
 * The connection already open stays usable; a new one is refused from then on. Recorded as
 * `key.cleared` (with `item`); on a resume that finds no record, a server that refuses the key at
 * the first try has lost it already (nothing else takes it out), and that is recorded instead.
 * A key of the user's own (ssh_private_key_file) is theirs: left where it is.
 */
export async function clearTemporaryKey(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal, item: EventData = {}): Promise<void> {
  if (input.facts.keySource !== 'temporary') return;
  const same = (e: { type: string; phase: string | null; data: EventData }) =>
    e.type === 'key.cleared' && e.phase === input.phase && Object.entries(item).every(([k, v]) => e.data[k] === v);
  if ((await rt.events()).some(same)) return;
  const publicKey = String((await rt.last('key.created'))?.data.publicKey ?? '');
  const body = publicKey.split(/\s+/)[1];
  if (!body || !/^[A-Za-z0-9+/=]+$/.test(body)) throw new BuildError('internal: the temporary public key is not recorded (key.created)');
  let communicator = rt.communicator;
  if (!communicator) {
    try {
      communicator = await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt, 1);
    } catch (error) {
      if (!(error instanceof SshConnectError && error.lastError === AUTH_REFUSED)) throw error;
      await rt.record(input, 'key.cleared', { ...item, reconciled: true });
      return;
    }
  }
  const sudo = rt.deps.spec.communicator.type === 'ssh' && rt.deps.spec.communicator.username !== 'root' ? 'sudo ' : '';
  const file = '/root/.ssh/authorized_keys';
  // grep -v leaves every other key; `cat >` keeps the file's owner and mode.
  const command = `${sudo}sh -c 'f=${file}; [ -f "$f" ] || exit 0; grep -vF "${body}" "$f" > "$f.kiln" || true; cat "$f.kiln" > "$f"; rm -f "$f.kiln"'`;
  const lines: string[] = [];
  const result = await communicator.exec(command, { signal, onLine: (_stream, line) => lines.push(line) });
  if (result.exitCode !== 0) throw new BuildError(`taking the temporary SSH key out of ${file} failed (exit ${result.exitCode ?? 'none'}):\n${lines.join('\n')}`);
  await rt.record(input, 'key.cleared', { ...item, file });
}
