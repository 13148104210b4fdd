-- Who holds a lease, so that no container can take it for its own (issue 25): a random token per
-- process (the only test of "mine"), and where its pid can be checked (`<boot id>/<pid namespace
-- inode>`): a dead-pid takeover only from the same pid space, anywhere else only after expiry.
-- A lease an older kiln took has neither and is freed only by expiry.
ALTER TABLE builds ADD COLUMN lease_token TEXT;
ALTER TABLE builds ADD COLUMN lease_pid_space TEXT;
