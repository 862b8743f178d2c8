-- When the console first sent `POST /sessions` for a session. After a lost answer, the device's
-- active session is adopted as ours only if the cloud created it after this instant (and it
-- carries our alias); anything older belongs to another console.
ALTER TABLE sessions ADD COLUMN create_attempted_at TEXT;
