//! Timing hardware for the console: the wire protocols of the readers race timers plug in, the
//! serial and TCP links to them, and a supervisor per reader that keeps it connected and turns
//! its bytes into time-stamped reads.
//!
//! This crate is the console's only knowledge of timing hardware. It knows nothing about
//! sessions, SQLite or the cloud: it hands [`StampedRead`]s to whoever holds the other end of a
//! channel (the engine, `timing-core`), which stores them and de-duplicates them persistently by
//! [`StampedRead::replay_key`].
//!
//! # Layers
//!
//! | Layer | Items |
//! |---|---|
//! | Decoders: bytes in, reads out, pure | [`Decoder`], [`Decoded`], [`TagRead`], [`ReaderTime`], [`ReplayKey`], one module per protocol with its `command` encoders |
//! | Reader specs | [`ReaderConfig`] (`serial:/dev/ttyUSB0?protocol=ipico`, `tcp:192.168.1.20:23?protocol=ultra`), [`Link`], [`ResumePoint`] |
//! | Transports | [`transport`]: serial via `serialport` on a blocking thread, TCP via tokio with keepalive; [`ports`] lists serial ports for the UI; [`looks_like_serial_port`] tells a port name from a file |
//! | Supervisor | [`supervisor`]: [`ReaderSupervisor::spawn`] → [`ReaderHandle`] (status, recent frames, start/stop/set clock/rewind/shutdown) |
//! | Time | [`clock`]: the injected [`Clock`](clock::Clock) every layer reads time from |
//! | Emulators (feature `emulators`) | `emulator`: each reader on a pseudo-terminal or loopback TCP, with fault injection; `sample_stream` for benchmarks |
//!
//! # Protocols
//!
//! | [`Protocol`] | Hardware | Module | Reader clock | Rewind after a reconnect |
//! |---|---|---|---|---|
//! | `ipico` | IPICO Lite / Elite `aa` tag reports and `ab` control frames (ASCII hex, LRC) | [`ipico`] | local, get-time `ab…02` | Elite replay (control port `replay_start`, replay port) |
//! | `ultra` | RFID Timing Systems Ultra / Joey chip-read lines (ASCII, LF) | [`ultra`] | local, get-time `r` (whole seconds) | by log id (`600`), gaps too |
//! | `r2000` | Impinj-R2000 "CMD" modules, `0xA0` frames (two's-complement checksum) | [`r2000`] | none (host time) | none (polled) |
//! | `chafon` | Chafon UHFReader18 / 288 frames (`Len Adr Cmd …`, CRC-16/MCRF4XX) | [`chafon`] | none (host time) | none (polled) |
//! | `timy` | ALGE Timy / Timy2 / Timy3 RS-232 impulse lines (CR, optional checksum) | [`timy`] | time of day, from first reads | `RSM` (whole memory) |
//! | `raceresult` | RACE RESULT System decoder passings (`#P;` pushes, fetched records, replies) | [`raceresult`] | local or since start, `GETTIME` | by passing number (`PASSINGS`, `n:m`), gaps too |
//! | `cloudbox` | RUFUS CloudBox JSON passings and replies (back-to-back JSON objects) | [`cloudbox`] | UTC, `GETSYSTEMTIME` | by time range (`REWIND;from;to`), gaps too |
//! | `lines` | keyboard-wedge readers and bib keypads: one chip or bib per line | [`lines`] | none (host time) | none |
//!
//! The byte formats are those of `shared/docs/readers.md`; each module says which sections it
//! follows and how it resolved the conflicts marked there.
//!
//! # Invariants
//!
//! Decoders:
//!
//! * **Pure.** A decoder never reads a clock, a file or the network. [`ReaderTime`] is what the
//!   device carried, nothing more; the host receive time is the transport's business.
//! * **Never panics.** Whatever bytes arrive, in whatever pieces: no indexing that can panic, no
//!   `unwrap`, checked arithmetic on anything parsed. Fuzz targets in `fuzz/` hold this.
//! * **Raw bytes are kept.** Every [`TagRead`], [`Control`] and [`Rejected`] carries the exact
//!   bytes it was decoded from (line terminators included). Nothing is dropped silently except
//!   empty lines (including the LF of a CR LF where CR alone also ends a line) and the
//!   whitespace between JSON objects. Reads that share one frame (a Chafon reply listing
//!   several tags) each carry the whole frame.
//! * **Bounded buffers.** A line without terminator, a frame that never completes or an endless
//!   run of garbage is cut into [`Rejected`] chunks ([`RejectReason::TooLong`],
//!   [`RejectReason::Garbage`]); what a decoder holds between calls never exceeds its module's
//!   `BUFFER_LIMIT` ([`Decoder::buffered`] reports it).
//! * **Resynchronises.** After garbage or a corrupted frame the next good frame decodes.
//! * **Chunking does not matter.** The output is a function of the byte stream alone: feeding it
//!   whole or split at any points gives the same [`Decoded`] values in the same order.
//!   ([`Decoder::idle`], the transport's hint that the line went quiet, may make output come
//!   earlier and cut garbage into different chunks; it still accepts only frames that check.)
//! * **Cheap.** On the happy path a decoder allocates only what it hands out (the read's strings
//!   and its `raw` copy); it can be driven over a large capture file in one call.
//!
//! Transports and supervisor:
//!
//! * **Transports never drop bytes silently.** Every byte read from the OS reaches the decoder in
//!   order, or the link reports why it ended; the channels between the serial thread and async
//!   code are bounded and apply back-pressure instead of discarding. Whatever a decoder still
//!   holds when a link ends is reported as [`RejectReason::Truncated`].
//! * **The supervisor never panics and never gives up by itself.** Unplug, cable loss, EOF, read
//!   and write errors, a reader that stops answering probes: each becomes
//!   [`ReaderState::Lost`] with a `last_error`, then a reconnect. It ends only on
//!   [`ReaderHandle::shutdown`], when the handle is dropped, or when the reads channel closes.
//! * **Reconnect bound.** Back-off between attempts grows from 100 ms to 1 s, so a link that
//!   comes back is open again within about a second (the tests measure < 2 s). A missing serial
//!   port is looked for every 100 ms and opened [`transport::REPLUG_SETTLE`] (500 ms) after it
//!   reappears, so the device is ready when it is opened.
//! * **Errors a volunteer can act on.** A port the OS refuses to open reports the fix (join the
//!   `dialout` group; close the program that holds the COM port) in the status's `last_error`.
//! * **Each read delivered, repeats flagged, stable keys.** Every read reaches the channel; one
//!   whose replay key the supervisor already delivered (a rewind, a doubled frame) comes with
//!   [`StampedRead::repeated`] set. The key's text form is a function of the read alone and
//!   names the reader's numbering run, so the engine can de-duplicate across restarts and a
//!   reader that numbers from 1 again makes new keys.
//! * **Time is injected.** Host receive times, round trips and rates come from the
//!   [`Clock`](clock::Clock) given to the supervisor; waiting uses tokio's timers.
//! * **Bounded memory.** Status counters, the frame log, the rate meter, the replay-key memory
//!   and the emulators' reader memory all have fixed caps.

