-- Changes to a reader's settings that move the times it gives (its clock zone, a time
-- adjustment), made while the console runs: who, when, the value before and after. Append-only,
-- like corrections; a NULL zone is "the computer's zone".
CREATE TABLE reader_changes (
    id        INTEGER PRIMARY KEY,
    reader    TEXT NOT NULL,
    setting   TEXT NOT NULL CHECK (setting IN ('zone', 'adjust_ms')),
    old_value TEXT,
    new_value TEXT,
    operator  TEXT NOT NULL,
    station   TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX reader_changes_reader ON reader_changes(reader, id);
