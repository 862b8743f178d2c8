// Generated from the Rust types by `cargo test -p timing-ipc` (UPDATE_BINDINGS=1).
// Do not edit by hand: change the Rust type and regenerate.

export type SessionId = number;

export type PassingId = number;

export type RawReadId = number;

export type DeviceId = string;

export type SessionState = "opening" | "active" | "closing" | "closed" | "closed_remotely";

export type PassingSource = "reader" | "manual" | "import";

export type SyncState = "pending" | "sent" | "parked" | "moved";

export type CorrectionKind = "set_bib" | "set_time" | "void" | "restore" | "move";

export type Device = { 
/**
 * RUFUS device id.
 */
deviceid: DeviceId, 
/**
 * Serial number the device was bound with.
 */
serial_number: string, 
/**
 * Model.
 */
model: string, 
/**
 * RUFUS device type.
 */
device_type: string | null, 
/**
 * A name people recognise.
 */
alias: string | null, 
/**
 * Firmware version.
 */
firmware: string | null, 
/**
 * The API base URL it was bound against.
 */
api_base_url: string, 
/**
 * When it was bound (UTC).
 */
bound_at: string, };

export type Session = { 
/**
 * Local id.
 */
id: SessionId, 
/**
 * The device it belongs to.
 */
deviceid: DeviceId, 
/**
 * The cloud's token, once the cloud created it.
 */
token_session: string | null, 
/**
 * A name people recognise.
 */
alias: string | null, 
/**
 * Its state.
 */
state: SessionState, 
/**
 * When it was opened (UTC).
 */
opened_at: string, 
/**
 * When it was closed (UTC).
 */
closed_at: string | null, 
/**
 * The `num_passing` the next passing will get.
 */
next_num_passing: number, 
/**
 * Why it is in its state, when that needs saying.
 */
note: string | null, };

export type Passing = { 
/**
 * Local id.
 */
id: PassingId, 
/**
 * Its session.
 */
session_id: SessionId, 
/**
 * Order number inside the session (1, 2, 3…), fixed at commit, identical on every retry.
 */
num_passing: number, 
/**
 * Bib (None: a stamped time waiting for its bib).
 */
bib: string | null, 
/**
 * Chip code.
 */
chip: string | null, 
/**
 * Time of the crossing, UTC.
 */
timestamp: string, 
/**
 * What produced it.
 */
source: PassingSource, 
/**
 * RUFUS `status` (corrections carry "correction of #N" / "void #N").
 */
status: string | null, 
/**
 * The raw read it came from.
 */
raw_read_id: RawReadId | null, 
/**
 * The passing this one carries a correction for.
 */
corrects_id: PassingId | null, 
/**
 * The passing this one was re-homed from.
 */
moved_from_id: PassingId | null, 
/**
 * Place in the outbox.
 */
sync_state: SyncState, 
/**
 * The cloud's last error for it.
 */
sync_error: string | null, 
/**
 * How many times a send was attempted.
 */
sync_attempts: number, 
/**
 * When the cloud acknowledged it.
 */
sent_at: string | null, 
/**
 * When it was committed locally.
 */
created_at: string, };

export type Correction = { 
/**
 * Local id.
 */
id: number, 
/**
 * The passing it corrects.
 */
passing_id: PassingId, 
/**
 * What it does.
 */
kind: CorrectionKind, 
/**
 * Value before.
 */
old_value: string | null, 
/**
 * Value after.
 */
new_value: string | null, 
/**
 * Who made it.
 */
operator: string, 
/**
 * Which station.
 */
station: string | null, 
/**
 * Why.
 */
reason: string | null, 
/**
 * When (UTC).
 */
at: string, 
/**
 * The passing that carries it to the cloud (for a passing already sent).
 */
carrier_id: PassingId | null, };

export type FeedEntry = { 
/**
 * Local id of the original passing.
 */
id: PassingId, 
/**
 * Its session.
 */
session_id: SessionId, 
/**
 * Its `num_passing`.
 */
num_passing: number, 
/**
 * Effective bib.
 */
bib: string | null, 
/**
 * Chip code.
 */
chip: string | null, 
/**
 * Participant name from the chip map, if known.
 */
name: string | null, 
/**
 * The participant's category (`F40`), if the list gives one.
 */
category: string | null, 
/**
 * The participant's wave, if the runner is in the list (`""`: the list has no waves).
 */
wave: string | null, 
/**
 * Milliseconds since the runner's wave start (or the race's only start), once it started.
 */
race_time_ms: number | null, 
/**
 * Effective time.
 */
timestamp: string, 
/**
 * What produced it.
 */
source: PassingSource, 
/**
 * Voided by a correction.
 */
void: boolean, 
/**
 * Changed by at least one correction.
 */
corrected: boolean, 
/**
 * A chip read whose chip is not in the participant list (when one is loaded).
 */
unknown_chip: boolean, 
/**
 * Sync state of the original record.
 */
sync_state: SyncState, 
/**
 * Cloud error, when parked.
 */
sync_error: string | null, };

export type SyncStatus = { 
/**
 * Passings waiting to be sent (all sessions).
 */
pending: number, 
/**
 * Passings the cloud holds.
 */
sent: number, 
/**
 * Passings the cloud rejected, kept with its message.
 */
parked: number, 
/**
 * Passings per second sent over the last ten seconds.
 */
rate: number, 
/**
 * When the cloud last accepted something.
 */
last_success: string | null, 
/**
 * The last failure, in words.
 */
last_error: string | null, 
/**
 * Its code (`timeout`, `rate_limited`, `unauthorized`, …).
 */
last_error_code: string | null, 
/**
 * Set when syncing stopped until a person acts (wrong key, missing permission).
 */
stopped: string | null, 
/**
 * Sessions the cloud closed from elsewhere while passings were pending.
 */
closed_remotely: Array<SessionId>, 
/**
 * No API key is set: nothing is syncing.
 */
offline: boolean, };

