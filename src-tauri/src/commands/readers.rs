//! Readers: the protocols the console speaks, the serial ports the OS offers, adding and removing readers by spec, start/stop,
//! their last raw frames and their clocks: the zone a reader's clock is read in (which
//! re-creates the reader) and a live time adjustment, both saved with the reader list.

use timing_core::CoreError;
use timing_ipc::{FrameView, PortView, ProtocolView, ReaderView, ZoneList};

use super::{Cmd, Console, engine, err, running};
use crate::core::AppCore;
use crate::views;

async fn view(core: &AppCore, name: &str) -> Cmd<ReaderView> {
    let guard = core.running().await;
    running(&guard)?
        .station
        .sources()
        .into_iter()
        .find(|s| s.name == name)
        .map(views::reader)
        .ok_or_else(|| err(CoreError::NotFound(format!("reader `{name}`"))))
}

impl timing_ipc::ReaderCommands for Console {
    async fn reader_protocols(&self) -> Cmd<Vec<ProtocolView>> {
        Ok(timing_ipc::reader_protocols())
    }

    async fn reader_ports(&self) -> Cmd<Vec<PortView>> {
        Ok(timing_readers::ports()
            .into_iter()
            .map(|p| PortView { path: p.path, description: p.description })
            .collect())
    }

    async fn reader_add(&self, name: String, spec: String) -> Cmd<ReaderView> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.add_source(&name, &spec).await.map_err(err)?;
        }
        self.core.persist_readers().await.map_err(err)?;
        view(&self.core, name.trim()).await
    }

    async fn reader_remove(&self, name: String) -> Cmd<()> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.remove_source(&name).await.map_err(err)?;
        }
        self.core.persist_readers().await.map_err(err)
    }

    async fn reader_start(&self, name: String) -> Cmd<ReaderView> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.start_source(&name).await.map_err(err)?;
        }
        view(&self.core, &name).await
    }

    async fn reader_stop(&self, name: String) -> Cmd<ReaderView> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.stop_source(&name).await.map_err(err)?;
        }
        view(&self.core, &name).await
    }

    async fn reader_set_clock(&self, name: String) -> Cmd<ReaderView> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.set_reader_clock(&name).await.map_err(err)?;
        }
        view(&self.core, &name).await
    }

    async fn reader_zones(&self) -> Cmd<ZoneList> {
        let guard = self.core.running().await;
        let zone = engine(&guard)?.clock().zone();
        Ok(timing_ipc::reader_zones(&zone))
    }

    async fn reader_set_zone(&self, name: String, zone: String) -> Cmd<ReaderView> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.set_reader_zone(&name, &zone).await.map_err(err)?;
        }
        self.core.persist_readers().await.map_err(err)?;
        view(&self.core, &name).await
    }

    async fn reader_adjust(&self, name: String, ms: i64) -> Cmd<ReaderView> {
        {
            let guard = self.core.running().await;
            running(&guard)?.station.adjust_reader(&name, ms).await.map_err(err)?;
        }
        self.core.persist_readers().await.map_err(err)?;
        view(&self.core, &name).await
    }

    async fn reader_frames(&self, name: String) -> Cmd<Vec<FrameView>> {
        let guard = self.core.running().await;
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
                summary: format!(
                    "chip {}{}",
                    f.chip,
                    if f.duplicate { " (duplicate)" } else { "" }
                ),
            })
            .collect())
    }
}
