-- How many tables the database holds, and whether one is Klaxon's migrations
-- table: a database with tables but no Klaxon schema belongs to another program.
SELECT count(*) AS tables, count(*) FILTER (WHERE name = 'klaxon_migrations') AS klaxon_tables
FROM sqlite_schema WHERE type = 'table';