export type OutboxCounts = { 
/**
 * Waiting to be sent.
 */
pending: number, 
/**
 * Held by the cloud.
 */
sent: number, 
/**
 * Rejected by the cloud, kept with its message.
 */
parked: number, 
/**
 * Stamped times waiting for a bib (not sent until they have one).
 */
held: number, };

export type Warning = { "kind": "unknown_bib", 
/**
 * The bib.
 */
bib: string, } | { "kind": "repeated_bib", 
/**
 * The bib.
 */
bib: string, 
/**
 * Its earlier passing.
 */
earlier_num: number, };

export type Entry = { 
/**
 * Passings committed or changed.
 */
passings: Array<Passing>, 
/**
 * Warnings to show.
 */
warnings: Array<Warning>, 
/**
 * Bibs waiting in the typed-ahead queue after the action.
 */
queued: Array<string>, };

export type Corrected = { 
/**
 * The audit record.
 */
correction: Correction, 
/**
 * The passing that carries the correction to the cloud, when the original may already
 * be there.
 */
carrier: Passing | null, };

export type ImportReport = { 
/**
 * Rows accepted.
 */
accepted: number, 
/**
 * Rows refused: (line number, reason).
 */
rejected: Array<[number, string]>, };

export type IpcError = { 
/**
 * One of [`CoreError::codes`](timing_core::CoreError::codes) or [`AppCode`]: e.g.
 * `no_open_session`, `unauthorized`, `invalid`, `confirmation_required`, `busy`.
 */
code: ErrorCode, 
/**
 * What happened, in words a timer understands.
 */
message: string, };

export type Settings = { 
/**
 * RUFUS API base URL (production or the local simulator).
 */
api_url: string, 
/**
 * De-duplication window per chip, seconds.
 */
dedup_window_s: number, 
/**
 * This console's station name (recorded with corrections).
 */
station: string, 
/**
 * Who is at the keyboard.
 */
operator: string, 
/**
 * Show times in UTC or in the computer's local zone (stored times are always UTC).
 */
time_display: TimeDisplay, 
/**
 * Colour theme.
 */
theme: Theme, 
/**
 * UI scale, 0.75–2.0.
 */
scale: number, 
/**
 * Tones for passings, unknown or repeated bibs, a reader going quiet or lost, and sync
 * failing (generated in the web view).
 */
sound: SoundSettings, };

export type TimeDisplay = "utc" | "local";

export type Theme = "day" | "night";

export type SoundSettings = { 
/**
 * No sound at all.
 */
muted: boolean, 
/**
 * Volume, 0–1.
 */
volume: number, };

export type KeyStorage = { "kind": "none" } | { "kind": "keychain" } | { "kind": "file", 
/**
 * Why the keychain was not used.
 */
reason: string, };

export type ReaderView = { 
/**
 * Its name (unique on this console).
 */
name: string, 
/**
 * Its spec, e.g. `serial:/dev/ttyUSB0?protocol=ipico` or `sim:runners=500,rate=5`.
 */
spec: string, 
/**
 * Protocol name.
 */
protocol: string, 
/**
 * `connecting`, `connected`, `reading`, `quiet`, `lost`, `stopped`.
 */
state: string, 
/**
 * The last error, when lost.
 */
last_error: string | null, 
/**
 * Reads the reader may hold that the console cannot fetch, and what to do about them.
 */
warning: string | null, 
/**
 * Reads per second, recent.
 */
reads_per_sec: number, 
/**
 * Reads per second over the last minute, one value per 5 s (for the sparkline).
 */
rate_history: Array<number>, 
/**
 * Reads in total.
 */
reads: number, 
/**
 * Frames rejected (bad checksum, garbage…).
 */
rejected: number, 
/**
 * The last read: chip and when (UTC).
 */
last_read: LastRead | null, 
/**
 * Reader clock minus host clock, milliseconds, when the reader has a clock.
 */
clock_offset_ms: number | null, 
/**
 * The zone the reader's clock is read in: `Europe/Madrid`, `+02:00`, `UTC`; `UTC (reader
 * sends UTC)` for a reader that sends UTC; null for sources without a clock.
 */
clock_zone: string | null, 
/**
 * Whether the zone can be chosen (the reader sends local time): `reader_set_zone`.
 */
zone_settable: boolean, 
/**
 * The reader clock disagrees with this computer's by more than 2 s, in words: "Reader clock
 * is 1 h 0 min 2 s ahead of this computer".
 */
clock_hint: string | null, 
/**
 * The zone that would make the clocks agree (offered as "Use zone +02:00").
 */
proposed_zone: string | null, 
/**
 * Milliseconds added to each read's passing time (`reader_adjust`), 0 for none.
 */
adjust_ms: number, 
/**
 * The reader's settings as it read them back, beside what its spec asked for (LLRP:
 * `connected antennas`, `antenna 1 power`, `antenna 1 sensitivity`, … in the units of the
 * spec's options); empty for readers that read nothing back.
 */
settings: Array<ReaderSettingView>, };

export type ReaderSettingView = { 
/**
 * `antenna 1 power`, `connected antennas`.
 */
name: string, 
/**
 * What the spec asked; null: nothing (the reader's own setting stands).
 */
asked: string | null, 
/**
 * What the reader reports it applied; null: it reported nothing.
 */
applied: string | null, 
/**
 * Something was asked and the reader did not apply exactly that (it is also in `warning`).
 */
differs: boolean, };

export type LastRead = { 
/**
 * Chip.
 */
chip: string, 
/**
 * When (UTC).
 */
at: string, };

