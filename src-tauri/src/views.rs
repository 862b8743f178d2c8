//! Conversions from engine values to the IPC types the UI receives (`timing-ipc`).

use timing_core::capture::Capture;
use timing_core::feed::FeedUpdate;
use timing_core::station::SourceView;
use timing_ipc::{
    CaptureStatus, CloudDevice, CloudSession, FeedBatch, LastRead, ReaderSettingView, ReaderView,
};

/// Capture's commit state: the last commit error (set while commits fail) and the reads waiting.
pub fn capture(c: &Capture) -> CaptureStatus {
    CaptureStatus {
        last_error: c.stats().borrow().last_error.clone(),
        queued: i64::try_from(c.queued()).unwrap_or(i64::MAX),
    }
}

/// A reader tile.
pub fn reader(s: SourceView) -> ReaderView {
    ReaderView {
        last_read: match (s.last_chip, s.last_at) {
            (Some(chip), Some(at)) => {
                Some(LastRead { chip, at: timing_core::clock::format_utc(at) })
            }
            _ => None,
        },
        name: s.name,
        spec: s.spec,
        protocol: s.protocol,
        state: s.state,
        last_error: s.last_error,
        warning: s.warning,
        reads_per_sec: s.reads_per_sec,
        rate_history: s.rate_history,
        reads: i64::try_from(s.reads).unwrap_or(i64::MAX),
        rejected: i64::try_from(s.rejected).unwrap_or(i64::MAX),
        clock_offset_ms: s.clock_offset_ms,
        clock_zone: s.clock_zone,
        zone_settable: s.zone_settable,
        clock_hint: s.clock_hint,
        proposed_zone: s.proposed_zone,
        adjust_ms: s.adjust_ms,
        settings: s
            .settings
            .into_iter()
            .map(|v| ReaderSettingView {
                name: v.name,
                asked: v.asked,
                applied: v.applied,
                differs: v.differs,
            })
            .collect(),
    }
}

/// A feed batch for the channel.
pub fn batch(u: &FeedUpdate) -> FeedBatch {
    FeedBatch {
        entries: u.entries.clone(),
        raw_reads: i64::try_from(u.raw_reads).unwrap_or(i64::MAX),
        duplicates: i64::try_from(u.duplicates).unwrap_or(i64::MAX),
        reread: u.starts_changed,
    }
}

/// A device of the account.
pub fn cloud_device(d: rufus_api::Device, bound_here: bool) -> CloudDevice {
    CloudDevice {
        deviceid: d.deviceid.as_str().to_owned(),
        serial_number: d.serial_number,
        model: d.model,
        alias: d.alias,
        sessions: d.sessions.and_then(|n| i64::try_from(n).ok()),
        passings: d.passings.and_then(|n| i64::try_from(n).ok()),
        bound_here,
    }
}

/// A session of the device, as the cloud lists it.
pub fn cloud_session(s: rufus_api::Session) -> CloudSession {
    CloudSession {
        token_session: s.token_session.as_str().to_owned(),
        alias: s.alias,
        active: s.active.unwrap_or(false),
        passings: s.passings.and_then(|n| i64::try_from(n).ok()),
        creation_date: s.creation_date.map(|t| t.raw().to_owned()),
    }
}
