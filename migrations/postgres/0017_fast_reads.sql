-- Reading one build's log without scanning it: see ../0017_fast_reads.sql (the same indexes in SQLite).
CREATE INDEX events_by_type ON events (build_id, type, seq);
CREATE INDEX events_with_state ON events (build_id, seq) WHERE type <> 'provision.output';

-- `kiln ls` of a team's thousands of builds (PostgreSQL only; SQLite reads these fast enough):
-- 1. The image id, computed when the row is written instead of parsing every row's artifact JSON
--    at every listing. Not indexed, so appends still update the row in place (HOT).
ALTER TABLE builds ADD COLUMN image_id TEXT GENERATED ALWAYS AS (artifact->>'imageId') STORED;
-- 2. Listings sort by creation time in byte order: ISO 8601 text sorts as time does, as SQLite's
--    BINARY collation sorts it, and bytes compare several times faster than the database's
--    locale collation.
DROP INDEX builds_by_created;
CREATE INDEX builds_by_created ON builds (created_at COLLATE "C" DESC, pos DESC);
-- 3. A build found by a prefix of its id (`kiln show 3f2a`, `kiln resume 3f2a`): LIKE 'prefix%'
--    reads this index instead of every row (the primary key's collation cannot serve LIKE).
CREATE INDEX builds_by_id_prefix ON builds (id text_pattern_ops);
