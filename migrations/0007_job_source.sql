-- Where a job came from and what it printed: source ('rpc' for print.submit and job.reprint, 'ipp' for
-- a job an IPP client sent, 'cli' for `appliance print`), the user name the client gave
-- (job-originating-user-name) and the document's name. An IPP document of several pages is one job per
-- page (one page, one label: each confirmed by the page counter on its own); document_job_id is the
-- id of the document's first page (its IPP job-id) and page its page number, both NULL for others.
-- depends: 0004_job_options

ALTER TABLE jobs ADD COLUMN source TEXT NOT NULL DEFAULT 'rpc';
ALTER TABLE jobs ADD COLUMN user_name TEXT;
ALTER TABLE jobs ADD COLUMN document_name TEXT;
ALTER TABLE jobs ADD COLUMN document_job_id INTEGER;
ALTER TABLE jobs ADD COLUMN page INTEGER;
CREATE INDEX jobs_by_document ON jobs (document_job_id) WHERE document_job_id IS NOT NULL;
