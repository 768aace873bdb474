-- Initial schema: printers and their last status, jobs with artifacts and timeline, API tokens.
-- Times are RFC 3339 UTC text with a Z; JSON columns hold JSON text.

CREATE TABLE printers (
    id          TEXT PRIMARY KEY,              -- UUIDv5 of (model, uri)
    name        TEXT NOT NULL UNIQUE,
    model       TEXT NOT NULL,
    uri         TEXT NOT NULL,
    media       TEXT,                          -- configured media id, used when status cannot tell
    paused      INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE printer_status (
    printer_id  TEXT PRIMARY KEY REFERENCES printers(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    reasons     TEXT NOT NULL DEFAULT '[]',
    media       TEXT,
    detail      TEXT NOT NULL DEFAULT '{}',
    changed_at  TEXT NOT NULL
);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    printer_id        TEXT NOT NULL REFERENCES printers(id),
    state             TEXT NOT NULL CHECK (state IN
                        ('pending', 'held', 'processing', 'stopped', 'canceled', 'aborted', 'completed')),
    reasons           TEXT NOT NULL DEFAULT '[]',
    template          TEXT NOT NULL,
    template_version  INTEGER NOT NULL,
    fields            TEXT NOT NULL DEFAULT '{}',
    copies            INTEGER NOT NULL DEFAULT 1 CHECK (copies >= 1),
    media             TEXT NOT NULL,
    length_mm         REAL NOT NULL DEFAULT 0,
    origin_job_id     INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    idempotency_key   TEXT UNIQUE,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    started_at        TEXT,
    completed_at      TEXT
);
CREATE INDEX jobs_by_state ON jobs (state, printer_id, id);
CREATE INDEX jobs_by_printer ON jobs (printer_id, id);
CREATE INDEX jobs_by_created ON jobs (created_at);

CREATE TABLE job_artifacts (
    job_id   INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    raster   BLOB NOT NULL,
    preview  BLOB NOT NULL,
    sha256   TEXT NOT NULL
);

CREATE TABLE job_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    event   TEXT NOT NULL,
    state   TEXT,
    detail  TEXT
);
CREATE INDEX job_events_by_job ON job_events (job_id, id);

CREATE TABLE api_tokens (
    name          TEXT PRIMARY KEY,
    scope         TEXT NOT NULL CHECK (scope IN ('read', 'admin')),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
