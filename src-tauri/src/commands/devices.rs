//! Devices: bind (reusing the account's device with the same serial), list, select, unbind.

use timing_core::BindRequest;
use timing_core::domain::{Device, DeviceId};
use timing_ipc::{BindInput, CloudDevice};

use super::{Cmd, Console, engine, err};
use crate::views;

impl timing_ipc::DeviceCommands for Console {
    async fn device_bind(&self, input: BindInput) -> Cmd<Device> {
        let guard = self.core.running().await;
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

    async fn device_list(&self) -> Cmd<Vec<Device>> {
        let guard = self.core.running().await;
        engine(&guard)?.devices().await.map_err(err)
    }

    async fn device_cloud_list(&self) -> Cmd<Vec<CloudDevice>> {
        let guard = self.core.running().await;
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

    async fn device_select(&self, deviceid: String) -> Cmd<Device> {
        let guard = self.core.running().await;
        let device = engine(&guard)?.select_device(&DeviceId(deviceid)).await.map_err(err)?;
        super::running(&guard)?.station.follow_session().await.map_err(err)?;
        Ok(device)
    }

    async fn device_unbind(&self, deviceid: String, confirmed: bool) -> Cmd<()> {
        let guard = self.core.running().await;
        engine(&guard)?.unbind_device(&DeviceId(deviceid), confirmed).await.map_err(err)
    }
}
