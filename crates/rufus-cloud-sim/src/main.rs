//! `rufus-cloud-sim` binary (placeholder until written).
fn main() {}
