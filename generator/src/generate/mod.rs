//! `ttfs generate`: Verilog for a network description (issue 3, in progress).

pub mod plan;
pub mod rom;
pub mod target;