pub mod chafon;
pub mod clock;
pub mod cloudbox;
mod config;
mod decoded;
mod decoder;
#[cfg(any(test, feature = "emulators"))]
pub mod emulator;
pub mod framing;
pub mod ipico;
pub mod lines;
pub mod llrp;
pub mod r2000;
pub mod raceresult;
mod registry;
mod replay;
pub mod supervisor;
mod text;
pub mod timy;
pub mod transport;
pub mod ultra;
mod zone;

pub use config::{
    Backoff, EliteReplay, Link, MAX_ADJUST_MS, ReaderConfig, SpecError, parse_adjustment,
};
pub use decoded::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};
pub use decoder::{Decoder, decode_all};
pub use registry::{
    Parity, Protocol, ProtocolInfo, ProtocolOption, SerialSettings, Transport, UnknownProtocol,
};
pub use replay::{BadReplayKey, ResumePoint};
pub use supervisor::{
    CommandError, ReaderHandle, ReaderSetting, ReaderState, ReaderStatus, ReaderSupervisor,
    StampedRead,
};
pub use supervisor::{Direction, FrameRecord};
pub use transport::{PortInfo, PortKind, looks_like_serial_port, ports};
pub use zone::{
    ClockHint, HINT_AFTER_MS, QUARTER_HOUR_SLACK_MS, ReaderZone, UnknownZone, clock_hint,
};
