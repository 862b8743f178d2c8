//! A RUFUS-compatible server for tests, demos and benchmarks (placeholder until written).
