-- How a job is printed beyond its label: cut (full, half, chain, none), cut_every, high_res.
-- JSON of the options that differ from the defaults; NULL means all defaults (full cut, every
-- label, standard resolution). A reprint that renders again uses them too.
-- depends: 0003_printer_replaced_by

ALTER TABLE jobs ADD COLUMN options TEXT;
