-- Values sealed under a key other than the newest: $1 is the newest key's
-- envelope header, $2 its length. Every envelope begins with the zero byte the
-- header begins with; plaintext JSON never does.
SELECT
    (SELECT count(*) FROM runs WHERE substring(input from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(input from 1 for $2) <> $1) +
    (SELECT count(*) FROM runs WHERE substring(output from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(output from 1 for $2) <> $1) +
    (SELECT count(*) FROM steps WHERE substring(output from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(output from 1 for $2) <> $1) +
    (SELECT count(*) FROM steps_archive WHERE substring(output from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(output from 1 for $2) <> $1) +
    (SELECT count(*) FROM dlq_entries WHERE substring(input from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(input from 1 for $2) <> $1) +
    (SELECT count(*) FROM signals WHERE substring(payload from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(payload from 1 for $2) <> $1) +
    (SELECT count(*) FROM schedules WHERE substring(input from 1 for 1) = substring($1::bytea from 1 for 1) AND substring(input from 1 for $2) <> $1) AS older;
