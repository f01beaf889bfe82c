-- The billed compute of each instance's own activity attempts, as their
-- invokers reported it: the number of billed attempts, their billed
-- milliseconds, and billed milliseconds times memory MB (GB-seconds are
-- mb_ms / 1024 / 1000). Added to in the transaction that records each
-- attempt's outcome; kept across continue-as-new.
ALTER TABLE instances ADD COLUMN usage_invocations INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN usage_billed_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN usage_mb_ms INTEGER NOT NULL DEFAULT 0;
