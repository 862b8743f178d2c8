//! The `timing-cli` binary, built inside the drills package so its tests can run it as a process.

fn main() -> std::process::ExitCode {
    timing_cli::main()
}
