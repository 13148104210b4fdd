// kiln's event store: the one place builds are recorded (DESIGN.md, "The spine").
export * from './events.js';
export * from './projection.js';
export { defaultStateDir, resolveDbPath, openDatabase, migrate, MIGRATIONS_DIR, type Db } from './db.js';
export { EventStore } from './store.js';
export { PgEventStore, isPostgresUrl, migratePostgres, redactUrl, PG_MIGRATIONS_DIR } from './postgres.js';
export {
  LeaseHeldError,
  UnknownBuildError,
  leaseIsLive,
  pidAlive,
  thisProcess,
  type BuildStore,
  type MaybePromise,
  type NewBuild,
  type LeaseOwner,
  type EventListener,
  type PhaseDuration,
} from './api.js';
