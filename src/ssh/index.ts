// The SSH communicator: temporary keys, connect with backoff, exec, SFTP transfers.
export { generateKeyPair, authorizedKeyTag, type KeyPair } from './keys.js';
export {
  connect,
  SshConnectError,
  SshDisconnectError,
  type ConnectOptions,
  type Communicator,
  type ExecOptions,
  type ExecResult,
  type TransferOptions,
} from './communicator.js';
export { shellQuote, shellAssignments, assertEnvName } from './shell.js';
export { LineSplitter } from './lines.js';
export { abortError, sleep, throwIfAborted } from './abort.js';
export { portAnswers } from './probe.js';
