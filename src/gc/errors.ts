// gc's errors, and the one line a failure is told in (the table, the summary, `kiln ui`'s gc page).
import { ScalewayError } from '../scaleway/index.js';

/** One line for a failure: the error's class and message, never a request body or token. */
export function describeError(error: unknown): string {
  if (error instanceof ScalewayError) return `${error.name}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A mistake in how kiln gc was called (exit code 2). */
export class GcUsageError extends Error {
  override readonly name = 'GcUsageError';
}

/** Listing the cloud failed (after the client's retries): gc deletes nothing on a partial view. */
export class GcDiscoveryError extends Error {
  override readonly name = 'GcDiscoveryError';
  constructor(
    readonly zone: string,
    cause: unknown,
  ) {
    super(`could not list the resources of ${zone}: ${describeError(cause)}. Nothing was deleted.`, { cause });
  }
}
