-- A digest of what print.submit was asked (template, fields as sent, copies, printer, hold), so that
-- an idempotency_key reused for a different request is refused instead of answered with the old job.
-- depends: 0001_initial

ALTER TABLE jobs ADD COLUMN request_digest TEXT;
