-- The console's durable record. Append-only by design: raw reads and corrections are never
-- updated or deleted; a passing's own columns are fixed once committed, except its sync state
-- (the outbox) and, while it is still pending, the values a correction sets in place.
-- Timestamps are UTC text `YYYY-MM-DDTHH:MM:SS.sssZ` so that they sort as text.

CREATE TABLE devices (
    deviceid      TEXT PRIMARY KEY,           -- RUFUS deviceid
    serial_number TEXT NOT NULL,
    model         TEXT NOT NULL,
    device_type   TEXT,
    alias         TEXT,
    firmware      TEXT,
    api_base_url  TEXT NOT NULL,
    bound_at      TEXT NOT NULL,
    unbound_at    TEXT                        -- set when unbound; the row stays for history
);

CREATE TABLE sessions (
    id               INTEGER PRIMARY KEY,
    deviceid         TEXT NOT NULL REFERENCES devices(deviceid),
    token_session    TEXT UNIQUE,             -- null until the cloud answered POST /sessions
    alias            TEXT,
    state            TEXT NOT NULL CHECK (state IN
                         ('opening', 'active', 'closing', 'closed', 'closed_remotely')),
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    next_num_passing INTEGER NOT NULL DEFAULT 1 CHECK (next_num_passing >= 1),
    note             TEXT                     -- why it is in its state (e.g. closed from elsewhere)
);
-- At most one open session per device: the cloud closes a device's other active session.
CREATE UNIQUE INDEX sessions_one_open_per_device ON sessions(deviceid)
    WHERE state IN ('opening', 'active', 'closing');

CREATE TABLE raw_reads (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER REFERENCES sessions(id),   -- null: no session was open (kept anyway)
    source          TEXT NOT NULL,            -- which reader/input produced it
    protocol        TEXT NOT NULL,
    chip            TEXT NOT NULL,
    bib             TEXT,
    antenna         INTEGER,
    rssi            INTEGER,
    reader_time     TEXT,                     -- the device's own clock, UTC, when it has one
    host_time       TEXT NOT NULL,            -- when the console received it, UTC
    clock_offset_ms INTEGER,                  -- reader clock minus host clock, measured at connect
    raw             BLOB NOT NULL,            -- the exact frame
    duplicate       INTEGER NOT NULL DEFAULT 0 CHECK (duplicate IN (0, 1))
);
CREATE INDEX raw_reads_session ON raw_reads(session_id, id);

CREATE TABLE passings (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions(id),
    num_passing   INTEGER NOT NULL CHECK (num_passing >= 1),
    bib           TEXT,                       -- null: a stamped time waiting for its bib
    chip          TEXT,
    timestamp     TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('reader', 'manual', 'import')),
    status        TEXT,                       -- sent to RUFUS as `status` (corrections: "correction of #N")
    raw_read_id   INTEGER REFERENCES raw_reads(id),
    corrects_id   INTEGER REFERENCES passings(id),   -- this passing carries a correction of another
    moved_from_id INTEGER REFERENCES passings(id),   -- re-homed from a session closed elsewhere
    sync_state    TEXT NOT NULL DEFAULT 'pending'
                      CHECK (sync_state IN ('pending', 'sent', 'parked', 'moved')),
    sync_error    TEXT,
    sync_attempts INTEGER NOT NULL DEFAULT 0,
    sent_at       TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (session_id, num_passing)
);
CREATE INDEX passings_outbox ON passings(session_id, num_passing) WHERE sync_state = 'pending';
CREATE INDEX passings_chip ON passings(session_id, chip);

CREATE TABLE corrections (
    id         INTEGER PRIMARY KEY,
    passing_id INTEGER NOT NULL REFERENCES passings(id),
    action     TEXT NOT NULL CHECK (action IN ('set_bib', 'set_time', 'void', 'restore', 'move')),
    old_value  TEXT,
    new_value  TEXT,
    operator   TEXT NOT NULL,
    station    TEXT,
    reason     TEXT,
    at         TEXT NOT NULL,
    carrier_id INTEGER REFERENCES passings(id)   -- the passing that carries it to the cloud, if sent
);
CREATE INDEX corrections_passing ON corrections(passing_id, id);

CREATE TABLE chip_map (
    chip        TEXT PRIMARY KEY,
    bib         TEXT NOT NULL,
    name        TEXT,
    imported_at TEXT NOT NULL
);

-- Bibs typed ahead of runners (manual entry mode 3): consumed in order by a stamp.
CREATE TABLE bib_queue (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    bib         TEXT NOT NULL,
    queued_at   TEXT NOT NULL,
    consumed_by INTEGER REFERENCES passings(id),
    dropped     INTEGER NOT NULL DEFAULT 0 CHECK (dropped IN (0, 1))
);

-- Manual actions in order, so that "undo the last action" knows what the last action was.
CREATE TABLE manual_actions (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    kind       TEXT NOT NULL,                 -- mark | stamp | assign | queue | stamp_queued
    passing_ids TEXT NOT NULL DEFAULT '',     -- comma-separated ids of the passings it made/changed
    queue_id   INTEGER REFERENCES bib_queue(id),
    at         TEXT NOT NULL,
    undone     INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1))
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
