//! Support shared by the drills, the desktop end-to-end tests and `cargo xtask screenshots`:
//! a small W3C WebDriver client, a desktop harness that runs the real app under Xvfb
//! through tauri-driver, and a participant list that looks like a race.

pub mod chaos;
pub mod desktop;
pub mod race;
pub mod webdriver;
