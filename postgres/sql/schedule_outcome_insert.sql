INSERT INTO schedule_outcomes (schedule, tick, decision, run_id, reason, decided_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (schedule, tick) DO NOTHING;
