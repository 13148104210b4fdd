// kiln's event store: the one place builds are recorded (DESIGN.md, "The spine").
export * from './events.js';
export * from './projection.js';
export type { CacheHistoryEntry, CheckpointClaim, CheckpointInput, CheckpointMade, CheckpointRecord, CheckpointSnapshot } from './checkpoints.js';
export { isPostgresUrl, StoreLocationError } from './location.js';
export { defaultStateDir, resolveDbPath, openDatabase, migrate, migrationFiles, MIGRATIONS_DIR, type Db, type LockWaitListener } from './db.js';
export { storeProblemMessage, StoreLockedError } from './problems.js';
export { EventStore } from './store.js';
// The PostgreSQL store (./postgres.js) is not re-exported: it loads the `pg` client, which SQLite
// users should not pay for at start-up. `openStore` imports it when a URL asks for it.
export { hostStateDir, openStore, resolveStoreLocation, type StoreLocation } from './open.js';
export {
  LeaseHeldError,
  UnknownBuildError,
  BuildIdError,
  AmbiguousBuildIdError,
  StoreUnavailableError,
  LogMovedError,
  isStoreUnavailable,
  leaseIsLive,
  holderVisible,
  pidAlive,
  pidSpaceOf,
  thisProcess,
  type BuildStore,
  type MaybePromise,
  type NewBuild,
  type LeaseOwner,
  type EventListener,
  type PhaseDuration,
  type GcRunRecord,
} from './api.js';
