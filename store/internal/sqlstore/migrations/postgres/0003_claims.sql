-- Identifiers a browser session said were its own (store.Claims): a claim
-- never merges persons, so claims are kept apart from the identity graph.
-- Times as in 0001.

CREATE TABLE claims (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    session_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    at         BIGINT NOT NULL, -- the earliest time the session made the claim
    PRIMARY KEY (kind, value, session_id)
);
CREATE INDEX claims_identifier ON claims (kind, value, at, session_id);
CREATE INDEX claims_visitor ON claims (visitor_id);
CREATE INDEX claims_session ON claims (session_id);
CREATE INDEX claims_at ON claims (at);
