-- Reads fetched again after a reconnect (rewind) or a restart carry the reader's own replay key
-- (Ultra log id, RACE RESULT passing number, CloudBox passingNumber…): the engine flags a read
-- whose (source, replay_key) it already holds as a duplicate, so rewound reads are never doubled.
ALTER TABLE raw_reads ADD COLUMN replay_key TEXT;
CREATE INDEX raw_reads_replay ON raw_reads(source, replay_key) WHERE replay_key IS NOT NULL;
