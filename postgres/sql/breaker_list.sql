SELECT * FROM breakers ORDER BY workflow;
