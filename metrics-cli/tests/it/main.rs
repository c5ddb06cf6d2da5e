//! Every integration test of the `cxm` binary in one test binary (one
//! link): one module per area.

mod bad;
mod cli;
mod html;
mod library;
mod render;
