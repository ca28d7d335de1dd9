//! ttfs-hdl on the desk: the host side of a generated design's board
//! wrapper. [`prog`] writes the right image into the board's flash
//! (`ttfs prog`), [`run`] sends images over the board's UART and checks
//! every reply against the integer reference (`ttfs run`), and
//! [`board_sim`] serves the Verilated wrapper on a pseudo-terminal so that
//! `ttfs run` is tested end to end without a board (`ttfs board-sim`).
//! [`protocol`] is the wire format they share.

pub mod board_sim;
pub mod prog;
pub mod protocol;
pub mod run;
