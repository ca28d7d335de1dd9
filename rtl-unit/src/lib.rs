//! The hand-written RTL blocks, verilated at build time (see `build.rs`),
//! as Rust values that tests drive port by port and cycle by cycle.
//!
//! This crate exists for tests only; the `ttfs` tool never links it, so
//! building the tool never needs Verilator.

use std::ffi::c_void;

/// A verilated block: its C entry points, ports and parameters.
pub struct Spec {
    /// Creates a model.
    pub new: unsafe extern "C" fn() -> *mut c_void,
    /// Frees it.
    pub free: unsafe extern "C" fn(*mut c_void),
    /// Sets an input port (by index in `ports`).
    pub set: unsafe extern "C" fn(*mut c_void, u32, u64),
    /// Reads a port.
    pub get: unsafe extern "C" fn(*mut c_void, u32) -> u64,
    /// Evaluates the model.
    pub eval: unsafe extern "C" fn(*mut c_void),
    /// Ports: name and width in bits (at most 64).
    pub ports: &'static [(&'static str, u32)],
    /// The parameters it was verilated with.
    pub params: &'static [(&'static str, i64)],
}

/// The blocks `build.rs` verilated (empty without Verilator).
pub mod blocks {
    include!(concat!(env!("OUT_DIR"), "/blocks.rs"));
}

/// Whether the blocks were built (Verilator was found at build time).
pub const AVAILABLE: bool = cfg!(not(ttfs_no_verilator));

/// A live model of one block.
pub struct Block {
    spec: &'static Spec,
    model: *mut c_void,
    /// Rising edges since creation.
    pub cycle: u64,
}

impl Block {
    /// A new model; inputs are 0 and the clock low.
    pub fn new(spec: &'static Spec) -> Block {
        // SAFETY: `new` is the generated constructor of this block.
        let model = unsafe { (spec.new)() };
        Block { spec, model, cycle: 0 }
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> i64 {
        self.spec.params.iter().find(|p| p.0 == name).map(|p| p.1).unwrap_or_else(|| panic!("no parameter {name}"))
    }

    fn port(&self, name: &str) -> (u32, u32) {
        let i = self.spec.ports.iter().position(|p| p.0 == name).unwrap_or_else(|| panic!("no port {name}"));
        (i as u32, self.spec.ports[i].1)
    }

    /// Drives an input (two's complement values are cut to the port's width).
    pub fn set(&mut self, name: &str, value: i64) {
        let (i, w) = self.port(name);
        let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
        // SAFETY: i indexes this block's ports.
        unsafe { (self.spec.set)(self.model, i, value as u64 & mask) }
    }

    /// Reads a port as an unsigned value.
    pub fn get(&self, name: &str) -> u64 {
        let (i, _) = self.port(name);
        // SAFETY: i indexes this block's ports.
        unsafe { (self.spec.get)(self.model, i) }
    }

    /// Reads a port as a signed (two's complement) value.
    pub fn get_signed(&self, name: &str) -> i64 {
        let (_, w) = self.port(name);
        let v = self.get(name);
        if w < 64 && (v >> (w - 1)) & 1 == 1 { (v | !((1u64 << w) - 1)) as i64 } else { v as i64 }
    }

    /// Settles combinational logic after input changes (clock low).
    pub fn settle(&mut self) {
        self.set("clk", 0);
        // SAFETY: the model is live.
        unsafe { (self.spec.eval)(self.model) }
    }

    /// One rising edge, then the clock low again with outputs settled.
    pub fn tick(&mut self) {
        self.settle();
        self.set("clk", 1);
        // SAFETY: the model is live.
        unsafe { (self.spec.eval)(self.model) }
        self.cycle += 1;
        self.settle();
    }

    /// Holds reset for `cycles` edges.
    pub fn reset(&mut self, cycles: usize) {
        self.set("rst", 1);
        for _ in 0..cycles {
            self.tick();
        }
        self.set("rst", 0);
        self.settle();
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: freed once.
        unsafe { (self.spec.free)(self.model) }
    }
}
