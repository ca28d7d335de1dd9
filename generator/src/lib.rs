//! ttfs-hdl's converter and command-line tool.
//!
//! - [`convert`]: ONNX (or the JSON model form) → folded float layers →
//!   calibrated time windows → integer network → `net.json`;
//! - [`data`]: data sets (IDX, `.npy`, CSV, gzipped or not);
//! - [`cmd`]: the `ttfs` subcommands.

pub mod cmd;
pub mod convert;
pub mod data;
