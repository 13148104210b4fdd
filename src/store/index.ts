// kiln's event store: the one place builds are recorded (DESIGN.md, "The spine").
export * from './events.js';
export * from './projection.js';
export { defaultStateDir, resolveDbPath, openDatabase, migrate, MIGRATIONS_DIR, type Db } from './db.js';
export { EventStore, LeaseHeldError, UnknownBuildError, leaseIsLive, pidAlive, thisProcess, type NewBuild, type LeaseOwner, type EventListener } from './store.js';
