//! Pagination against servers that page differently: any page size (reads go on until an empty
//! page), a server that ignores `page` (an error, not an endless or silently short read), the
//! highest num_passing of a session, and numbers sent as strings.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use chrono::Duration as TimeDelta;
use rufus_cloud_sim::{Envelope, SimConfig};

use crate::support::{batch, bounded, client, device_and_session, sim, t0};

fn nums(passings: &[rufus_api::PassingOut]) -> Vec<u64> {
    passings.iter().filter_map(|p| p.num_passing).collect()
}

#[tokio::test]
async fn p2_with_pages_of_100_returns_all_250_passings() {
    bounded(async {
        let sim = sim(SimConfig { page_size: 100, ..Default::default() }).await;
        let c = client(&sim);
        let (deviceid, token) = device_and_session(&c, "SN-PAGE-100").await;
        assert_eq!(c.max_num_passing(&token).await.unwrap(), None, "nothing stored yet");
        c.insert_passings(&token, &batch(1..=250)).await.unwrap();

        let all = c.all_passings_by_range(&token, 1, 1000).await.unwrap();
        assert_eq!(nums(&all), (1..=250).collect::<Vec<_>>());
        let part = c.all_passings_by_range(&token, 90, 210).await.unwrap();
        assert_eq!(nums(&part), (90..=210).collect::<Vec<_>>());
        assert_eq!(c.passings_by_range(&token, 1, 1000, 3).await.unwrap().len(), 50);

        let by_time =
            c.all_passings_by_datetime(&deviceid, t0(), t0() + TimeDelta::hours(1)).await.unwrap();
        assert_eq!(nums(&by_time), (1..=250).collect::<Vec<_>>());
        assert_eq!(c.max_num_passing(&token).await.unwrap(), Some(250));

        // Closed sessions stay readable, every page of them.
        c.close_session(&token).await.unwrap();
        assert_eq!(c.all_passings_by_range(&token, 1, 1000).await.unwrap().len(), 250);
        assert_eq!(c.max_num_passing(&token).await.unwrap(), Some(250));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn any_page_size_is_followed_to_the_end() {
    bounded(async {
        let sim = sim(SimConfig::default()).await;
        let c = client(&sim);
        let (deviceid, token) = device_and_session(&c, "SN-PAGE-ANY").await;
        c.insert_passings(&token, &batch(1..=30)).await.unwrap();
        for page_size in [1, 7, 10, 29, 30, 31, 5000] {
            sim.set_page_size(page_size);
            let all = c.all_passings_by_range(&token, 1, 30).await.unwrap();
            assert_eq!(nums(&all), (1..=30).collect::<Vec<_>>(), "page size {page_size}");
            let by_time =
                c.all_passings_by_datetime(&deviceid, t0(), t0() + TimeDelta::minutes(1)).await;
            assert_eq!(by_time.unwrap().len(), 30, "page size {page_size}");
            assert_eq!(c.max_num_passing(&token).await.unwrap(), Some(30));
        }
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_server_that_repeats_pages_ends_the_read_when_its_page_is_short() {
    bounded(async {
        let sim = sim(SimConfig { page_size: 100, ignore_page: true, ..Default::default() }).await;
        let c = client(&sim);
        let (deviceid, token) = device_and_session(&c, "SN-PAGE-REPEAT").await;
        c.insert_passings(&token, &batch(1..=250)).await.unwrap();

        // Page 2 repeats page 1: the server ignores `page`. A page shorter than the contract's
        // 5000 cannot hide more in a conforming server, so it is taken as the whole answer,
        // once (a reconcile must never stall on such a server).
        let got = c.all_passings_by_range(&token, 1, 1000).await.unwrap();
        assert_eq!(got.len(), 100, "the repeated page is counted once");
        assert_eq!(c.max_num_passing(&token).await.unwrap(), Some(100));
        let got =
            c.all_passings_by_datetime(&deviceid, t0(), t0() + TimeDelta::hours(1)).await.unwrap();
        assert_eq!(got.len(), 100);
        // Every row fits on page 1: a server that ignores `page` gives all of it.
        sim.set_page_size(5000);
        assert_eq!(c.all_passings_by_range(&token, 1, 1000).await.unwrap().len(), 250);
        // A read whose first page is empty ends there, ignored `page` or not.
        assert!(c.all_passings_by_range(&token, 900, 1000).await.unwrap().is_empty());
        // Paging honoured again: everything is read.
        sim.set_ignore_page(false);
        sim.set_page_size(100);
        assert_eq!(c.all_passings_by_range(&token, 1, 1000).await.unwrap().len(), 250);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn numbers_sent_as_strings_are_read() {
    bounded(async {
        for envelope in [Envelope::Plain, Envelope::Wrapped] {
            let sim = sim(SimConfig {
                envelope,
                string_numbers: true,
                page_size: 4,
                ..Default::default()
            })
            .await;
            let c = client(&sim);
            let (deviceid, token) = device_and_session(&c, "SN-STRINGS").await;
            let outcome = c.insert_passings(&token, &batch(1..=10)).await.unwrap();
            assert_eq!((outcome.inserted_count, outcome.duplicate_count), (10, Some(0)));
            let again = c.insert_passings(&token, &batch(9..=11)).await.unwrap();
            assert_eq!((again.inserted_count, again.duplicate_count), (1, Some(2)));

            let all = c.all_passings_by_range(&token, 1, 100).await.unwrap();
            assert_eq!(nums(&all), (1..=11).collect::<Vec<_>>());
            assert_eq!(c.max_num_passing(&token).await.unwrap(), Some(11));
            let session = c.session(&token).await.unwrap();
            assert_eq!(session.passings, Some(11));
            assert_eq!(session.active, Some(true));
            let sessions = c.device_sessions(&deviceid).await.unwrap();
            assert_eq!(sessions.first().unwrap().passings, Some(11));
            let device = c.device(&deviceid).await.unwrap();
            assert_eq!((device.sessions, device.passings), (Some(1), Some(11)));
            let page = c.list_devices(1, 10).await.unwrap();
            let pagination = page.pagination.unwrap();
            assert_eq!(
                (pagination.page, pagination.limit, pagination.total),
                (Some(1), Some(10), Some(1))
            );
            assert_eq!(pagination.has_more, Some(false));
            assert_eq!(c.all_devices().await.unwrap().len(), 1);
            let polled =
                c.poll_passings(&deviceid, &rufus_api::PollQuery::default()).await.unwrap();
            assert_eq!(nums(&polled.passings), vec![1, 2, 3, 4]);
            sim.shutdown().await;
        }
    })
    .await;
}
