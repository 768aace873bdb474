-- Printers added at run time (printer.add) live in the database beside the configured ones: `added`
-- holds what printer.add was given (JSON: uri, model, media, snmp) while the printer is in use. NULL for a
-- printer from the configuration file, and for one removed (its row and history stay, under a freed name).
-- depends: 0004_job_options

ALTER TABLE printers ADD COLUMN added TEXT;
