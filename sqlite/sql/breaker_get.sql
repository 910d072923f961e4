SELECT * FROM breakers WHERE workflow = ?1;
