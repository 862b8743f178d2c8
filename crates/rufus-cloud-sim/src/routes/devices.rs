//! Devices: D1 `POST /devices` (bind), D2 `DELETE /devices/{deviceid}` (unbind),
//! D3 `GET /devices` (list), D4 `GET /devices/{deviceid}` (information).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::params::{Params, page_of, pagination};
use super::{App, read_body};
use crate::clock;
use crate::envelope::Reply;
use crate::state::{Device, World};
use crate::validate;

/// D3 page size: 1..=5000, default 5000.
const MAX_DEVICES_PER_PAGE: usize = 5000;

/// D1: 201 `{description, deviceid}`; a bound serial number: 409 with the existing `deviceid`.
pub(super) async fn bind(State(app): State<App>, body: Body) -> Reply {
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let new = match validate::bind_request(&bytes) {
        Ok(new) => new,
        Err(refusal) => return Reply::bad_request(refusal),
    };
    let now = clock::now_text();
    match app.write(|world| world.bind(new, &now)) {
        Ok(deviceid) => Reply::created(json!({
            "description": "Device binded succesfully",
            "deviceid": deviceid,
        })),
        Err(existing) => Reply::new(
            StatusCode::CONFLICT,
            json!({
                "description": "A device with this serial_number is already binded",
                "deviceid": existing,
            }),
        ),
    }
}

/// D2: 200 `{description, deviceid}`; deletes the device's sessions and passings.
pub(super) async fn unbind(State(app): State<App>, Path(deviceid): Path<String>) -> Reply {
    if app.write(|world| world.unbind(&deviceid)) {
        Reply::ok(json!({ "description": "Device unbinded succesfully", "deviceid": deviceid }))
    } else {
        Reply::not_found("Device not found", "deviceid", &deviceid)
    }
}

/// D3: `{description, result:[DeviceSummary], pagination}`.
pub(super) async fn list(State(app): State<App>, uri: Uri) -> Reply {
    let query = (|| {
        let params = Params::of(&uri)?;
        Ok::<_, Reply>((params.page()?, params.limit(MAX_DEVICES_PER_PAGE)?))
    })();
    let (page, limit) = match query {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    app.read(|world| {
        let total = world.devices().len();
        let devices: Vec<&Device> = world.devices().iter().collect();
        let result: Vec<Value> = page_of(devices, page, limit)
            .into_iter()
            .map(|device| {
                let mut summary = device_json(world, device);
                if let Some(obj) = summary.as_object_mut() {
                    obj.insert("last_login".into(), json!(device.last_seen));
                }
                summary
            })
            .collect();
        Reply::ok(json!({
            "description": "Devices found",
            "result": result,
            "pagination": pagination(page, limit, total),
        }))
    })
}

/// D4: `{description, result:{...}}` (an object, unlike session information).
pub(super) async fn info(State(app): State<App>, Path(deviceid): Path<String>) -> Reply {
    app.read(|world| match world.device(&deviceid) {
        Some(device) => Reply::ok(
            json!({ "description": "Device found", "result": device_json(world, device) }),
        ),
        None => Reply::not_found("Device not found", "deviceid", &deviceid),
    })
}

fn device_json(world: &World, device: &Device) -> Value {
    let d = &device.state;
    let sessions = world.sessions_of(&d.deviceid).count();
    let passings: usize = world.sessions_of(&d.deviceid).map(|s| s.state.passings.len()).sum();
    json!({
        "deviceid": d.deviceid,
        "type": d.device_type,
        "model": d.model,
        "alias": d.alias,
        "firmware": d.firmware,
        "serial_number": d.serial_number,
        "creation_date": d.creation_date,
        "sessions": sessions,
        "passings": passings,
        "last_seen": device.last_seen,
    })
}
