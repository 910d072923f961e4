UPDATE schedules SET input = ?2 WHERE name = ?1 AND input = ?3;
