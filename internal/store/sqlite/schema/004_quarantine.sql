-- Why an instance is quarantined: a row of it (history, inbox) does not
-- decode. Its messages are not read; the other instances keep running.
-- Empty otherwise. Each worker start clears it and tries again.
ALTER TABLE instances ADD COLUMN quarantined TEXT NOT NULL DEFAULT '';

-- The suspended instances, by last change: the worker looks for the ones
-- suspended by another process at each poll.
CREATE INDEX instances_suspended ON instances (updated_at) WHERE status = 'Suspended';
