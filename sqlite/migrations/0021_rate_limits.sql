-- Rate limits shared by every worker of the database: a definition and, for
-- the generic cell rate algorithm, the theoretical arrival time of requests
-- and of tokens, in Unix nanoseconds (a time in the past is a full budget).
-- An acquisition reads and moves them in one transaction.
CREATE TABLE rate_limits (
    key         TEXT PRIMARY KEY,
    requests    INTEGER NOT NULL CHECK (requests > 0),
    tokens      INTEGER NOT NULL CHECK (tokens >= 0),
    per_ns      INTEGER NOT NULL CHECK (per_ns > 0),
    request_tat INTEGER NOT NULL DEFAULT 0,
    token_tat   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- How long a step waited for rate-limit capacity before it ran, in its
-- attempt's record.
ALTER TABLE steps ADD COLUMN rate_limit_wait_ns INTEGER NOT NULL DEFAULT 0;
