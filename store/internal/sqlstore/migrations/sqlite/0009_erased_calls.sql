-- Calls ErasePerson erased (store.Calls.RecordCall): a later event of one
-- is refused (store.ErrErased) instead of storing the call again. The id
-- is kept as its SHA-256 (store.ErasedCallDigest), so the table names no
-- call; DeleteBefore drops the rows erased before its cut-off.
-- Times as in 0001.

CREATE TABLE erased_calls (
    provider  TEXT NOT NULL,
    call_hash TEXT NOT NULL,
    erased_at INTEGER NOT NULL,
    PRIMARY KEY (provider, call_hash)
);
CREATE INDEX erased_calls_at ON erased_calls (erased_at);
