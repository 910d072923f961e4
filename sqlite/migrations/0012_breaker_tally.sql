-- A workflow's breaker reads, about once a second from every worker, the
-- attempts that failed and the spend recorded in a recent window. Failed
-- attempts are found by when they ended (the attempt history is written only
-- on failures, so this index costs nothing on the hot path); steps only when
-- they spent something: the partial index holds no row for a step without
-- spend, so that checkpoints of steps that call no model pay nothing for it.
CREATE INDEX attempts_at ON attempts (at);
CREATE INDEX steps_paid ON steps (finished_at) WHERE cost_usd > 0 OR cost_unknown = 1;
