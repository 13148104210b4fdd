-- Waits that learn from the event log: see ../0014_wait_history.sql (the same in SQLite).
-- Partial indexes in insertion order: the recent `wait.finished` / `phase.succeeded` events of
-- every build without reading the rest of the log.
CREATE INDEX events_wait_finished ON events (id) WHERE type = 'wait.finished';
CREATE INDEX events_phase_succeeded ON events (id) WHERE type = 'phase.succeeded';

CREATE TABLE api_cache (
  key        TEXT    PRIMARY KEY,
  value      JSON    NOT NULL,
  fetched_at BIGINT  NOT NULL,        -- epoch ms
  expires_at BIGINT  NOT NULL         -- epoch ms; past it the answer is asked again
);
