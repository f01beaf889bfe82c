-- The keys of deduplicated and debounced starts (client.WithDedup,
-- client.WithDebounce): which instance holds a key, until when (Unix
-- nanoseconds). An expired row, or one whose instance is gone, is free:
-- the next start with its key replaces it.
CREATE TABLE start_keys (
    key         TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
