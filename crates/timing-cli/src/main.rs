//! The `timing-cli` binary: everything lives in the library, so tests can build the same CLI.

fn main() -> std::process::ExitCode {
    timing_cli::main()
}