export type ZoneList = { 
/**
 * This computer's zone (what a reader without `zone=` is read in).
 */
computer: string, 
/**
 * IANA zone names, sorted.
 */
zones: Array<string>, };

export type FrameView = { 
/**
 * When it arrived (UTC).
 */
at: string, 
/**
 * The bytes, hex.
 */
hex: string, 
/**
 * What it decoded to, or why it was rejected.
 */
summary: string, };

export type PortView = { 
/**
 * `/dev/ttyUSB0`, `COM3`.
 */
path: string, 
/**
 * "CP2102 USB to UART Bridge Controller on /dev/ttyUSB0".
 */
description: string, };

export type ProtocolView = { 
/**
 * `protocol=` in a reader spec: `ipico`, `ultra`, …
 */
name: string, 
/**
 * What a timer calls the hardware.
 */
label: string, 
/**
 * `serial` / `tcp`, the usual one first.
 */
transports: Array<string>, 
/**
 * The baud rate a serial spec without `baud=` gets.
 */
baud: number, 
/**
 * The TCP port a network spec without a port gets, if the protocol has one.
 */
tcp_port: number | null, 
/**
 * Whether the device carries its own time (otherwise the computer's receive time counts).
 */
carries_time: boolean, 
/**
 * Whether that time is the reader's local wall-clock time, read in its zone (else UTC).
 */
local_time: boolean, 
/**
 * Spec options only this protocol takes (`power`, `keepalive`, …).
 */
options: Array<ProtocolOptionView>, };

export type ProtocolOptionView = { 
/**
 * The option's name in the spec.
 */
name: string, 
/**
 * What it sets and its default.
 */
help: string, };

export type CloudDevice = { 
/**
 * RUFUS device id.
 */
deviceid: string, 
/**
 * Serial number.
 */
serial_number: string | null, 
/**
 * Model.
 */
model: string | null, 
/**
 * Alias.
 */
alias: string | null, 
/**
 * Sessions in the cloud.
 */
sessions: number | null, 
/**
 * Passings in the cloud.
 */
passings: number | null, 
/**
 * Whether this console has it bound.
 */
bound_here: boolean, };

export type CloudSession = { 
/**
 * Token.
 */
token_session: string, 
/**
 * Alias.
 */
alias: string | null, 
/**
 * Whether it accepts passings.
 */
active: boolean, 
/**
 * Passings in the cloud.
 */
passings: number | null, 
/**
 * Created (UTC text as the cloud gave it).
 */
creation_date: string | null, };

export type SessionDetails = { 
/**
 * The session.
 */
session: Session, 
/**
 * Its outbox counters.
 */
outbox: OutboxCounts, };

export type ReconcileReport = { 
/**
 * The session.
 */
session_id: number, 
/**
 * Passings recorded locally (moved ones excluded).
 */
local: number, 
/**
 * Passings the cloud holds.
 */
cloud: number, 
/**
 * Local passings marked sent that the cloud does not hold.
 */
missing_in_cloud: Array<number>, 
/**
 * Passings still pending locally.
 */
pending: Array<number>, 
/**
 * Numbers the cloud holds that this console never recorded.
 */
unknown_in_cloud: Array<number>, };

export type AppState = { 
/**
 * The device this console records for.
 */
device: Device | null, 
/**
 * Its open session.
 */
session: Session | null, 
/**
 * Sync status.
 */
sync: SyncStatus, 
/**
 * Readers.
 */
readers: Array<ReaderView>, 
/**
 * Settings.
 */
settings: Settings, 
/**
 * Where the API key lives.
 */
key: KeyStorage, 
/**
 * Bibs waiting in the typed-ahead queue.
 */
queued: Array<string>, 
/**
 * Whether a participant list is loaded.
 */
participants_loaded: boolean, 
/**
 * Capture's commit state (the red banner).
 */
capture: CaptureStatus, 
/**
 * Stored settings that could not be used at start (the defaults were taken instead).
 */
warnings: Array<string>, 
/**
 * App version.
 */
version: string, };

export type FeedBatch = { 
/**
 * New or changed entries, with corrections applied.
 */
entries: Array<FeedEntry>, 
/**
 * Raw reads stored since the last batch.
 */
raw_reads: number, 
/**
 * Of those, duplicates.
 */
duplicates: number, 
/**
 * A start was made or moved, or the feed fell behind: race times shown may be stale, so
 * the screen reads the feed and the race again.
 */
reread: boolean, };

export type ClockStatus = { 
/**
 * Host UTC time.
 */
host_utc: string, 
/**
 * The last OS clock jump seen, milliseconds (wall minus monotonic), if any.
 */
last_jump_ms: number | null, };

export type CaptureStatus = { 
/**
 * Why the last commit failed; null while commits succeed.
 */
last_error: string | null, 
/**
 * Reads waiting to be committed.
 */
queued: number, };

export type PressedAt = number | string;

export type ManualResult = { 
/**
 * Set when the stamp took the host's time instead of the key press time.
 */
time_warning: string | null, 
/**
 * Passings committed or changed.
 */
passings: Array<Passing>, 
/**
 * Warnings to show.
 */
warnings: Array<Warning>, 
/**
 * Bibs waiting in the typed-ahead queue after the action.
 */
queued: Array<string>, };

export type BindInput = { 
/**
 * Serial number.
 */
serial_number: string, 
/**
 * Model.
 */
model: string, 
/**
 * RUFUS device type.
 */
device_type: string, 
/**
 * Alias.
 */
alias: string | null, 
/**
 * Firmware.
 */
firmware: string | null, 
/**
 * Continue the device's session that another console has open in RUFUS (asked after a
 * `confirmation_required` answer).
 */
take_over: boolean, };

