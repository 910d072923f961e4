INSERT INTO attempts (run_id, attempt, at, worker, step, step_seq, class, message,
                      classified_by, duration_us, stack)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11);
