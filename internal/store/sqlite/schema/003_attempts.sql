-- Attempts: the durable retry state of activities with a retry policy
-- (and of any activity re-run after a crash). A row says which attempt of
-- a task is current, when it may start, and whether it started; no row
-- means attempt 1, not started. Rows go with the task's result, the run's
-- end or continue-as-new, and a purge.
CREATE TABLE attempts (
    instance_id TEXT NOT NULL,
    task_id     INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    started     INTEGER NOT NULL,
    PRIMARY KEY (instance_id, task_id)
) WITHOUT ROWID;

-- Why a live instance makes no progress on the current worker (its
-- orchestrator is not registered there); empty otherwise.
ALTER TABLE instances ADD COLUMN blocked TEXT NOT NULL DEFAULT '';
