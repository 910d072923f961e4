-- Values sealed under a key other than the newest: ?1 is the newest key's
-- envelope header, ?2 its length. Every envelope begins with the zero byte the
-- header begins with; plaintext JSON never does.
SELECT
    (SELECT count(*) FROM runs WHERE substr(input, 1, 1) = substr(?1, 1, 1) AND substr(input, 1, ?2) <> ?1) +
    (SELECT count(*) FROM runs WHERE substr(output, 1, 1) = substr(?1, 1, 1) AND substr(output, 1, ?2) <> ?1) +
    (SELECT count(*) FROM steps WHERE substr(output, 1, 1) = substr(?1, 1, 1) AND substr(output, 1, ?2) <> ?1) +
    (SELECT count(*) FROM steps_archive WHERE substr(output, 1, 1) = substr(?1, 1, 1) AND substr(output, 1, ?2) <> ?1) +
    (SELECT count(*) FROM dlq_entries WHERE substr(input, 1, 1) = substr(?1, 1, 1) AND substr(input, 1, ?2) <> ?1) +
    (SELECT count(*) FROM signals WHERE substr(payload, 1, 1) = substr(?1, 1, 1) AND substr(payload, 1, ?2) <> ?1) +
    (SELECT count(*) FROM schedules WHERE substr(input, 1, 1) = substr(?1, 1, 1) AND substr(input, 1, ?2) <> ?1) AS older;
