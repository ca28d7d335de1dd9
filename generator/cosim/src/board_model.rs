//! The board wrapper of a generated design in Verilator, as `ttfs
//! board-sim` serves it: the wrapper (PLL model, power-on reset, UART,
//! framer, result sender, the flash reader for SPRAM weights) with a
//! model of the configuration flash holding the design's weights, driven
//! by a generated C++ harness (`rtl-templates/top/board_sim.cpp`) that
//! puts host bytes on the board's `uart_rx` and reads its `uart_tx` at the
//! wrapper's own bit timing. Built and cached like the co-simulation
//! library ([`crate::verilator`]).

use crate::verilator::{Built, Harness, build_library};
use anyhow::{Context, Result, bail};
use askama::Template;
use std::path::{Path, PathBuf};
use ttfs_hw::board::{self, BoardView};
use ttfs_hw::design::Design;
use ttfs_hw::view::{TopView, file_text};

/// The version of the harness's C interface (`TtfsBoardAbi`,
/// `TtfsBoardStep`); a library that reports another is refused at load.
pub const BOARD_ABI_VERSION: u32 = 1;

/// The Verilog top: the wrapper and its flash model.
#[derive(Template)]
#[template(path = "board_sim.v")]
struct TopTemplate<'a> {
    v: &'a TopView,
    b: &'a BoardView,
    wrapper: String,
    spram: bool,
    flash_hex: String,
}

/// The C++ harness.
#[derive(Template)]
#[template(path = "board_sim.cpp")]
struct HarnessTemplate<'a> {
    v: &'a TopView,
    b: &'a BoardView,
    wrapper: String,
    frame_bytes: u64,
    reply_bytes: u64,
    abi_version: u32,
}

/// Builds (or finds in the cache) the board simulation of `design` for
/// board `b` (as `ttfs_hw::board::board` makes it for the design).
pub fn build(design: &Design, view: &TopView, b: &BoardView) -> Result<Built> {
    let wrapper = board::module_name(view, b);
    if !design.files.contains_key(&format!("rtl/{wrapper}.v")) {
        bail!("the design has no board wrapper rtl/{wrapper}.v");
    }
    let spram = !view.loaders.is_empty();
    let top =
        TopTemplate { v: view, b, wrapper: wrapper.clone(), spram, flash_hex: "@BUILD@/mem/weights_spram.hex".into() }
            .render()
            .expect("the board simulation top renders");
    let cpp = HarnessTemplate {
        v: view,
        b,
        wrapper: wrapper.clone(),
        frame_bytes: board::frame_bytes(view),
        reply_bytes: board::reply_bytes(view),
        abi_version: BOARD_ABI_VERSION,
    }
    .render()
    .expect("the board harness renders");
    let harness = Harness {
        name: format!("{wrapper}_sim"),
        top: "ttfs_board_sim".into(),
        cpp: file_text(cpp),
        vlt: b"`verilator_config\n".to_vec(),
        extra: vec![("ttfs_board_sim.v".into(), top)],
        trace: false,
    };
    build_library(design, view, &harness)
}

type NewFn = unsafe extern "C" fn() -> *mut std::ffi::c_void;
type FreeFn = unsafe extern "C" fn(*mut std::ffi::c_void);
type StepFn = unsafe extern "C" fn(*mut std::ffi::c_void, *mut Step) -> i32;
type AbiFn = unsafe extern "C" fn(*mut BoardAbi);
type ErrorFn = unsafe extern "C" fn() -> *const std::ffi::c_char;

/// `TtfsBoardAbi` of the harness, field by field.
#[repr(C)]
#[derive(Default)]
struct BoardAbi {
    version: u32,
    step_bytes: u32,
    clks_per_bit: u64,
    frame_bytes: u64,
    reply_bytes: u64,
}

/// `TtfsBoardStep` of the harness, field by field.
#[repr(C)]
struct Step {
    input: *const u8,
    input_len: u64,
    output: *mut u8,
    output_cap: u64,
    output_len: u64,
    max_cycles: u64,
    quiet_stop: u64,
    cycle: u64,
    pending: u64,
    replies: u64,
    round_trip_cycles: u64,
    frame_errors: u64,
    ready: u32,
    fault: u32,
}

/// The board's state after a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardState {
    /// Cycles since power-up.
    pub cycle: u64,
    /// Host bytes not yet on the line.
    pub pending: u64,
    /// Complete replies since power-up.
    pub replies: u64,
    /// Their round trips summed, cycles: from the first bit of each frame
    /// to the last bit of its reply.
    pub round_trip_cycles: u64,
    /// Bytes from the board with a bad stop bit.
    pub frame_errors: u64,
    /// The ready LED is on.
    pub ready: bool,
    /// The error LED is on (a UART or framing error, sticky).
    pub fault: bool,
}

