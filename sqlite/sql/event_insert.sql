INSERT INTO events (run_id, type, actor, at, step, step_seq, message, record)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);
