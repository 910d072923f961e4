SELECT count(*) FROM outbox WHERE state = 'pending';
