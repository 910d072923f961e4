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
