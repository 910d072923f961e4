-- Alerts: one row per firing episode of an alert rule for a workflow (and
-- failure class), from the evaluation that found its condition holding to the
-- one that found it cleared. At most one episode of a rule and key fires at a
-- time, so of two servers evaluating at once one fires.
CREATE TABLE alerts (
    id               text PRIMARY KEY,
    rule             text NOT NULL,
    kind             text NOT NULL,
    workflow         text NOT NULL,
    class            text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('warning', 'critical')),
    state            text NOT NULL CHECK (state IN ('firing', 'resolved')),
    summary          text NOT NULL,
    value            double precision NOT NULL,
    threshold        double precision NOT NULL,
    run_ids          jsonb NOT NULL DEFAULT '[]',
    started_at       timestamptz NOT NULL,
    resolved_at      timestamptz,
    last_notified_at timestamptz,
    notifications    integer NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL
);

CREATE UNIQUE INDEX alerts_firing ON alerts (rule, workflow, class) WHERE state = 'firing';
CREATE INDEX alerts_started ON alerts (started_at, id);
CREATE INDEX alerts_resolved ON alerts (resolved_at) WHERE state = 'resolved';

-- Alert rules count dead-letter entries by when they were created, with the
-- index the stats series adds in the next migration (dlq_entries_created).

-- Alert notifications share the outbox with dead-letter and breaker
-- notifications.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('dead_letter', 'breaker', 'alert'));
