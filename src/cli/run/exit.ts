// The exit statuses of kiln's commands (a light module: imported before anything heavy loads).
export const EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;

/**
 * Lets the process end at most `graceMs` after its command finished, with the exit code it set.
 * A connection to a store that stopped answering (a network that drops packets) would otherwise
 * keep it alive until the OS gives up on the connection. The timer does not itself keep it alive.
 */
export function exitOnceDone(graceMs = 5_000): void {
  setTimeout(() => process.exit(), graceMs).unref();
}
