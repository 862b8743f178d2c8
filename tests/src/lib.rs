//! Support shared by the drills, the desktop end-to-end tests and `cargo xtask screenshots`:
//! a small W3C WebDriver client, and a desktop harness that runs the real app under Xvfb
//! through tauri-driver.

pub mod chaos;
pub mod desktop;
pub mod webdriver;
