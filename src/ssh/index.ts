// The SSH communicator: temporary keys, connect with backoff, exec, SFTP transfers.
export { generateKeyPair, authorizedKeyTag, type KeyPair } from './keys.js';
export { connect, type Communicator, type TransferOptions } from './communicator.js';
export type { ConnectOptions } from './connect.js';
export type { ExecOptions, ExecResult } from './exec.js';
export { AUTH_REFUSED, SshConnectError, SshDisconnectError } from './errors.js';
export { shellQuote, shellAssignments, assertEnvName } from './shell.js';
export { LineSplitter } from './lines.js';
export { abortError, sleep, throwIfAborted } from './abort.js';
export { portAnswers } from './probe.js';
