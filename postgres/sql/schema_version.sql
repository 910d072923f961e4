SELECT coalesce(max(version), 0) FROM klaxon_migrations;
