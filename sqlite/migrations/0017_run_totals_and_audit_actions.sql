-- Totals /metrics exports as counters, by workflow, kept so that a scrape
-- does not sum every run and deleting old rows never lowers a counter.
--
-- run_totals_folded holds the sums of the ended runs whose totals stopped
-- changing ("folded" by the metrics collector, in bounded batches, off the
-- step path) and of the runs retention deleted before they were folded; the
-- totals are it plus the sums of the runs not folded, which the partial index
-- finds. A replay unfolds its run again, taking it out of the sums.
ALTER TABLE runs ADD COLUMN totals_folded INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_unfolded ON runs (workflow) WHERE totals_folded = 0;

CREATE TABLE run_totals_folded (
    workflow          TEXT PRIMARY KEY,
    runs              INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    retries           INTEGER NOT NULL,
    input_tokens      INTEGER NOT NULL,
    output_tokens     INTEGER NOT NULL,
    cached_tokens     INTEGER NOT NULL,
    cost_usd          REAL NOT NULL,
    model_calls       INTEGER NOT NULL,
    runs_unknown_cost INTEGER NOT NULL
) STRICT;

-- Dead-letter entries deleted by retention or a purge, by workflow and class,
-- so that the entries ever created keep counting them.
CREATE TABLE dlq_counts_deleted (
    workflow TEXT NOT NULL,
    class    TEXT NOT NULL,
    entries  INTEGER NOT NULL,
    PRIMARY KEY (workflow, class)
) STRICT, WITHOUT ROWID;

-- The audit log records enqueues through the API and requests to admin
-- endpoints too. Its action column is checked for the shape of an action
-- (lower-case words around a dot), not against a list: klaxontype.AuditAction
-- is the list, checked before every write, so that adding an action needs no
-- rebuild of a table that only grows.
CREATE TABLE audit_log_next (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action GLOB '[a-z]*.[a-z]*' AND action NOT GLOB '*[^a-z_.]*'),
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL
) STRICT;
INSERT INTO audit_log_next (id, at, actor, action, target, params, result)
    SELECT id, at, actor, action, target, params, result FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_next RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log (at);
