-- Rate limits shared by every worker of the database: a definition and, for
-- the generic cell rate algorithm, the theoretical arrival time of requests
-- and of tokens, in Unix nanoseconds (a time in the past is a full budget).
-- An acquisition locks the row, reads and moves them in one transaction.
CREATE TABLE rate_limits (
    key         text PRIMARY KEY,
    requests    bigint NOT NULL CHECK (requests > 0),
    tokens      bigint NOT NULL CHECK (tokens >= 0),
    per_ns      bigint NOT NULL CHECK (per_ns > 0),
    request_tat bigint NOT NULL DEFAULT 0,
    token_tat   bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- How long a step waited for rate-limit capacity before it ran, in its
-- attempt's record.
ALTER TABLE steps ADD COLUMN rate_limit_wait_ns bigint NOT NULL DEFAULT 0;
