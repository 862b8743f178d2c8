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
 * e.g. `no_open_session`, `unauthorized`, `invalid`, `confirmation_required`, `busy` (an
 * update while the console is not idle).
 */
code: string, 
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
scale: number, };

export type TimeDisplay = "utc" | "local";

export type Theme = "day" | "night";

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
duplicates: number, };

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

export const COMMANDS = [
  "app_state() -> AppState",
  "settings_set(settings: Settings) -> Settings",
  "api_key_set(key: string) -> KeyStorage",
  "api_key_clear() -> KeyStorage",
  "device_bind(input: BindInput) -> Device",
  "device_list() -> Device[]",
  "device_cloud_list() -> CloudDevice[]",
  "device_select(deviceid: string) -> Device",
  "device_unbind(deviceid: string, confirmed: boolean) -> void",
  "session_open(alias: string | null) -> Session",
  "session_close() -> Session",
  "session_list() -> Session[]",
  "session_cloud_list() -> CloudSession[]",
  "session_details(sessionId: number) -> SessionDetails",
  "session_reconcile(sessionId: number) -> ReconcileReport",
  "session_resend_missing(sessionId: number) -> number",
  "session_rehome(fromSessionId: number) -> number",
  "feed_page(before: number | null, limit: number) -> FeedEntry[] /* current session, newest first, num_passing < before */",
  "feed_subscribe(onBatch: Channel<FeedBatch>) -> void",
  "manual_mark(bibs: string, pressedAt: PressedAt | null, confirmed: boolean | null) -> ManualResult /* confirmation_required above 50 bibs unless confirmed */",
  "manual_stamp(pressedAt: PressedAt | null) -> ManualResult",
  "manual_assign(bibs: string, confirmed: boolean | null) -> Entry",
  "manual_queue(bibs: string, confirmed: boolean | null) -> Entry",
  "manual_stamp_queued(pressedAt: PressedAt | null) -> ManualResult",
  "manual_undo() -> Entry",
  "passing_correct(num: number, change: ChangeInput, reason: string | null) -> Corrected",
  "passing_audit(passingId: number) -> Correction[]",
  "reader_protocols() -> ProtocolView[]",
  "reader_ports() -> PortView[]",
  "reader_add(name: string, spec: string) -> ReaderView",
  "reader_remove(name: string) -> void",
  "reader_start(name: string) -> ReaderView",
  "reader_stop(name: string) -> ReaderView",
  "reader_set_clock(name: string) -> ReaderView",
  "reader_frames(name: string) -> FrameView[]",
  "reader_zones() -> ZoneList /* this computer's zone and the IANA names */",
  "reader_set_zone(name: string, zone: string) -> ReaderView /* '' = the computer's zone; re-creates the reader, losing no read */",
  "reader_adjust(name: string, ms: number) -> ReaderView /* ms added to passing times from now on; live, audited */",
  "sync_retry() -> void /* ends a backoff, a Retry-After wait or a pause now */",
  "sync_retry_parked(sessionId: number | null) -> number /* parked passings back into the outbox */",
  "participants_import(<raw body: the file's bytes>) -> ImportReport",
  "export_csv(what: 'passings' | 'raw') -> string",
  "update_status() -> UpdateStatus /* enabled: false when the build has no update endpoint */",
  "update_install() -> UpdateStatus /* downloads, verifies and installs the available update; busy while a session is open or passings are pending; then restart */",
] as const;

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
