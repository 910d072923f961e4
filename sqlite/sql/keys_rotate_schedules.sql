SELECT name, input FROM schedules WHERE substr(input, 1, ?2) <> ?1;
