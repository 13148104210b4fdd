// The communicator keys of a builder, with Packer's defaults: ssh (default) or none.
import { readFileSync, statSync } from 'node:fs';
import { loadSsh2 } from '../ssh/library.js';
import type { CommunicatorSpec } from './spec.js';
import type { FieldReader } from './fields.js';
import { resolveLocalPath } from './paths.js';

export const COMMUNICATOR_KEYS = [
  'communicator',
  'ssh_username',
  'ssh_port',
  'ssh_timeout',
  'ssh_private_key_file',
  'ssh_password',
  'ssh_handshake_attempts',
  'ssh_keep_alive_interval',
  'ssh_read_write_timeout',
  'ssh_agent_auth',
] as const;

const NOT_IN_KILN = 'kiln connects to the server\'s public IP directly with a key or a password';
/** Packer communicator options kiln does not implement (reported as such rather than "unknown"). */
export const UNSUPPORTED_COMMUNICATOR_KEYS: Record<string, string> = Object.fromEntries(
  [
    'ssh_host', 'ssh_interface', 'ssh_pty', 'ssh_disable_agent_forwarding', 'ssh_file_transfer_method',
    'ssh_bastion_host', 'ssh_bastion_port', 'ssh_bastion_username', 'ssh_bastion_password',
    'ssh_bastion_private_key_file', 'ssh_bastion_agent_auth', 'ssh_bastion_interactive', 'ssh_proxy_host',
    'ssh_proxy_port', 'ssh_proxy_username', 'ssh_proxy_password', 'ssh_keypair_name',
    'ssh_clear_authorized_keys', 'ssh_local_tunnels', 'ssh_remote_tunnels', 'ssh_ciphers',
    'ssh_key_exchange_algorithms', 'ssh_certificate_file', 'temporary_key_pair_type',
    'temporary_key_pair_bits', 'pause_before_connecting', 'ssh_wait_timeout',
    'winrm_username', 'winrm_password', 'winrm_host', 'winrm_port', 'winrm_timeout', 'winrm_use_ssl', 'winrm_insecure',
  ].map((key) => [key, key.startsWith('winrm') ? 'kiln speaks SSH only' : NOT_IN_KILN]),
);

export const COMMUNICATOR_DEFAULTS = {
  username: 'root',
  port: 22,
  timeoutMs: 5 * 60_000,
  handshakeAttempts: 10,
  keepAliveIntervalMs: 5_000,
  readWriteTimeoutMs: 0,
  agentAuth: false,
} as const;

export function readCommunicator(reader: FieldReader, paths: { templateDir: string; home: string }, warnings: string[]): CommunicatorSpec {
  let type: 'ssh' | 'none' = 'ssh';
  if (reader.raw.communicator === 'winrm') {
    reader.ctx.problems.add(reader.path('communicator'), 'the winrm communicator is not supported by kiln', 'use "ssh" (the default) or "none"');
  } else {
    type = reader.enumeration('communicator', ['ssh', 'none'] as const) ?? 'ssh';
  }

  if (type === 'none') {
    const ignored = COMMUNICATOR_KEYS.filter((key) => key !== 'communicator' && reader.has(key));
    if (ignored.length) warnings.push(`${reader.path('communicator')} is "none": ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored`);
    return { type: 'none' };
  }

  const username = reader.string('ssh_username') ?? COMMUNICATOR_DEFAULTS.username;
  const privateKeyFile = readPrivateKeyFile(reader, paths);
  const password = reader.string('ssh_password', { secret: true });
  // The seed: the temporary key pair only lets root in.
  if (username !== 'root' && !privateKeyFile && !password && reader.bool('ssh_agent_auth') !== true) {
    warnings.push(`${reader.path('ssh_username')} is "${username}" but no ssh_private_key_file is set: the temporary key kiln makes only authorizes root`);
  }
  const keepAlive = reader.duration('ssh_keep_alive_interval', { allowNegative: true });
  return {
    type: 'ssh',
    username,
    port: reader.int('ssh_port', { min: 1, max: 65535 }) ?? COMMUNICATOR_DEFAULTS.port,
    timeoutMs: positiveOr(reader.duration('ssh_timeout'), COMMUNICATOR_DEFAULTS.timeoutMs),
    ...(privateKeyFile ? { privateKeyFile } : {}),
    ...(password ? { password } : {}),
    handshakeAttempts: reader.int('ssh_handshake_attempts', { min: 1 }) ?? COMMUNICATOR_DEFAULTS.handshakeAttempts,
    // As in Packer, a negative interval turns keep-alives off.
    keepAliveIntervalMs: keepAlive === undefined ? COMMUNICATOR_DEFAULTS.keepAliveIntervalMs : Math.max(0, keepAlive),
    readWriteTimeoutMs: reader.duration('ssh_read_write_timeout') ?? COMMUNICATOR_DEFAULTS.readWriteTimeoutMs,
    agentAuth: reader.bool('ssh_agent_auth') ?? COMMUNICATOR_DEFAULTS.agentAuth,
  };
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value === undefined || value === 0 ? fallback : value;
}

// Packer refuses a key file it cannot read or parse; so does kiln, before anything is created.
function readPrivateKeyFile(reader: FieldReader, paths: { templateDir: string; home: string }): string | undefined {
  const written = reader.string('ssh_private_key_file');
  if (written === undefined) return undefined;
  const path = resolveLocalPath(paths.templateDir, written, paths.home);
  const where = path === written ? `"${written}"` : `"${written}" (${path})`;
  const fail = (message: string, hint?: string): undefined => {
    reader.ctx.problems.add(reader.path('ssh_private_key_file'), message, hint);
    return undefined;
  };
  let content: Buffer;
  try {
    if (!statSync(path).isFile()) return fail(`${where} is not a file`);
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT' ? `${where} does not exist` : `cannot read ${where}: ${code ?? (error as Error).message}`,
      'remove ssh_private_key_file to let kiln make a temporary key pair, or fix the path (relative paths start at the template\'s directory)',
    );
  }
  const parsed = loadSsh2().utils.parseKey(content);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    return fail(
      encrypted ? `${where} is protected by a passphrase, which kiln cannot ask for` : `${where} is not a private key SSH can use`,
      encrypted ? 'use an unencrypted key, or set ssh_agent_auth: true and load the key into ssh-agent' : 'give an OpenSSH or PEM private key (RSA, ECDSA or Ed25519)',
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key && !key.isPrivateKey()) return fail(`${where} is a public key`, 'give the private key file (the one without .pub)');
  return path;
}
