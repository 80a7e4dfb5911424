-- calltrack store schema, PostgreSQL dialect.
-- Times are BIGINT microseconds since the Unix epoch, UTC; NULL means "not set".

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    visitor_id   TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT,
    active_at    BIGINT NOT NULL, -- last_seen_at, else started_at: what retention compares
    landing_url  TEXT NOT NULL,
    referrer     TEXT NOT NULL,
    source       TEXT NOT NULL,    -- classify.Source as JSON
    pool         TEXT NOT NULL,
    number       TEXT NOT NULL
);
CREATE INDEX sessions_visitor ON sessions (visitor_id, started_at, id);
CREATE INDEX sessions_active ON sessions (active_at);

-- One row per hold of a number by a session. The primary key index
-- serves "holds of a number around a time" as one index range.
CREATE TABLE holds (
    number     TEXT NOT NULL,
    held_from  BIGINT NOT NULL,
    session_id TEXT NOT NULL,
    held_until BIGINT,           -- NULL while the hold is open
    pool       TEXT NOT NULL,
    token      BIGINT NOT NULL,
    reused     BOOLEAN NOT NULL,
    PRIMARY KEY (number, held_from, session_id)
);
CREATE INDEX holds_open ON holds (number, held_from) WHERE held_until IS NULL;
CREATE INDEX holds_from ON holds (held_from);
CREATE INDEX holds_until ON holds (held_until) WHERE held_until IS NOT NULL;
CREATE INDEX holds_session ON holds (session_id);

-- The longest closed hold of each number: bounds how far back HoldersAt
-- looks, so its cost does not grow with a number's history.
CREATE TABLE hold_spans (
    number   TEXT PRIMARY KEY,
    max_span BIGINT NOT NULL
);

CREATE TABLE calls (
    provider       TEXT NOT NULL,
    call_id        TEXT NOT NULL,
    call_at        BIGINT NOT NULL, -- earliest store.CallTime of the call's events
    kind           BIGINT NOT NULL,
    from_number    TEXT NOT NULL,
    to_number      TEXT NOT NULL,
    direction      TEXT NOT NULL,
    status         TEXT NOT NULL,
    occurred_at    BIGINT,
    started_at     BIGINT,
    answered_at    BIGINT,
    ended_at       BIGINT,
    duration_ns    BIGINT NOT NULL,
    caller_name    TEXT NOT NULL,
    caller_city    TEXT NOT NULL,
    caller_region  TEXT NOT NULL,
    caller_country TEXT NOT NULL,
    forwarded_from TEXT NOT NULL,
    raw            BYTEA,
    PRIMARY KEY (provider, call_id)
);
CREATE INDEX calls_at ON calls (call_at);
CREATE INDEX calls_from ON calls (from_number);

CREATE TABLE attributions (
    provider    TEXT NOT NULL,
    call_id     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    visitor_id  TEXT NOT NULL,
    source      TEXT NOT NULL, -- JSON
    confidence  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    candidates  TEXT NOT NULL, -- JSON
    stitched_at BIGINT,
    PRIMARY KEY (provider, call_id)
);
CREATE INDEX attributions_session ON attributions (session_id);
CREATE INDEX attributions_visitor ON attributions (visitor_id);

CREATE TABLE persons (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- creation order: the older person survives a merge
    id         TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE identities (
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    person_id TEXT NOT NULL,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_person ON identities (person_id, kind, value);

CREATE TABLE touchpoints (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    at         BIGINT NOT NULL,
    visitor_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    source     TEXT NOT NULL, -- JSON
    attrs      TEXT NOT NULL  -- JSON
);
CREATE INDEX touchpoints_visitor ON touchpoints (visitor_id, at);
CREATE INDEX touchpoints_session ON touchpoints (session_id, at);
CREATE INDEX touchpoints_at ON touchpoints (at);

-- The transactions table.
CREATE TABLE conversions (
    id            TEXT PRIMARY KEY,
    type          TEXT NOT NULL,
    at            BIGINT NOT NULL,
    visitor_id    TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    value         BIGINT NOT NULL, -- minor units
    currency      TEXT NOT NULL,
    call_provider TEXT NOT NULL,
    call_id       TEXT NOT NULL
);
CREATE INDEX conversions_at ON conversions (at, id);
CREATE INDEX conversions_visitor ON conversions (visitor_id);
CREATE INDEX conversions_session ON conversions (session_id);
CREATE INDEX conversions_call ON conversions (call_provider, call_id);
