-- A workflow's input schema (JSON Schema, for processes without its code to
-- check enqueued inputs) and policies (JSON), both as its worker registered
-- them; NULL for workflows registered before, or by workers recording none.
ALTER TABLE workflows ADD COLUMN input_schema TEXT;
ALTER TABLE workflows ADD COLUMN policies TEXT;
