-- What the decoder knew beyond chip, antenna, dBm and time, kept with the read: its markers
-- (`gun`, `from_memory`, `first_seen`, `last_seen`, comma-separated; null when none) and a
-- signal strength in the vendor's own scale (Chafon RSSI byte, RACE RESULT MaxRSSI), which has
-- no dBm value for the `rssi` column.
ALTER TABLE raw_reads ADD COLUMN flags TEXT;
ALTER TABLE raw_reads ADD COLUMN rssi_raw INTEGER;