export type ChangeInput = { "kind": "set_bib", 
/**
 * New bib; null clears it.
 */
bib: string | null, } | { "kind": "set_time", 
/**
 * UTC, RFC 3339.
 */
time: string, } | { "kind": "void" } | { "kind": "restore" };

export type UpdateStatus = { 
/**
 * Whether this build checks for updates at all; when false nothing else is set and the UI
 * shows nothing about updates.
 */
enabled: boolean, 
/**
 * The running version.
 */
current: string, 
/**
 * The version an update check found, newer than `current` (not yet installed).
 */
available: string | null, 
/**
 * Its release notes, as published.
 */
notes: string | null, 
/**
 * Whether "Install update" may be clicked now: an update is available, the console is idle
 * and no install is running.
 */
can_install: boolean, 
/**
 * Why it cannot be installed now (e.g. "a session is open"), while an update is available.
 */
blocked_reason: string | null, 
/**
 * When the last check ended (UTC), successful or not.
 */
checked_at: string | null, 
/**
 * Why the last check failed (no internet at the venue is normal); null after a success.
 */
last_error: string | null, 
/**
 * An install is downloading or running.
 */
installing: boolean, 
/**
 * The version installed by this run: restart the console to use it.
 */
installed: string | null, };

export type ExportWhat = "passings" | "raw";

export type RunnerStatus = "known" | "unknown" | "finished" | "not_started" | "no_list";

export type RunnerPreview = { 
/**
 * The bib typed.
 */
bib: string, 
/**
 * Name, when the list has the bib.
 */
name: string | null, 
/**
 * Category.
 */
category: string | null, 
/**
 * Wave (`""`: the list has no waves).
 */
wave: string | null, 
/**
 * What the bib stands for now.
 */
status: RunnerStatus, };

export type RaceCounts = { 
/**
 * Runners in the list.
 */
listed: number, 
/**
 * Listed runners with a passing.
 */
finished: number, 
/**
 * Listed runners not seen yet.
 */
on_course: number, 
/**
 * Bibs with a passing that the list does not have (0 without a list).
 */
unknown: number, };

export type StartInput = { "kind": "now", 
/**
 * When the Start key or button was pressed.
 */
pressed_at: PressedAt | null, } | { "kind": "exact", 
/**
 * The start time.
 */
at: string, } | { "kind": "nudge", 
/**
 * Seconds.
 */
seconds: number, } | { "kind": "restart", 
/**
 * When the key was pressed.
 */
pressed_at: PressedAt | null, };

export type WaveView = { 
/**
 * The wave's name (`""`: a race without waves).
 */
wave: string, 
/**
 * How a person calls it: "10K", or "Race" for the one start.
 */
label: string, 
/**
 * Runners of the participant list in it.
 */
runners: number, 
/**
 * Its start (UTC), once started.
 */
start_at: string | null, 
/**
 * How that start was made: `stamp`, `exact`, `nudge`, `restart`, `gun`.
 */
start_kind: string | null, };

export type StartView = { 
/**
 * The wave.
 */
wave: string, 
/**
 * The start instant (UTC).
 */
at: string, 
/**
 * `stamp`, `exact`, `nudge`, `restart`, `gun`.
 */
kind: string, 
/**
 * The reader whose impulse it was.
 */
source: string | null, 
/**
 * Who made it.
 */
operator: string, 
/**
 * When it was recorded (UTC).
 */
recorded_at: string, };

export type RaceView = { 
/**
 * The session (null: none is open, nothing can start).
 */
session_id: number | null, 
/**
 * Every wave, with its start.
 */
waves: Array<WaveView>, 
/**
 * The start log, oldest first.
 */
log: Array<StartView>, 
/**
 * Finished, on course, unknown (null without an open session).
 */
counts: RaceCounts | null, };

export type RunnerView = { 
/**
 * Bib.
 */
bib: string, 
/**
 * Name.
 */
name: string | null, 
/**
 * Category.
 */
category: string | null, 
/**
 * Wave.
 */
wave: string, };

/** Every reader protocol (the registry's list, as `reader_protocols` answers). */
export const READER_PROTOCOLS: ProtocolView[] = [
  {"baud":9600,"carries_time":true,"label":"IPICO Lite/Elite","local_time":true,"name":"ipico","options":[],"tcp_port":10000,"transports":["serial","tcp"]},
  {"baud":9600,"carries_time":true,"label":"RFID Timing Systems Ultra/Joey","local_time":true,"name":"ultra","options":[],"tcp_port":23,"transports":["tcp","serial"]},
  {"baud":115200,"carries_time":false,"label":"Impinj R2000 module (0xA0 CMD)","local_time":false,"name":"r2000","options":[],"tcp_port":null,"transports":["serial","tcp"]},
  {"baud":57600,"carries_time":false,"label":"Chafon / UHFReader18","local_time":false,"name":"chafon","options":[],"tcp_port":null,"transports":["serial","tcp"]},
  {"baud":9600,"carries_time":true,"label":"ALGE Timy (RS-232)","local_time":true,"name":"timy","options":[{"help":"what the impulse's number is: `impulse` (default: an impulse counter, the read is a time waiting for a bib) or `bib` (the start number: the read carries it as its bib)","name":"number"}],"tcp_port":null,"transports":["serial","tcp"]},
  {"baud":9600,"carries_time":true,"label":"RACE RESULT decoder","local_time":true,"name":"raceresult","options":[],"tcp_port":3601,"transports":["tcp","serial"]},
  {"baud":9600,"carries_time":true,"label":"RUFUS CloudBox","local_time":false,"name":"cloudbox","options":[],"tcp_port":8080,"transports":["tcp","serial"]},
  {"baud":9600,"carries_time":false,"label":"Text lines (keyboard-wedge style)","local_time":false,"name":"lines","options":[],"tcp_port":null,"transports":["serial","tcp"]},
  {"baud":9600,"carries_time":true,"label":"LLRP reader (Impinj Speedway/R700, Zebra FX)","local_time":false,"name":"llrp","options":[{"help":"transmit power index, for all antennas (`power=60`) or per antenna (`power=1:60,2:55`); default: the reader's setting","name":"power"},{"help":"receive sensitivity index, as power; default: the reader's setting","name":"sensitivity"},{"help":"keepalive interval (default 5s; 0s = none); no traffic for twice that drops the link","name":"keepalive"},{"help":"send a report every N tags (default 1: every read)","name":"report_every"},{"help":"ask the reader to hold reports while the link is down (default 1)","name":"hold"},{"help":"reset the reader to factory settings before configuring (default 0)","name":"reset"}],"tcp_port":5084,"transports":["tcp"]},
];

