ALTER TABLE printers DROP COLUMN added;
