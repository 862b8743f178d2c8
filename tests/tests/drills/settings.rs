//! A change of settings never stops capture: a bad key or URL is refused before anything is
//! saved, and a new key, URL, operator or station applies in place while the readers read.

use std::time::Duration;

use rufus_cloud_sim::Sim;
use timing_core::clock::SystemClock;
use timing_core::engine::Reconfigure;
use timing_core::station::Station;
use timing_core::{BindRequest, CoreError, Engine, EngineConfig};

use crate::support::{DRILL_LIMIT, strict_sim};

async fn reads(station: &Station) -> u64 {
    station.capture().stats().borrow().raw_reads
}

async fn more_reads(station: &Station, than: u64) {
    for _ in 0..100 {
        if reads(station).await > than {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("capture stopped at {than} reads");
}

async fn console(sim: &Sim, dir: &std::path::Path) -> Station {
    let mut config = EngineConfig::new(dir);
    config.api_url = Some(sim.base_url());
    config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
    let engine = Engine::open(config, SystemClock::shared()).await.unwrap();
    engine
        .bind_device(BindRequest {
            serial_number: "SETTINGS-1".into(),
            model: "drill".into(),
            device_type: "custom".into(),
            alias: None,
            firmware: None,
            take_over: false,
        })
        .await
        .unwrap();
    engine.open_session(Some("settings")).await.unwrap();
    let station = Station::start(engine).await.unwrap();
    station.add_source("finish", "sim:runners=100000,rate=50").await.unwrap();
    station
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_change_in_place_and_bad_ones_are_refused_first() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let dir = tempfile::tempdir().unwrap();
        let station = console(&sim, dir.path()).await;
        let engine = station.engine().clone();
        more_reads(&station, 5).await;

        for bad in [
            Reconfigure { api_key: Some(Some("ror key with spaces".into())), ..Default::default() },
            Reconfigure { api_key: Some(Some("ror-clé".into())), ..Default::default() },
            Reconfigure { api_url: Some("http://192.168.1.20/v0".into()), ..Default::default() },
            Reconfigure { operator: Some("a\u{7}bell".into()), ..Default::default() },
        ] {
            let before = reads(&station).await;
            let err = engine.reconfigure(bad.clone()).await.unwrap_err();
            assert!(matches!(err, CoreError::Invalid(_)), "{bad:?}: {err}");
            more_reads(&station, before).await;
        }
        assert_eq!(engine.api_url(), sim.base_url(), "nothing changed on a refused value");

        // A valid new key and names: same station, same readers, capture goes on, sync too.
        let key = sim.add_key(rufus_cloud_sim::Access::ReadWrite, false);
        engine
            .reconfigure(Reconfigure {
                api_key: Some(Some(key)),
                operator: Some("Marta".into()),
                station: Some(Some("Finish B".into())),
                ..Default::default()
            })
            .await
            .unwrap();
        let before = reads(&station).await;
        more_reads(&station, before + 20).await;
        assert!(station.sources().iter().all(|s| s.state != "stopped"));
        for _ in 0..100 {
            if engine.sync().status().borrow().sent > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(engine.sync().status().borrow().sent > 0, "sync runs on the new key");
        station.shutdown().await;
    })
    .await
    .unwrap();
}
