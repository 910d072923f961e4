SELECT pg_notify('klaxon_runs', $1);
