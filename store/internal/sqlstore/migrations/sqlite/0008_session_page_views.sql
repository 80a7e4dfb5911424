-- A session's page views (every visit of it) and the URL of the last
-- one, its exit page; 0 and '' for the sessions written before this
-- version, which were not counted.

ALTER TABLE sessions ADD COLUMN page_views INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN exit_url TEXT NOT NULL DEFAULT '';
