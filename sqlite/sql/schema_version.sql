SELECT coalesce(max(version), 0) AS version FROM klaxon_migrations;
