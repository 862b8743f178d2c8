-- Whether every earlier read of the reader had been delivered when this one was (no rewind or
-- replay still catching up). A restarted console resumes its readers after the last such read,
-- so a live read that overtook an unfinished replay never hides the reads the replay owed.
ALTER TABLE raw_reads ADD COLUMN in_order INTEGER NOT NULL DEFAULT 1 CHECK (in_order IN (0, 1));
