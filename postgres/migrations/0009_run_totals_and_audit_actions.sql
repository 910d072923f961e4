-- Totals /metrics exports as counters, by workflow, kept so that a scrape
-- does not sum every run and deleting old rows never lowers a counter.
--
-- run_totals_folded holds the sums of the ended runs whose totals stopped
-- changing ("folded" by the metrics collector, in bounded batches, off the
-- step path) and of the runs retention deleted before they were folded; the
-- totals are it plus the sums of the runs not folded, which the partial index
-- finds. A replay unfolds its run again, taking it out of the sums.
ALTER TABLE runs ADD COLUMN totals_folded boolean NOT NULL DEFAULT false;
CREATE INDEX runs_unfolded ON runs (workflow) WHERE NOT totals_folded;

CREATE TABLE run_totals_folded (
    workflow          text PRIMARY KEY,
    runs              bigint NOT NULL,
    attempts          bigint NOT NULL,
    retries           bigint NOT NULL,
    input_tokens      bigint NOT NULL,
    output_tokens     bigint NOT NULL,
    cached_tokens     bigint NOT NULL,
    cost_usd          double precision NOT NULL,
    model_calls       bigint NOT NULL,
    runs_unknown_cost bigint NOT NULL
);

-- Dead-letter entries deleted by retention or a purge, by workflow and class,
-- so that the entries ever created keep counting them.
CREATE TABLE dlq_counts_deleted (
    workflow text NOT NULL,
    class    text NOT NULL,
    entries  bigint NOT NULL,
    PRIMARY KEY (workflow, class)
);

-- The audit log records enqueues through the API and requests to admin
-- endpoints too. Its action column is checked for the shape of an action
-- (lower-case words around a dot), not against a list: klaxontype.AuditAction
-- is the list, checked before every write, so that adding an action needs no
-- migration.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action ~ '^[a-z_]+\.[a-z_]+$');
