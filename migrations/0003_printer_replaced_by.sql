-- A printer whose name the configuration now gives to another printer (a new address, another model)
-- keeps its row and history under a retired name, and says which printer took its place: its
-- waiting jobs move there when the model is the same, and its jobs can be reprinted there.
-- depends: 0002_request_digest

ALTER TABLE printers ADD COLUMN replaced_by TEXT;
