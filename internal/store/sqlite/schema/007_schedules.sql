-- Schedules: the engine's encoding of each schedule's definition and state
-- (cursor, counters, buffered slot), and a version that each write moves
-- on. A slot's instance is inserted in the same transaction that moves the
-- schedule past it, from the version read, so that a slot starts once.
CREATE TABLE schedules (
	id      TEXT PRIMARY KEY,
	data    BLOB NOT NULL,
	version INTEGER NOT NULL
);