/** Every code an IPC error can carry. */
export type ErrorCode =
  | "already_bound"
  | "ambiguous"
  | "busy"
  | "config"
  | "confirmation_required"
  | "conflict"
  | "connection"
  | "internal"
  | "invalid"
  | "invalid_response"
  | "io"
  | "no_api_key"
  | "no_device"
  | "no_open_session"
  | "no_update"
  | "not_found"
  | "rate_limited"
  | "rejected"
  | "server"
  | "session_closed"
  | "starting"
  | "store"
  | "timeout"
  | "too_large"
  | "transient"
  | "unauthorized"
  | "update_failed"
  | "updates_disabled"
;

/** Every command: its arguments (as Tauri takes them) and its result. */
export interface Commands {
  app_state: { args: Record<string, never>; result: AppState };
  settings_set: { args: { settings: Settings }; result: Settings };
  api_key_set: { args: { key: string }; result: KeyStorage };
  api_key_clear: { args: Record<string, never>; result: KeyStorage };
  participants_import: { args: Uint8Array; result: ImportReport };
  export_csv: { args: { what: ExportWhat }; result: string };
  device_bind: { args: { input: BindInput }; result: Device };
  device_list: { args: Record<string, never>; result: Array<Device> };
  device_cloud_list: { args: Record<string, never>; result: Array<CloudDevice> };
  device_select: { args: { deviceid: string }; result: Device };
  device_unbind: { args: { deviceid: string; confirmed: boolean }; result: void };
  session_open: { args: { alias: string | null }; result: Session };
  session_close: { args: Record<string, never>; result: Session };
  session_list: { args: Record<string, never>; result: Array<Session> };
  session_cloud_list: { args: Record<string, never>; result: Array<CloudSession> };
  session_details: { args: { sessionId: number }; result: SessionDetails };
  session_reconcile: { args: { sessionId: number }; result: ReconcileReport };
  session_resend_missing: { args: { sessionId: number }; result: number };
  session_rehome: { args: { fromSessionId: number }; result: number };
  sync_retry: { args: Record<string, never>; result: void };
  sync_retry_parked: { args: { sessionId: number | null }; result: number };
  feed_page: { args: { before: number | null; limit: number }; result: Array<FeedEntry> };
  manual_mark: { args: { bibs: string; pressedAt: PressedAt | null; confirmed: boolean | null }; result: ManualResult };
  manual_stamp: { args: { pressedAt: PressedAt | null }; result: ManualResult };
  manual_assign: { args: { bibs: string; confirmed: boolean | null }; result: Entry };
  manual_queue: { args: { bibs: string; confirmed: boolean | null }; result: Entry };
  manual_stamp_queued: { args: { pressedAt: PressedAt | null }; result: ManualResult };
  manual_undo: { args: Record<string, never>; result: Entry };
  passing_correct: { args: { num: number; change: ChangeInput; reason: string | null }; result: Corrected };
  passing_audit: { args: { passingId: number }; result: Array<Correction> };
  race_state: { args: Record<string, never>; result: RaceView };
  race_start: { args: { wave: string; how: StartInput }; result: RaceView };
  runner_preview: { args: { bib: string }; result: RunnerPreview };
  runners_not_seen: { args: { search: string; limit: number }; result: Array<RunnerView> };
  reader_protocols: { args: Record<string, never>; result: Array<ProtocolView> };
  reader_ports: { args: Record<string, never>; result: Array<PortView> };
  reader_add: { args: { name: string; spec: string }; result: ReaderView };
  reader_remove: { args: { name: string }; result: void };
  reader_start: { args: { name: string }; result: ReaderView };
  reader_stop: { args: { name: string }; result: ReaderView };
  reader_set_clock: { args: { name: string }; result: ReaderView };
  reader_frames: { args: { name: string }; result: Array<FrameView> };
  reader_zones: { args: Record<string, never>; result: ZoneList };
  reader_set_zone: { args: { name: string; zone: string }; result: ReaderView };
  reader_adjust: { args: { name: string; ms: number }; result: ReaderView };
  update_status: { args: Record<string, never>; result: UpdateStatus };
  update_install: { args: Record<string, never>; result: UpdateStatus };
}

export type CommandName = keyof Commands;

/** Every command's name, in list order. */
export const COMMAND_NAMES: CommandName[] = [
  "app_state",
  "settings_set",
  "api_key_set",
  "api_key_clear",
  "participants_import",
  "export_csv",
  "device_bind",
  "device_list",
  "device_cloud_list",
  "device_select",
  "device_unbind",
  "session_open",
  "session_close",
  "session_list",
  "session_cloud_list",
  "session_details",
  "session_reconcile",
  "session_resend_missing",
  "session_rehome",
  "sync_retry",
  "sync_retry_parked",
  "feed_page",
  "manual_mark",
  "manual_stamp",
  "manual_assign",
  "manual_queue",
  "manual_stamp_queued",
  "manual_undo",
  "passing_correct",
  "passing_audit",
  "race_state",
  "race_start",
  "runner_preview",
  "runners_not_seen",
  "reader_protocols",
  "reader_ports",
  "reader_add",
  "reader_remove",
  "reader_start",
  "reader_stop",
  "reader_set_clock",
  "reader_frames",
  "reader_zones",
  "reader_set_zone",
  "reader_adjust",
  "update_status",
  "update_install",
];

