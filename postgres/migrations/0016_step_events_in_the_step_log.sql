-- A checkpointed step's step.completed event is kept in its step-log row
-- instead of a row of its own in events: its ID, drawn from the events'
-- identity sequence so that the event log orders it among the other events
-- exactly as before, its actor and its time. The event list reads both
-- (event_list.sql). A step discarded by a from-step replay keeps its event in
-- steps_archive. Steps checkpointed before this migration keep their event
-- rows, and have NULL here.
ALTER TABLE steps ADD COLUMN event_id bigint;
ALTER TABLE steps ADD COLUMN event_actor text;
ALTER TABLE steps ADD COLUMN event_at timestamptz;
ALTER TABLE steps_archive ADD COLUMN event_id bigint;
ALTER TABLE steps_archive ADD COLUMN event_actor text;
ALTER TABLE steps_archive ADD COLUMN event_at timestamptz;
