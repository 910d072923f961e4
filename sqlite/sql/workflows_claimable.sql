-- Of the workflows ?1 (a JSON array), those whose breaker is not open at ?2:
-- the ones a claim walks.
SELECT w.value FROM json_each(?1) w
WHERE NOT EXISTS (SELECT 1 FROM breakers b WHERE b.workflow = w.value AND b.state = 'open' AND b.until > ?2);
