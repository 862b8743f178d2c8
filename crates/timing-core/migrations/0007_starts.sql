-- Who starts when. The participant list says each runner's wave (and category); `starts` is the
-- race clock: per session and wave, every start the crew made, append-only like corrections —
-- the newest row of a (session, wave) is its start, the older ones are the audit trail of a
-- false start, a nudge or a start set to an exact time. Kept locally and exported: RUFUS has no
-- endpoint for starts.
ALTER TABLE chip_map ADD COLUMN category TEXT;
ALTER TABLE chip_map ADD COLUMN wave TEXT NOT NULL DEFAULT '';

CREATE TABLE starts (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    wave        TEXT NOT NULL,            -- '' = the one start of a race without waves
    at          TEXT NOT NULL,            -- the start instant, UTC
    kind        TEXT NOT NULL CHECK (kind IN ('stamp', 'exact', 'nudge', 'restart', 'gun')),
    source      TEXT,                     -- the reader whose start impulse it was
    operator    TEXT NOT NULL,
    station     TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX starts_session ON starts(session_id, wave, id);
