ALTER TABLE printers DROP COLUMN replaced_by;