/** Commands that stream: what each pushes. */
export interface Streams {
  feed_subscribe: FeedBatch;
}

/** The one way a command travels: the Tauri host invokes it, the mock host runs its handler. */
export type Invoke = <K extends CommandName>(cmd: K, args: Commands[K]["args"]) => Promise<Commands[K]["result"]>;

/** The handlers of AppCommands (the mock host implements them). */
export interface AppCommands {
  app_state(args: Commands["app_state"]["args"]): Promise<Commands["app_state"]["result"]>;
  settings_set(args: Commands["settings_set"]["args"]): Promise<Commands["settings_set"]["result"]>;
  api_key_set(args: Commands["api_key_set"]["args"]): Promise<Commands["api_key_set"]["result"]>;
  api_key_clear(args: Commands["api_key_clear"]["args"]): Promise<Commands["api_key_clear"]["result"]>;
  participants_import(args: Commands["participants_import"]["args"]): Promise<Commands["participants_import"]["result"]>;
  export_csv(args: Commands["export_csv"]["args"]): Promise<Commands["export_csv"]["result"]>;
}

/** The handlers of DeviceCommands (the mock host implements them). */
export interface DeviceCommands {
  device_bind(args: Commands["device_bind"]["args"]): Promise<Commands["device_bind"]["result"]>;
  device_list(args: Commands["device_list"]["args"]): Promise<Commands["device_list"]["result"]>;
  device_cloud_list(args: Commands["device_cloud_list"]["args"]): Promise<Commands["device_cloud_list"]["result"]>;
  device_select(args: Commands["device_select"]["args"]): Promise<Commands["device_select"]["result"]>;
  device_unbind(args: Commands["device_unbind"]["args"]): Promise<Commands["device_unbind"]["result"]>;
}

/** The handlers of SessionCommands (the mock host implements them). */
export interface SessionCommands {
  session_open(args: Commands["session_open"]["args"]): Promise<Commands["session_open"]["result"]>;
  session_close(args: Commands["session_close"]["args"]): Promise<Commands["session_close"]["result"]>;
  session_list(args: Commands["session_list"]["args"]): Promise<Commands["session_list"]["result"]>;
  session_cloud_list(args: Commands["session_cloud_list"]["args"]): Promise<Commands["session_cloud_list"]["result"]>;
  session_details(args: Commands["session_details"]["args"]): Promise<Commands["session_details"]["result"]>;
  session_reconcile(args: Commands["session_reconcile"]["args"]): Promise<Commands["session_reconcile"]["result"]>;
  session_resend_missing(args: Commands["session_resend_missing"]["args"]): Promise<Commands["session_resend_missing"]["result"]>;
  session_rehome(args: Commands["session_rehome"]["args"]): Promise<Commands["session_rehome"]["result"]>;
}

/** The handlers of SyncCommands (the mock host implements them). */
export interface SyncCommands {
  sync_retry(args: Commands["sync_retry"]["args"]): Promise<Commands["sync_retry"]["result"]>;
  sync_retry_parked(args: Commands["sync_retry_parked"]["args"]): Promise<Commands["sync_retry_parked"]["result"]>;
}

/** The handlers of FeedCommands (the mock host implements them). */
export interface FeedCommands {
  feed_page(args: Commands["feed_page"]["args"]): Promise<Commands["feed_page"]["result"]>;
  manual_mark(args: Commands["manual_mark"]["args"]): Promise<Commands["manual_mark"]["result"]>;
  manual_stamp(args: Commands["manual_stamp"]["args"]): Promise<Commands["manual_stamp"]["result"]>;
  manual_assign(args: Commands["manual_assign"]["args"]): Promise<Commands["manual_assign"]["result"]>;
  manual_queue(args: Commands["manual_queue"]["args"]): Promise<Commands["manual_queue"]["result"]>;
  manual_stamp_queued(args: Commands["manual_stamp_queued"]["args"]): Promise<Commands["manual_stamp_queued"]["result"]>;
  manual_undo(args: Commands["manual_undo"]["args"]): Promise<Commands["manual_undo"]["result"]>;
  passing_correct(args: Commands["passing_correct"]["args"]): Promise<Commands["passing_correct"]["result"]>;
  passing_audit(args: Commands["passing_audit"]["args"]): Promise<Commands["passing_audit"]["result"]>;
}

/** The handlers of RaceCommands (the mock host implements them). */
export interface RaceCommands {
  race_state(args: Commands["race_state"]["args"]): Promise<Commands["race_state"]["result"]>;
  race_start(args: Commands["race_start"]["args"]): Promise<Commands["race_start"]["result"]>;
  runner_preview(args: Commands["runner_preview"]["args"]): Promise<Commands["runner_preview"]["result"]>;
  runners_not_seen(args: Commands["runners_not_seen"]["args"]): Promise<Commands["runners_not_seen"]["result"]>;
}

