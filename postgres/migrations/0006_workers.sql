-- The workers registry: what each worker process said of itself when it
-- registered, and when it was last heard from. A record for people; the
-- engine's rules never read it.
CREATE TABLE workers (
    id            text PRIMARY KEY,
    language      text NOT NULL,
    sdk_version   text NOT NULL,
    runtime       text NOT NULL,
    workflows     text[] NOT NULL,
    registered_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);
CREATE INDEX workers_last_seen_at ON workers (last_seen_at);
