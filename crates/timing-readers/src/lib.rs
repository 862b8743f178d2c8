//! Timing hardware wire protocols as pure decoders: the bytes a reader sends go in, reads come out.
//!
//! This crate is the console's only knowledge of what timing hardware puts on the wire. It knows
//! nothing about sessions, SQLite or the cloud: a transport (serial port, TCP socket) feeds
//! whatever bytes arrive to a [`Decoder`], stamps the host receive time on what comes out, and
//! hands it to the engine. Command encoders (the bytes the console sends) live in each protocol's
//! `command` module.
//!
//! # Protocols
//!
//! | [`Protocol`] | Hardware | Module |
//! |---|---|---|
//! | `ipico` | IPICO Lite / Elite `aa` tag reports and `ab` control frames (ASCII hex, LRC) | [`ipico`] |
//! | `ultra` | RFID Timing Systems Ultra / Joey chip-read lines (ASCII, LF) | [`ultra`] |
//! | `r2000` | Impinj-R2000 "CMD" modules, `0xA0` frames (two's-complement checksum) | [`r2000`] |
//! | `chafon` | Chafon UHFReader18 / 288 frames (`Len Adr Cmd …`, CRC-16/MCRF4XX) | [`chafon`] |
//! | `timy` | ALGE Timy / Timy2 / Timy3 RS-232 impulse lines (CR, optional checksum) | [`timy`] |
//! | `raceresult` | RACE RESULT System decoder passings (`#P;` pushes, fetched records, replies) | [`raceresult`] |
//! | `cloudbox` | RUFUS CloudBox JSON passings and replies (back-to-back JSON objects) | [`cloudbox`] |
//! | `lines` | keyboard-wedge readers and bib keypads: one chip or bib per line | [`lines`] |
//!
//! The byte formats are those of `shared/docs/readers.md`; each module says which sections it
//! follows and how it resolved the conflicts marked there.
//!
//! # Invariants (every decoder)
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

pub mod chafon;
pub mod clock;
pub mod cloudbox;
mod decoded;
mod decoder;
mod framing;
pub mod ipico;
pub mod lines;
mod protocol;
pub mod r2000;
pub mod raceresult;
mod text;
pub mod timy;
pub mod ultra;

pub use decoded::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};
pub use decoder::{Decoder, decode_all};
pub use protocol::{Parity, Protocol, SerialSettings, UnknownProtocol};
