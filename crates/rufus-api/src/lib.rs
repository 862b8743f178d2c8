//! Typed async client for the RUFUS Cloud public API v0 (placeholder until written).
