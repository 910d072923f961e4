DELETE FROM schedule_outcomes WHERE schedule = ?1;
