// The Scaleway API client: everything kiln does in the cloud goes through `ScalewayClient`.
export { ScalewayClient } from './client.js';
export type { ClientOptions } from './transport.js';
export type { RequestReport, CallOptions } from './wire.js';
export { BlockApi } from './block.js';
export {
  ScalewayError,
  NotFoundError,
  InvalidArgumentsError,
  QuotaExceededError,
  TransientStateError,
  ConflictError,
  AccountRefusalError,
  UnauthorizedError,
  PermissionDeniedError,
  OutOfStockError,
  LockedError,
  PreconditionFailedError,
  RateLimitedError,
  ServerError,
  NetworkError,
  AmbiguousError,
  isRetryable,
  isUnreachable,
  answerOf,
  refusedForItsState,
  type ArgumentDetail,
  type PermissionDetail,
  type QuotaDetail,
  type RequestContext,
} from './errors.js';
export { errorFromResponse } from './error-answers.js';
export { backoffDelay, defaultRequestRetry, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';
export { firstPollDelay, POLL_SCHEDULE, pollDelay, pollUntil, WaitTimeoutError, windowLookTimes, type LookCause, type PollSchedule, type PollOptions } from './poll.js';
export { MAX_SAMPLES, MIN_SAMPLES, predictWait, sameWaitKey, sizeClassOf, type WaitKey, type WaitPrediction, type WaitRecord } from './predict.js';
export { LOOK_GATHER_MS, ServerLooks } from './server-looks.js';
export { normalizeZone } from './zones.js';
export { pickMarketplaceImage, normalizeLabel, nearbyLabels } from './marketplace.js';
export type * from './types.js';
export {
  getSecurityGroup,
  getPrivateNetwork,
  createPrivateNic,
  getPrivateNic,
  listPrivateNics,
  deletePrivateNic,
  type PrivateNic,
  type PrivateNicState,
  type SecurityGroup,
  type PrivateNetwork,
} from './network.js';
