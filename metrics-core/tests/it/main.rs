//! Every integration test of `metrics-core` in one binary (one link, as
//! polars, uv and ripgrep do): one module per area.

mod business;
mod common;
mod errors;
mod fixtures;
mod fuzz;
mod health;
mod presets;
mod properties;
mod purchases;
mod revenue;
mod revenue_properties;
mod sla_properties;
mod sql;
mod survey_properties;
mod surveys;
