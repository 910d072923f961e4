-- A run's terminal event (run.completed, run.dead) carries its completion
-- record as JSON: the step manifest, attempts per step, spend and duration.
-- NULL on every other event, and on terminal events written before.
ALTER TABLE events ADD COLUMN record TEXT;
