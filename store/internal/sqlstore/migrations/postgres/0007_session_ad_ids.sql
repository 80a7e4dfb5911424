-- The ad platforms' browser ids and consent signals of a session
-- (journey.AdIDs as JSON), read by the tracker with the visitor's ads
-- consent; '' when none were captured, as for every session written
-- before this version.

ALTER TABLE sessions ADD COLUMN ad_ids TEXT NOT NULL DEFAULT '';
