//! Parsing of text values: timestamps, numbers, booleans, durations.

pub mod timestamp;
pub mod values;
