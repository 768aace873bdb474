DROP INDEX jobs_by_batch;
ALTER TABLE jobs DROP COLUMN row;
ALTER TABLE jobs DROP COLUMN batch_id;
DROP TABLE batches;
