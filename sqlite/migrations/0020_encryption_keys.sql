-- The encryption keys a database was written with: one row per key ID, with
-- a known text sealed under the key (check_value) so that a wrong key is
-- refused when a store opens, not at the first read, and a database written
-- with keys refuses to open without them. retired_at is set once a
-- rotation re-sealed every value under a newer key: the key may then leave
-- the ring.
CREATE TABLE encryption_keys (
    id          TEXT PRIMARY KEY,
    check_value BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;