/** The handlers of ReaderCommands (the mock host implements them). */
export interface ReaderCommands {
  reader_protocols(args: Commands["reader_protocols"]["args"]): Promise<Commands["reader_protocols"]["result"]>;
  reader_ports(args: Commands["reader_ports"]["args"]): Promise<Commands["reader_ports"]["result"]>;
  reader_add(args: Commands["reader_add"]["args"]): Promise<Commands["reader_add"]["result"]>;
  reader_remove(args: Commands["reader_remove"]["args"]): Promise<Commands["reader_remove"]["result"]>;
  reader_start(args: Commands["reader_start"]["args"]): Promise<Commands["reader_start"]["result"]>;
  reader_stop(args: Commands["reader_stop"]["args"]): Promise<Commands["reader_stop"]["result"]>;
  reader_set_clock(args: Commands["reader_set_clock"]["args"]): Promise<Commands["reader_set_clock"]["result"]>;
  reader_frames(args: Commands["reader_frames"]["args"]): Promise<Commands["reader_frames"]["result"]>;
  reader_zones(args: Commands["reader_zones"]["args"]): Promise<Commands["reader_zones"]["result"]>;
  reader_set_zone(args: Commands["reader_set_zone"]["args"]): Promise<Commands["reader_set_zone"]["result"]>;
  reader_adjust(args: Commands["reader_adjust"]["args"]): Promise<Commands["reader_adjust"]["result"]>;
}

/** The handlers of UpdateCommands (the mock host implements them). */
export interface UpdateCommands {
  update_status(args: Commands["update_status"]["args"]): Promise<Commands["update_status"]["result"]>;
  update_install(args: Commands["update_install"]["args"]): Promise<Commands["update_install"]["result"]>;
}

/** One handler per command. */
export type CommandHandlers = AppCommands & DeviceCommands & SessionCommands & SyncCommands & FeedCommands & RaceCommands & ReaderCommands & UpdateCommands;

/** The typed client: one method per command, camelCase, positional arguments. */
export interface CommandClient {
  /** Everything the console screen needs at start and after a reload. */
  appState(): Promise<AppState>;
  /** Validates, applies in place and saves the settings. */
  settingsSet(settings: Settings): Promise<Settings>;
  /** Stores a new API key (keychain, or a private file) and syncs with it. */
  apiKeySet(key: string): Promise<KeyStorage>;
  /** Forgets the API key: capture goes on, nothing syncs. */
  apiKeyClear(): Promise<KeyStorage>;
  /** Imports a participants file: the body is the file's bytes, in any encoding. */
  participantsImport(body: Uint8Array): Promise<ImportReport>;
  /** Writes the current session's passings or raw reads as CSV; returns the path. */
  exportCsv(what: ExportWhat): Promise<string>;
  /** Binds a device to the RUFUS account (asks first to take over an open session). */
  deviceBind(input: BindInput): Promise<Device>;
  /** The devices bound here. */
  deviceList(): Promise<Array<Device>>;
  /** The account's devices in RUFUS. */
  deviceCloudList(): Promise<Array<CloudDevice>>;
  /** Records for this device from now on. */
  deviceSelect(deviceid: string): Promise<Device>;
  /** Unbinds a device (`confirmed` after the console asked). */
  deviceUnbind(deviceid: string, confirmed: boolean): Promise<void>;
  /** Opens a session (offline too: it is created in RUFUS when the network is back). */
  sessionOpen(alias?: string | null): Promise<Session>;
  /** Closes the open session once everything in it is sent. */
  sessionClose(): Promise<Session>;
  /** The sessions recorded here. */
  sessionList(): Promise<Array<Session>>;
  /** The device's sessions in RUFUS. */
  sessionCloudList(): Promise<Array<CloudSession>>;
  /** A session with its outbox. */
  sessionDetails(sessionId: number): Promise<SessionDetails>;
  /** Local passings compared with the cloud's. */
  sessionReconcile(sessionId: number): Promise<ReconcileReport>;
  /** Sends again what the cloud is missing; returns how many. */
  sessionResendMissing(sessionId: number): Promise<number>;
  /** Moves the pending passings of a session closed elsewhere into the open one. */
  sessionRehome(fromSessionId: number): Promise<number>;
  /** Ends a backoff, a Retry-After wait or a pause now. */
  syncRetry(): Promise<void>;
  /** Puts parked passings (of one session, or all) back into the outbox. */
  syncRetryParked(sessionId?: number | null): Promise<number>;
  /** The current session's feed, newest first, `num_passing < before`. */
  feedPage(before: number | null, limit: number): Promise<Array<FeedEntry>>;
  /** Stamps now and gives the bibs that time (`confirmation_required` above 50). */
  manualMark(bibs: string, pressedAt?: PressedAt | null, confirmed?: boolean | null): Promise<ManualResult>;
  /** A time waiting for its bib. */
  manualStamp(pressedAt?: PressedAt | null): Promise<ManualResult>;
  /** Gives bibs to the oldest waiting times. */
  manualAssign(bibs: string, confirmed?: boolean | null): Promise<Entry>;
  /** Queues bibs for the next stamps. */
  manualQueue(bibs: string, confirmed?: boolean | null): Promise<Entry>;
  /** Stamps the next queued bib. */
  manualStampQueued(pressedAt?: PressedAt | null): Promise<ManualResult>;
  /** Undoes the last manual action. */
  manualUndo(): Promise<Entry>;
  /** Corrects a passing (append-only; carried to the cloud as a new passing). */
  passingCorrect(num: number, change: ChangeInput, reason?: string | null): Promise<Corrected>;
  /** A passing's corrections, oldest first. */
  passingAudit(passingId: number): Promise<Array<Correction>>;
  /** The open session's waves, start log and counts. */
  raceState(): Promise<RaceView>;
  /** Starts, restarts, nudges or sets a wave's start (`""`: the one start). */
  raceStart(wave: string, how: StartInput): Promise<RaceView>;
  /** Who a typed bib is, and whether they finished, before Enter. */
  runnerPreview(bib: string): Promise<RunnerPreview>;
  /** Listed runners not seen yet, matching `search` (bib, name or category). */
  runnersNotSeen(search: string, limit: number): Promise<Array<RunnerView>>;
  /** Every protocol the console speaks (the registry). */
  readerProtocols(): Promise<Array<ProtocolView>>;
  /** The serial ports the OS offers. */
  readerPorts(): Promise<Array<PortView>>;
  /** Adds and starts a reader by spec. */
  readerAdd(name: string, spec: string): Promise<ReaderView>;
  /** Stops and removes a reader. */
  readerRemove(name: string): Promise<void>;
  /** Starts a stopped reader. */
  readerStart(name: string): Promise<ReaderView>;
  /** Stops a reader (its reads so far are kept). */
  readerStop(name: string): Promise<ReaderView>;
  /** Sets the reader's clock to this computer's. */
  readerSetClock(name: string): Promise<ReaderView>;
  /** The reader's last frames in and out. */
  readerFrames(name: string): Promise<Array<FrameView>>;
  /** This computer's zone and the IANA names. */
  readerZones(): Promise<ZoneList>;
  /** The zone the reader's clock is read in ('' = this computer's). */
  readerSetZone(name: string, zone: string): Promise<ReaderView>;
  /** Milliseconds added to the reader's passing times from now on (audited). */
  readerAdjust(name: string, ms: number): Promise<ReaderView>;
  /** What the updater knows (`enabled: false` without an update endpoint). */
  updateStatus(): Promise<UpdateStatus>;
  /** Installs the available update; `busy` unless the console is idle. */
  updateInstall(): Promise<UpdateStatus>;
}

