-- Every migration version the database has applied, oldest first.
SELECT version FROM klaxon_migrations ORDER BY version;
