DROP INDEX IF EXISTS jobs_by_document;
ALTER TABLE jobs DROP COLUMN page;
ALTER TABLE jobs DROP COLUMN document_job_id;
ALTER TABLE jobs DROP COLUMN document_name;
ALTER TABLE jobs DROP COLUMN user_name;
ALTER TABLE jobs DROP COLUMN source;
