//! Devices: bind (reusing the account's device with the same serial), list, select, unbind.

use timing_core::BindRequest;
use timing_core::domain::{Device, DeviceId};
use timing_ipc::{BindInput, CloudDevice};

use super::{Cmd, Core, engine, err};
use crate::views;

#[tauri::command]
pub async fn device_bind(core: Core<'_>, input: BindInput) -> Cmd<Device> {
    let guard = core.running().await;
    let request = BindRequest {
        serial_number: input.serial_number,
        model: input.model,
        device_type: input.device_type,
        alias: input.alias,
        firmware: input.firmware,
        take_over: input.take_over,
    };
    let device = engine(&guard)?.bind_device(request).await.map_err(err)?;
    engine(&guard)?.select_device(&device.deviceid).await.map_err(err)
}

#[tauri::command]
pub async fn device_list(core: Core<'_>) -> Cmd<Vec<Device>> {
    let guard = core.running().await;
    engine(&guard)?.devices().await.map_err(err)
}

#[tauri::command]
pub async fn device_cloud_list(core: Core<'_>) -> Cmd<Vec<CloudDevice>> {
    let guard = core.running().await;
    let engine = engine(&guard)?;
    let local: Vec<DeviceId> =
        engine.devices().await.map_err(err)?.into_iter().map(|d| d.deviceid).collect();
    let cloud = engine.cloud_devices().await.map_err(err)?;
    Ok(cloud
        .into_iter()
        .map(|d| {
            let here = local.iter().any(|l| l.0 == d.deviceid.as_str());
            views::cloud_device(d, here)
        })
        .collect())
}

#[tauri::command]
pub async fn device_select(core: Core<'_>, deviceid: String) -> Cmd<Device> {
    let guard = core.running().await;
    let device = engine(&guard)?.select_device(&DeviceId(deviceid)).await.map_err(err)?;
    super::running(&guard)?.station.follow_session().await.map_err(err)?;
    Ok(device)
}

#[tauri::command]
pub async fn device_unbind(core: Core<'_>, deviceid: String, confirmed: bool) -> Cmd<()> {
    let guard = core.running().await;
    engine(&guard)?.unbind_device(&DeviceId(deviceid), confirmed).await.map_err(err)
}
