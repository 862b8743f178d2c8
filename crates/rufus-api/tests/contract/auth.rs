//! Authentication: both key headers work on the server, and refusals name the permission the
//! operation needed (WRITE for writes, the Unbind flag for DELETE).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::time::Duration;

use reqwest::Method;
use rufus_api::{ApiError, Operation, Permission, Retry};
use rufus_cloud_sim::{Access, Envelope};

use crate::support::{
    batch, bounded, client, client_with, device_and_session, new_device, raw, sim_with,
};

#[tokio::test]
async fn either_key_header_alone_is_accepted_and_none_is_refused() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let key = sim.admin_key();
        let (status, body) = raw(&sim, Method::GET, "/devices", &[("api_key", &key)], None).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = raw(&sim, Method::GET, "/devices", &[("x-api-key", &key)], None).await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = raw(&sim, Method::GET, "/devices", &[], None).await;
        assert!(status == 401 || status == 403, "{status}");
        let (status, _) =
            raw(&sim, Method::GET, "/devices", &[("x-api-key", "ror-00000000000000000000")], None)
                .await;
        assert!(status == 401 || status == 403, "{status}");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_not_retried() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client_with(&sim, "ror-00000000000000000000", Duration::from_secs(5));
        let e = c.list_devices(1, 10).await.unwrap_err();
        assert!(matches!(e, ApiError::Unauthorized { op: Operation::ListDevices, .. }), "{e:?}");
        assert_eq!(e.retry(), Retry::Never);
        assert!(e.to_string().contains("READ"), "{e}");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_read_key_is_refused_on_every_write_naming_write() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let admin = client(&sim);
        let (deviceid, token) = device_and_session(&admin, "SN-READ").await;
        let reader = client_with(&sim, &sim.add_key(Access::Read, false), Duration::from_secs(5));

        // Reads work.
        assert_eq!(reader.device(&deviceid).await.unwrap().deviceid, deviceid);
        assert_eq!(reader.session(&token).await.unwrap().token_session, token);

        // Writes are refused, each naming WRITE.
        let errors = [
            reader.bind_device(&new_device("SN-OTHER")).await.unwrap_err(),
            reader.create_session(&deviceid, None).await.unwrap_err(),
            reader.insert_passings(&token, &batch(1..=2)).await.unwrap_err(),
            reader.close_session(&token).await.unwrap_err(),
        ];
        for e in errors {
            assert!(matches!(e, ApiError::Unauthorized { .. }), "{e:?}");
            assert_eq!(e.operation().permission(), Some(Permission::Write));
            assert_eq!(e.retry(), Retry::Never);
            let message = e.to_string();
            assert!(message.contains("WRITE"), "{message}");
            assert!(message.starts_with(e.operation().name()), "{message}");
        }
        let e = reader.unbind_device(&deviceid).await.unwrap_err();
        assert!(e.to_string().contains("Unbind flag"), "{e}");

        // Nothing changed.
        let snap = sim.snapshot();
        assert_eq!(snap.devices.len(), 1);
        assert!(snap.session(token.as_str()).unwrap().active);
        assert!(snap.session(token.as_str()).unwrap().passings.is_empty());
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_write_key_without_the_unbind_flag_cannot_delete() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        for access in [Access::Write, Access::ReadWrite] {
            let writer = client_with(&sim, &sim.add_key(access, false), Duration::from_secs(5));
            let deviceid =
                writer.bind_device(&new_device(&format!("SN-{access:?}"))).await.unwrap();
            let e = writer.unbind_device(&deviceid).await.unwrap_err();
            assert!(
                matches!(e, ApiError::Unauthorized { op: Operation::UnbindDevice, .. }),
                "{e:?}"
            );
            assert_eq!(e.retry(), Retry::Never);
            let message = e.to_string();
            assert!(message.starts_with("unbind device: "), "{message}");
            assert!(message.contains("DELETE needs a key with the Unbind flag"), "{message}");
            assert!(
                sim.snapshot().device(deviceid.as_str()).is_some(),
                "the device is still bound"
            );

            // The same key with the flag may.
            let unbinder = client_with(&sim, &sim.add_key(access, true), Duration::from_secs(5));
            unbinder.unbind_device(&deviceid).await.unwrap();
            assert!(sim.snapshot().device(deviceid.as_str()).is_none());
        }
        sim.shutdown().await;
    })
    .await;
}
