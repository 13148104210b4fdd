-- Reading one build's log without scanning it (issue 16: a 10k-event build resumed from a shared
-- store). The same in PostgreSQL: ./postgres/0017_fast_reads.sql.
-- 1. `lastEvent` (a phase's latest intent): the newest event of one type of one build, found in
--    the index even when the build has no such event, instead of walking its log backwards.
CREATE INDEX events_by_type ON events (build_id, type, seq);
-- 2. `events(…, { withoutOutput: true })` (resume folds the log): the events that carry state,
--    without reading the provisioner output lines that make up most of a long log.
CREATE INDEX events_with_state ON events (build_id, seq) WHERE type <> 'provision.output';
