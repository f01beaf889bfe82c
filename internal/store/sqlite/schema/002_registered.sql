-- The orchestrator names the last worker registered, so that clients in
-- other processes can refuse a start of an unknown name.
CREATE TABLE registered (
    name TEXT PRIMARY KEY
) WITHOUT ROWID;
