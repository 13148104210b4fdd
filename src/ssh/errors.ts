// The communicator's own error types: a connection that could not be made, and one that dropped.

/** An attempt's reason when the server refused every key and password offered (SshConnectError.lastError). */
export const AUTH_REFUSED = 'authentication refused (key not installed yet?)';

/** SSH could not be reached (or refused us) for the whole of `timeoutMs`, or the handshake kept failing. */
export class SshConnectError extends Error {
  override name = 'SshConnectError';
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastError: string,
  ) {
    super(message);
  }
}

/** The connection dropped while a command or transfer was running, and that was not expected. */
export class SshDisconnectError extends Error {
  override name = 'SshDisconnectError';
}
