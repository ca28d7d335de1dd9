//! Training TTFS networks through their spike times (paper 2, `seeds.md`
//! A.3 and C.1–C.3).
//!
//! The tensors and the autodiff come from candle (`candle-core`, CPU, f64);
//! the spike-time layers are custom ops with their own backward passes
//! ([`ops`]): paper 2's constant-slope (`b1`) neuron, first-spike pooling,
//! and paper 1's α/J neuron with its sort and first-crossing search. The
//! forward pass runs in spike times inside back-to-back windows that adapt
//! after every step as the authors' code does ([`net`]).
//!
//! `ttfs train` ([`stage`]) trains from an architecture string ([`spec`]),
//! checkpoints every epoch ([`checkpoint`]), and writes a network
//! description through the converter's own calibration and quantization
//! passes ([`export`]), evaluated with the discrete (hardware) simulator.
//! This crate depends on the IR, data, simulator and conversion crates and
//! on none of the hardware crates.

pub mod checkpoint;
pub mod data;
pub mod epoch;
pub mod export;
pub mod finetune;
pub mod gradients;
pub mod net;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod spec;
pub mod stage;
