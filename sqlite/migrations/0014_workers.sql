-- The workers registry: what each worker process said of itself when it
-- registered, and when it was last heard from. A record for people; the
-- engine's rules never read it. workflows is a JSON array of names.
CREATE TABLE workers (
    id            TEXT PRIMARY KEY,
    language      TEXT NOT NULL,
    sdk_version   TEXT NOT NULL,
    runtime       TEXT NOT NULL,
    workflows     TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX workers_last_seen_at ON workers (last_seen_at);
