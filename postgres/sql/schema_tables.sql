-- How many tables the schema holds, and whether one is Klaxon's migrations
-- table: a schema with tables but no Klaxon schema belongs to another program.
SELECT count(*) AS tables, count(*) FILTER (WHERE table_name = 'klaxon_migrations') AS klaxon_tables
FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE';