/** The client over an `invoke`. */
export function commandClient(invoke: Invoke): CommandClient {
  return {
    appState: () => invoke("app_state", {}),
    settingsSet: (settings) => invoke("settings_set", { settings }),
    apiKeySet: (key) => invoke("api_key_set", { key }),
    apiKeyClear: () => invoke("api_key_clear", {}),
    participantsImport: (body) => invoke("participants_import", body),
    exportCsv: (what) => invoke("export_csv", { what }),
    deviceBind: (input) => invoke("device_bind", { input }),
    deviceList: () => invoke("device_list", {}),
    deviceCloudList: () => invoke("device_cloud_list", {}),
    deviceSelect: (deviceid) => invoke("device_select", { deviceid }),
    deviceUnbind: (deviceid, confirmed) => invoke("device_unbind", { deviceid, confirmed }),
    sessionOpen: (alias) => invoke("session_open", { alias: alias ?? null }),
    sessionClose: () => invoke("session_close", {}),
    sessionList: () => invoke("session_list", {}),
    sessionCloudList: () => invoke("session_cloud_list", {}),
    sessionDetails: (sessionId) => invoke("session_details", { sessionId }),
    sessionReconcile: (sessionId) => invoke("session_reconcile", { sessionId }),
    sessionResendMissing: (sessionId) => invoke("session_resend_missing", { sessionId }),
    sessionRehome: (fromSessionId) => invoke("session_rehome", { fromSessionId }),
    syncRetry: () => invoke("sync_retry", {}),
    syncRetryParked: (sessionId) => invoke("sync_retry_parked", { sessionId: sessionId ?? null }),
    feedPage: (before, limit) => invoke("feed_page", { before: before ?? null, limit }),
    manualMark: (bibs, pressedAt, confirmed) => invoke("manual_mark", { bibs, pressedAt: pressedAt ?? null, confirmed: confirmed ?? null }),
    manualStamp: (pressedAt) => invoke("manual_stamp", { pressedAt: pressedAt ?? null }),
    manualAssign: (bibs, confirmed) => invoke("manual_assign", { bibs, confirmed: confirmed ?? null }),
    manualQueue: (bibs, confirmed) => invoke("manual_queue", { bibs, confirmed: confirmed ?? null }),
    manualStampQueued: (pressedAt) => invoke("manual_stamp_queued", { pressedAt: pressedAt ?? null }),
    manualUndo: () => invoke("manual_undo", {}),
    passingCorrect: (num, change, reason) => invoke("passing_correct", { num, change, reason: reason ?? null }),
    passingAudit: (passingId) => invoke("passing_audit", { passingId }),
    raceState: () => invoke("race_state", {}),
    raceStart: (wave, how) => invoke("race_start", { wave, how }),
    runnerPreview: (bib) => invoke("runner_preview", { bib }),
    runnersNotSeen: (search, limit) => invoke("runners_not_seen", { search, limit }),
    readerProtocols: () => invoke("reader_protocols", {}),
    readerPorts: () => invoke("reader_ports", {}),
    readerAdd: (name, spec) => invoke("reader_add", { name, spec }),
    readerRemove: (name) => invoke("reader_remove", { name }),
    readerStart: (name) => invoke("reader_start", { name }),
    readerStop: (name) => invoke("reader_stop", { name }),
    readerSetClock: (name) => invoke("reader_set_clock", { name }),
    readerFrames: (name) => invoke("reader_frames", { name }),
    readerZones: () => invoke("reader_zones", {}),
    readerSetZone: (name, zone) => invoke("reader_set_zone", { name, zone }),
    readerAdjust: (name, ms) => invoke("reader_adjust", { name, ms }),
    updateStatus: () => invoke("update_status", {}),
    updateInstall: () => invoke("update_install", {}),
  };
}

/** The least time between two live feed batches (ms): one display frame. */
export const FEED_GAP_MS = 16;

export const EVENTS = {
  sync: "status://sync",
  readers: "status://readers",
  session: "status://session",
  clock: "status://clock",
  capture: "status://capture",
  update: "status://update",
} as const;

/** The payload of each event. */
export type EventPayloads = {
  "status://sync": SyncStatus;
  "status://readers": ReaderView[];
  "status://session": Session | null;
  "status://clock": ClockStatus;
  "status://capture": CaptureStatus;
  "status://update": UpdateStatus;
};
