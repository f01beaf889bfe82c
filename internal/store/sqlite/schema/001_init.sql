-- Instances: one row per orchestration instance (its current run).
CREATE TABLE instances (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL,
    input            BLOB,
    output           BLOB,
    custom_status    BLOB,
    failure          TEXT,
    parent_id        TEXT NOT NULL DEFAULT '',
    parent_task_id   INTEGER NOT NULL DEFAULT 0,
    generation       INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    completed_at     INTEGER NOT NULL DEFAULT 0,
    activities_done  INTEGER NOT NULL DEFAULT 0,
    activities_total INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instances_created ON instances (created_at);
CREATE INDEX instances_parent ON instances (parent_id);

-- History: the event log of each instance's current run.
CREATE TABLE history (
    instance_id TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    event       BLOB NOT NULL,
    PRIMARY KEY (instance_id, idx)
) WITHOUT ROWID;

-- Inbox: incoming events not yet applied; timers are messages whose
-- visible_at is in the future.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    event       BLOB NOT NULL,
    visible_at  INTEGER NOT NULL
);
CREATE INDEX inbox_visible ON inbox (visible_at);
CREATE INDEX inbox_instance ON inbox (instance_id);
