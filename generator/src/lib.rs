//! ttfs-hdl's converter and command-line tool.
//!
//! - [`convert`]: ONNX (or the JSON model form) → folded float layers →
//!   calibrated time windows → integer network → `net.json`;
//! - [`generate`]: hardware for a network description;
//! - [`cosim`]: the generated hardware in Verilator or Icarus against the reference;
//! - [`data`]: data sets (IDX, `.npy`, CSV, gzipped or not);
//! - [`cmd`]: the `ttfs` subcommands;
//! - [`tools`]: running Verilator, Icarus, Yosys and nextpnr.

pub mod cmd;
pub mod convert;
pub mod cosim;
pub mod data;
pub mod generate;
pub mod report;
pub mod synth;
pub mod tools;
