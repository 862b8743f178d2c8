//! Readers: the protocols the console speaks, the serial ports the OS offers, adding and removing readers by spec, start/stop,
//! their last raw frames and their clocks: the zone a reader's clock is read in (which
//! re-creates the reader) and a live time adjustment, both saved with the reader list.

use timing_core::CoreError;
use timing_ipc::{FrameView, PortView, ProtocolView, ReaderView, ZoneList};

use super::{Cmd, Core, engine, err, running};
use crate::views;

async fn view(core: &Core<'_>, name: &str) -> Cmd<ReaderView> {
    let guard = core.running().await;
    running(&guard)?
        .station
        .sources()
        .into_iter()
        .find(|s| s.name == name)
        .map(views::reader)
        .ok_or_else(|| err(CoreError::NotFound(format!("reader `{name}`"))))
}

#[tauri::command]
pub async fn reader_protocols() -> Cmd<Vec<ProtocolView>> {
    Ok(timing_ipc::reader_protocols())
}

#[tauri::command]
pub async fn reader_ports() -> Cmd<Vec<PortView>> {
    Ok(timing_readers::ports()
        .into_iter()
        .map(|p| PortView { path: p.path, description: p.description })
        .collect())
}

#[tauri::command]
pub async fn reader_add(core: Core<'_>, name: String, spec: String) -> Cmd<ReaderView> {
    {
        let guard = core.running().await;
        running(&guard)?.station.add_source(&name, &spec).await.map_err(err)?;
    }
    core.persist_readers().await.map_err(err)?;
    view(&core, name.trim()).await
}

#[tauri::command]
pub async fn reader_remove(core: Core<'_>, name: String) -> Cmd<()> {
    {
        let guard = core.running().await;
        running(&guard)?.station.remove_source(&name).await.map_err(err)?;
    }
    core.persist_readers().await.map_err(err)
}

#[tauri::command]
pub async fn reader_start(core: Core<'_>, name: String) -> Cmd<ReaderView> {
    {
        let guard = core.running().await;
        running(&guard)?.station.start_source(&name).await.map_err(err)?;
    }
    view(&core, &name).await
}

#[tauri::command]
pub async fn reader_stop(core: Core<'_>, name: String) -> Cmd<ReaderView> {
    {
        let guard = core.running().await;
        running(&guard)?.station.stop_source(&name).await.map_err(err)?;
    }
    view(&core, &name).await
}

#[tauri::command]
pub async fn reader_set_clock(core: Core<'_>, name: String) -> Cmd<ReaderView> {
    {
        let guard = core.running().await;
        running(&guard)?.station.set_reader_clock(&name).await.map_err(err)?;
    }
    view(&core, &name).await
}

#[tauri::command]
pub async fn reader_zones(core: Core<'_>) -> Cmd<ZoneList> {
    let guard = core.running().await;
    let zone = engine(&guard)?.clock().zone();
    Ok(timing_ipc::reader_zones(&zone))
}

#[tauri::command]
pub async fn reader_set_zone(core: Core<'_>, name: String, zone: String) -> Cmd<ReaderView> {
    {
        let guard = core.running().await;
        running(&guard)?.station.set_reader_zone(&name, &zone).await.map_err(err)?;
    }
    core.persist_readers().await.map_err(err)?;
    view(&core, &name).await
}

#[tauri::command]
pub async fn reader_adjust(core: Core<'_>, name: String, ms: i64) -> Cmd<ReaderView> {
    {
        let guard = core.running().await;
        running(&guard)?.station.adjust_reader(&name, ms).await.map_err(err)?;
    }
    core.persist_readers().await.map_err(err)?;
    view(&core, &name).await
}

#[tauri::command]
pub async fn reader_frames(core: Core<'_>, name: String) -> Cmd<Vec<FrameView>> {
    let guard = core.running().await;
    let run = running(&guard)?;
    // Timing hardware keeps its own log of frames in and out; other sources show their reads.
    if let Some(frames) = run.station.reader_frames(&name, 50).map_err(err)? {
        return Ok(frames
            .into_iter()
            .rev()
            .map(|f| FrameView {
                at: timing_core::clock::format_utc(f.at),
                hex: f.hex,
                summary: format!("{:?}: {}", f.direction, f.summary),
            })
            .collect());
    }
    let frames = engine(&guard)?.recent_raw(&name, 50).await.map_err(err)?;
    Ok(frames
        .into_iter()
        .map(|f| FrameView {
            at: f.host_time,
            hex: f.raw.iter().map(|b| format!("{b:02x}")).collect(),
            summary: format!("chip {}{}", f.chip, if f.duplicate { " (duplicate)" } else { "" }),
        })
        .collect())
}
