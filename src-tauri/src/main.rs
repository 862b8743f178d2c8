//! The desktop app's entry point; everything lives in the library so tests can build the app
//! on Tauri's mock runtime.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    timing_console::run()
}
