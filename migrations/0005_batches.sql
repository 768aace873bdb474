-- Batches: many labels from one print.batch call (a spreadsheet's rows). Each row is an ordinary
-- job that carries its batch and its row number (1 = the first data row); jobs print in id order,
-- which is row order, since a batch's jobs are stored in one transaction.
-- depends: 0004_job_options

CREATE TABLE batches (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    printer_id       TEXT NOT NULL,
    template         TEXT NOT NULL,
    rows             INTEGER NOT NULL,
    copies           INTEGER NOT NULL DEFAULT 1,
    idempotency_key  TEXT UNIQUE,
    request_digest   TEXT,
    created_at       TEXT NOT NULL
);

ALTER TABLE jobs ADD COLUMN batch_id INTEGER REFERENCES batches(id) ON DELETE SET NULL;
ALTER TABLE jobs ADD COLUMN row INTEGER;
CREATE INDEX jobs_by_batch ON jobs (batch_id, row) WHERE batch_id IS NOT NULL;
