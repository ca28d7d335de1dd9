//! ttfs-hdl's end-to-end flow and its report.
//!
//! - [`pipeline`]: convert → sim → generate → cosim → synth on one model,
//!   with progress, a summary table and the report (`ttfs flow`);
//! - [`report`]: `report.md`, a self-contained `report.html` with SVG plots,
//!   and their data;
//! - [`sim_stage`]: the reference simulators on a data file (`ttfs sim`).

pub mod pipeline;
pub mod report;
pub mod sim_stage;

pub use pipeline::{Args, FlowFailed, FlowResult, run};
