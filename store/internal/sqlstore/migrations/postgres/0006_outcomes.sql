-- Outcomes of touchpoints set by hand (store.Outcomes): one row per
-- touchpoint, its latest outcome; version counts the changes, from 1.
-- No foreign key to touchpoints: an outcome may be set before its
-- touchpoint is written, and retention deletes the two together.
-- Times as in 0001; value in minor units.

CREATE TABLE outcomes (
    touchpoint_id TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    value         BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    note          TEXT NOT NULL,
    set_at        BIGINT NOT NULL,
    version       BIGINT NOT NULL
);
CREATE INDEX outcomes_set_at ON outcomes (set_at);
