-- The transactional outbox: deliveries owed to export sinks, written in the
-- same transaction as the conversion they report. Times as in 0001.

CREATE TABLE outbox (
    id            TEXT PRIMARY KEY, -- the idempotency key receivers see
    sink          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    conversion_id TEXT NOT NULL,    -- '' when the message reports no conversion
    payload       BLOB,
    state         TEXT NOT NULL,    -- pending, delivered, dead
    attempts      INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,  -- due time; a claim moves it to the end of its lease
    claim         TEXT NOT NULL,    -- token of the last claim: only it may report a failure
    last_error    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    delivered_at  INTEGER
);
-- Claims read the due pending messages in due order.
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_conversion ON outbox (conversion_id);
CREATE INDEX outbox_state ON outbox (state, updated_at);
