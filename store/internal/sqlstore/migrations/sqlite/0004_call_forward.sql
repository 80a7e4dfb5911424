-- What became of a call's forward to the business line, its recording and
-- what the host's analyzer made of it (provider.CallEvent's Outcome,
-- TalkTime, Recording, Attestation, Labels, Transcript). The defaults are
-- the empty values, so calls recorded before read as "not reported".
-- Durations are INTEGER nanoseconds, as duration_ns.

ALTER TABLE calls ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN talk_time_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN recording_id TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN recording_url TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN recording_duration_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN attestation TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN labels TEXT NOT NULL DEFAULT '[]'; -- JSON array, sorted, no duplicates
ALTER TABLE calls ADD COLUMN transcript TEXT NOT NULL DEFAULT '';
