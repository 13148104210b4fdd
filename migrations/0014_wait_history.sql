-- Waits that learn from the event log (issue 14).
-- 1. The engine reads the recent `wait.finished` events of every build once at build start to
--    predict how long each wait will take: a partial index keeps that one query off the rest of
--    the log (provisioner output and all) and costs nothing on the appends of other event types.
CREATE INDEX events_wait_finished ON events (type) WHERE type = 'wait.finished';
-- The same for finished phases: `kiln show` sets each phase against its usual duration.
CREATE INDEX events_phase_succeeded ON events (type) WHERE type = 'phase.succeeded';

-- 2. Answers that rarely change (a zone's server catalogue, the image a marketplace label points
--    to), kept for a while so that a build does not ask for them every time. Never a secret.
CREATE TABLE api_cache (
  key        TEXT    PRIMARY KEY,     -- what was asked, e.g. "fr-par-1 products/servers"
  value      TEXT    NOT NULL CHECK (json_valid(value)),
  fetched_at INTEGER NOT NULL,        -- epoch ms
  expires_at INTEGER NOT NULL         -- epoch ms; past it the answer is asked again
);