/// A simulated board (the library stays loaded while it lives). Not
/// `Send`: one thread drives it.
pub struct BoardModel {
    library: libloading::Library,
    handle: *mut std::ffi::c_void,
    build_dir: PathBuf,
    /// Cycles per UART bit of the simulated wrapper.
    pub clks_per_bit: u64,
}

/// The harness's message of the last stop, build paths taken out.
fn stop_message(library: &libloading::Library, build_dir: &Path) -> String {
    // SAFETY: ErrorFn matches `ttfs_board_error`, which returns a
    // NUL-terminated string valid until the next call on this thread.
    let raw = unsafe {
        match library.get::<ErrorFn>(b"ttfs_board_error") {
            Ok(f) => {
                let p = f();
                if p.is_null() { String::new() } else { std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned() }
            }
            Err(_) => String::new(),
        }
    };
    let text = raw.replace(&format!("{}/", build_dir.display()), "").trim().to_string();
    format!("the simulated board stopped with a fatal error: {}", if text.is_empty() { "(no message)" } else { &text })
}

impl BoardModel {
    /// Loads a library built by [`build`] for `view` and powers the board
    /// up (its initial blocks run; nothing is clocked yet).
    pub fn open(built: &Built, view: &TopView) -> Result<BoardModel> {
        // SAFETY: the library is the harness we built; its constructors
        // only set up Verilator's statics.
        let library = unsafe { libloading::Library::new(&built.library) }
            .with_context(|| format!("cannot load {}", built.library.display()))?;
        let mut abi = BoardAbi::default();
        // SAFETY: AbiFn matches `ttfs_board_abi`, which only writes the struct.
        unsafe {
            let f: libloading::Symbol<AbiFn> = library.get(b"ttfs_board_abi").with_context(|| {
                format!("{} is not a ttfs board simulation of this version", built.library.display())
            })?;
            f(&mut abi);
        }
        let expected = (BOARD_ABI_VERSION, std::mem::size_of::<Step>() as u32, board::reply_bytes(view));
        if (abi.version, abi.step_bytes, abi.reply_bytes) != expected {
            bail!(
                "{} was built for another interface or design (version {}, {}-byte steps, {}-byte replies; \
                 expected {expected:?}): clear the cache at {}",
                built.library.display(),
                abi.version,
                abi.step_bytes,
                abi.reply_bytes,
                crate::verilator::cache_dir().display()
            );
        }
        let build_dir = built.library.parent().map(Path::to_path_buf).unwrap_or_default();
        // SAFETY: NewFn matches `ttfs_board_new`.
        let handle = unsafe { library.get::<NewFn>(b"ttfs_board_new")?() };
        if handle.is_null() {
            bail!(stop_message(&library, &build_dir));
        }
        Ok(BoardModel { library, handle, build_dir, clks_per_bit: abi.clks_per_bit })
    }

    /// Queues `input` for the board's `uart_rx` and runs at most
    /// `max_cycles` cycles, stopping early once `quiet_stop` cycles (if not
    /// 0) have passed with nothing queued and neither line moving; appends
    /// what the board sent to `output`. Errors when the model stopped
    /// (`$fatal`, a runtime error).
    pub fn step(&mut self, input: &[u8], output: &mut Vec<u8>, max_cycles: u64, quiet_stop: u64) -> Result<BoardState> {
        // A byte takes 10·clks_per_bit cycles: this bounds what can arrive.
        let cap = (max_cycles / (10 * self.clks_per_bit.max(1))) as usize + 2;
        let mut buffer = vec![0u8; cap];
        let mut step = Step {
            input: input.as_ptr(),
            input_len: input.len() as u64,
            output: buffer.as_mut_ptr(),
            output_cap: cap as u64,
            output_len: 0,
            max_cycles,
            quiet_stop,
            cycle: 0,
            pending: 0,
            replies: 0,
            round_trip_cycles: 0,
            frame_errors: 0,
            ready: 0,
            fault: 0,
        };
        // SAFETY: StepFn matches `ttfs_board_step` (layout checked at
        // load); both buffers outlive the call, `output_cap` is the
        // buffer's length.
        let status = unsafe { self.library.get::<StepFn>(b"ttfs_board_step")?(self.handle, &mut step) };
        if status != 0 {
            bail!(stop_message(&self.library, &self.build_dir));
        }
        let n = (step.output_len as usize).min(cap);
        output.extend_from_slice(&buffer[..n]);
        Ok(BoardState {
            cycle: step.cycle,
            pending: step.pending,
            replies: step.replies,
            round_trip_cycles: step.round_trip_cycles,
            frame_errors: step.frame_errors,
            ready: step.ready != 0,
            fault: step.fault != 0,
        })
    }
}

impl Drop for BoardModel {
    fn drop(&mut self) {
        // SAFETY: FreeFn matches `ttfs_board_free`; the handle is freed once.
        unsafe {
            if let Ok(free) = self.library.get::<FreeFn>(b"ttfs_board_free") {
                free(self.handle);
            }
        }
    }
}
