-- What the attempts row knows of a task's attempts besides the current
-- one's number and due time: when the current one was marked started
-- (0: not started), and the attempts retried so far, as a JSON array
-- (replay.AttemptRecord; NULL: none). They end in the task's result event
-- (Event.StartedAt, Event.Retried) when the row goes.
ALTER TABLE attempts ADD COLUMN started_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN retried BLOB;
