//! Verilating a generated design at run time into a shared library and
//! driving it through the generated C++ shim (`rtl-templates/top/cosim_shim.cpp`).
//!
//! Builds are cached by a hash of everything that goes into them (RTL,
//! memory images, shim, Verilator's and the compiler's versions, the CPU
//! that `-march=native` compiles for, options) under the cache
//! directory; Verilator's runtime objects are compiled once per Verilator
//! version. Each build happens in a private temporary directory that is
//! renamed into place, so concurrent runs never see a half-built library.

use anyhow::{Context, Result, bail};
use askama::Template;
use std::path::{Path, PathBuf};
use std::process::Command;
use ttfs_cosim_driver::{self as driver, TRANSLATE_FLAGS, Verilator};
use ttfs_hw::deref_to_view;
use ttfs_hw::design::Design;
use ttfs_hw::view::{TopView, file_text};
use ttfs_tools::{Tool, combined, run};

/// How Verilator translates the design beyond the shared
/// [`TRANSLATE_FLAGS`] (part of the cache key): generated designs are
/// linted by the tests, so warnings do not stop a co-simulation.
const VERILATOR_FLAGS: &[&str] = &["-Wno-fatal"];

/// Verilator's user hooks the shim defines (`vl_fatal`, `vl_stop`,
/// `vl_finish`): Verilator's own abort() the process; the shim's throw, and
/// its entry points turn that into an error code and a message
/// (`ttfs_error`). Part of the runtime's and the model's cache keys.
/// Verilator's printing (`VL_PRINTF`) goes through the shim too, which
/// keeps the last line the design printed for the stop's message (a
/// `$fatal`'s own text is printed before Verilator stops).
const USER_HOOKS: &[&str] =
    &["-DVL_USER_FATAL", "-DVL_USER_STOP", "-DVL_USER_FINISH", "-DVL_PRINTF=ttfs_vl_printf", "-include", HOOKS_HEADER];

/// The header every runtime and model source is compiled with
/// (`-include`): declares the shim's `VL_PRINTF`.
const HOOKS_HEADER: &str = "ttfs_hooks.h";

/// The text of [`HOOKS_HEADER`] (part of the cache keys with [`USER_HOOKS`]).
const HOOKS_TEXT: &str = "// ttfs-hdl co-simulation: Verilator's printf, defined by the shim.\n\
                          #pragma once\n\
                          extern int ttfs_vl_printf(const char* format, ...);\n";

/// How the model and the shim are compiled (part of the cache key).
const CXX_FLAGS: &[&str] = &[
    "-shared",
    "-fPIC",
    "-O3",
    "-march=native",
    "-std=c++17",
    "-w",
    "-fvisibility=hidden",
    "-fno-semantic-interposition",
];

/// One SPRAM weight memory as the shim's preload sees it.
#[derive(Clone, Debug)]
pub struct SpramMemory {
    /// Dense layer index.
    pub layer: usize,
    /// SB_SPRAM256KA blocks side by side.
    pub srams: usize,
}

/// The version of the shim's C interface (`ttfs_abi`, `TtfsRun`); a
/// library that reports another version, another `TtfsRun` size or another
/// design shape is refused at load.
///
/// Version 3: `ttfs_error`, `ttfs_new` may return null, and the entry
/// points return -3 when the model stops (`$fatal`, `$stop`, `$finish`, a
/// runtime error such as a malformed `$readmemh` image).
pub const SHIM_ABI_VERSION: u32 = 3;

/// The shim (`rtl-templates/top/cosim_shim.cpp`).
#[derive(Template)]
#[template(path = "cosim_shim.cpp")]
struct ShimTemplate<'a> {
    v: &'a TopView,
    trace: bool,
    spram_memories: Vec<SpramMemory>,
    abi_version: u32,
}

/// The Verilator configuration that makes the shim's signals public.
#[derive(Template)]
#[template(path = "cosim.vlt")]
struct VltTemplate<'a> {
    v: &'a TopView,
}

deref_to_view!(ShimTemplate, VltTemplate);

/// The FNV-1a 64-bit offset basis: the seed of a fresh fingerprint.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, 64 bits: a stable fingerprint for cache keys (chain calls by
/// passing the previous result as `seed`).
pub fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    bytes.iter().fold(seed, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Where builds are cached: `$TTFS_CACHE_DIR`, else `$XDG_CACHE_HOME/ttfs-hdl`,
/// else `~/.cache/ttfs-hdl`, else the system temporary directory.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TTFS_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("ttfs-hdl");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache/ttfs-hdl");
    }
    std::env::temp_dir().join("ttfs-hdl")
}

/// A built model, ready to load.
#[derive(Clone, Debug)]
pub struct Built {
    /// The shared library.
    pub library: PathBuf,
    /// Whether it came from the cache.
    pub cached: bool,
    /// Seconds spent building (0 when cached).
    pub seconds: f64,
}

/// Tool facts that go into every key.
struct Toolchain {
    verilator: Verilator,
    cxx: PathBuf,
    version: String,
    /// What `-march=native` means on this machine (the compiler's resolved
    /// target options): libraries are built for this CPU, so a cache shared
    /// between machines must not hand one to a CPU that lacks its
    /// instructions.
    cpu: u64,
}

fn toolchain() -> Result<Toolchain> {
    let verilator = Verilator::locate()?;
    let cxx = Tool::Cxx.locate()?;
    let cxx_version = combined(&run(Command::new(&cxx).arg("--version"))?);
    let first = cxx_version.lines().next().unwrap_or_default().to_string();
    let target = combined(&run(Command::new(&cxx).args(["-march=native", "-Q", "--help=target"]))?);
    let cpu = fnv1a(target.as_bytes(), FNV_OFFSET);
    let version = format!("{}; {first}", verilator.version);
    Ok(Toolchain { verilator, cxx, version, cpu })
}

/// Renames a finished build directory into place; another process may have
/// finished the same build first, in which case ours is dropped.
fn publish(tmp: &Path, fin: &Path) -> Result<()> {
    match std::fs::rename(tmp, fin) {
        Ok(()) => Ok(()),
        Err(_) if fin.join("done").exists() => {
            let _ = std::fs::remove_dir_all(tmp);
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("cannot move {} to {}", tmp.display(), fin.display())),
    }
}

fn private_dir(cache: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let dir = tempfile::Builder::new()
        .prefix(&format!(".{name}-"))
        .tempdir_in(cache)
        .with_context(|| format!("cannot create a build directory in {}", cache.display()))?;
    Ok(dir.keep())
}

fn defines(trace: bool) -> Vec<String> {
    driver::defines(trace).into_iter().map(|(k, v)| format!("-D{k}={v}")).collect()
}

/// `-I` for each of Verilator's include folders.
fn include_args(v: &Verilator) -> Vec<std::ffi::OsString> {
    v.include_dirs().into_iter().flat_map(|d| [std::ffi::OsString::from("-I"), d.into_os_string()]).collect()
}

/// Verilator's runtime objects, compiled once per toolchain and trace option.
fn runtime(tc: &Toolchain, cache: &Path, trace: bool) -> Result<Vec<PathBuf>> {
    let sources = driver::runtime_sources(trace);
    let key = fnv1a(format!("{}{trace}{USER_HOOKS:?}{HOOKS_TEXT}", tc.version).as_bytes(), FNV_OFFSET);
    let fin = cache.join(format!("runtime-{key:016x}"));
    let objects = |dir: &Path| sources.iter().map(|s| dir.join(s.replace(".cpp", ".o"))).collect::<Vec<_>>();
    if fin.join("done").exists() {
        return Ok(objects(&fin));
    }
    let tmp = private_dir(cache, "runtime")?;
    let include = tc.verilator.include();
    std::fs::write(tmp.join(HOOKS_HEADER), HOOKS_TEXT)?;
    for source in &sources {
        let mut cc = Command::new(&tc.cxx);
        cc.current_dir(&tmp)
            .args(["-c", "-fPIC", "-O2", "-std=c++17", "-w"])
            .args(defines(trace))
            .args(USER_HOOKS)
            .args(include_args(&tc.verilator))
            .arg(include.join(source))
            .arg("-o")
            .arg(tmp.join(source.replace(".cpp", ".o")));
        run(&mut cc)?;
    }
    std::fs::write(tmp.join("done"), &tc.version)?;
    publish(&tmp, &fin)?;
    Ok(objects(&fin))
}

/// What goes into one shared library besides the design's files: the C++
/// harness, the Verilator configuration, the top module and extra Verilog
/// sources. `@BUILD@` in an extra source stands for the final build
/// directory (where the design's memory images are read at run time).
pub(crate) struct Harness {
    /// Cache directory prefix and library name part.
    pub(crate) name: String,
    /// The module Verilator translates as the top.
    pub(crate) top: String,
    /// The C++ harness (`shim.cpp`).
    pub(crate) cpp: Vec<u8>,
    /// The Verilator configuration file.
    pub(crate) vlt: Vec<u8>,
    /// Extra Verilog sources: (file name, text).
    pub(crate) extra: Vec<(String, String)>,
    /// VCD tracing compiled in.
    pub(crate) trace: bool,
}

/// Builds (or finds in the cache) the shared library of `design`.
pub fn build(design: &Design, view: &TopView, trace: bool) -> Result<Built> {
    let spram_memories: Vec<SpramMemory> = view
        .layers
        .iter()
        .filter(|l| l.spram.is_some())
        .map(|l| SpramMemory { layer: l.index, srams: l.weight_word_bits.div_ceil(16) as usize })
        .collect();
    let shim = file_text(
        ShimTemplate { v: view, trace, spram_memories, abi_version: SHIM_ABI_VERSION }
            .render()
            .expect("the shim renders"),
    );
    let vlt = file_text(VltTemplate { v: view }.render().expect("the Verilator configuration renders"));
    build_library(
        design,
        view,
        &Harness { name: design.top.clone(), top: design.top.clone(), cpp: shim, vlt, extra: Vec::new(), trace },
    )
}

/// The version of what [`build_in`] does to the design's files before
/// Verilating them (part of the cache key: a library built by an older
/// recipe is not reused). 2: the record top's memory paths are made
/// absolute too.
const BUILD_RECIPE: u32 = 2;

/// Builds (or finds in the cache) a library with `harness` around the design.
pub(crate) fn build_library(design: &Design, view: &TopView, harness: &Harness) -> Result<Built> {
    let tc = toolchain()?;
    let cache = cache_dir().join("cosim");
    let mut key = fnv1a(tc.version.as_bytes(), FNV_OFFSET);
    key = fnv1a(&tc.cpu.to_le_bytes(), key);
    key = fnv1a(&BUILD_RECIPE.to_le_bytes(), key);
    key =
        fnv1a(format!("{TRANSLATE_FLAGS:?}{VERILATOR_FLAGS:?}{CXX_FLAGS:?}{USER_HOOKS:?}{HOOKS_TEXT}").as_bytes(), key);
    key = fnv1a(&harness.cpp, key);
    key = fnv1a(&harness.vlt, key);
    key = fnv1a(&[u8::from(harness.trace)], key);
    key = fnv1a(harness.top.as_bytes(), key);
    for (name, text) in &harness.extra {
        key = fnv1a(name.as_bytes(), key);
        key = fnv1a(text.as_bytes(), key);
    }
    for (path, bytes) in &design.files {
        if path.starts_with("rtl/") || path.starts_with("sim/") && !path.ends_with("_tb.v") || path.starts_with("mem/")
        {
            key = fnv1a(path.as_bytes(), key);
            key = fnv1a(bytes, key);
        }
    }
    let fin = cache.join(format!("{}-{key:016x}", harness.name));
    let library = fin.join(format!("libttfs_{}.so", harness.name));
    if fin.join("done").exists() {
        return Ok(Built { library, cached: true, seconds: 0.0 });
    }
    let started = std::time::Instant::now();
    let objects = runtime(&tc, &cache, harness.trace)?;
    let tmp = private_dir(&cache, &harness.name)?;
    let result = build_in(&tc, design, view, harness, &objects, &tmp, &fin);
    if result.is_err() {
        // A failed build leaves nothing behind in the cache.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result?;
    std::fs::write(tmp.join("done"), format!("{key:016x}\n"))?;
    publish(&tmp, &fin)?;
    Ok(Built { library, cached: false, seconds: started.elapsed().as_secs_f64() })
}

/// Verilates and compiles in `tmp` (which becomes `fin`).
fn build_in(
    tc: &Toolchain,
    design: &Design,
    view: &TopView,
    harness: &Harness,
    objects: &[PathBuf],
    tmp: &Path,
    fin: &Path,
) -> Result<()> {
    // The memory images are read by the model at run time, from the final
    // directory: the top is rendered with absolute paths there.
    for (path, bytes) in &design.files {
        if path.starts_with("rtl/") || path.starts_with("sim/") || path.starts_with("mem/") {
            let target = tmp.join(path);
            std::fs::create_dir_all(target.parent().expect("relative paths have a parent"))?;
            std::fs::write(&target, bytes)?;
        }
    }
    // The top and, in a file classifier's design, the record top `<top>_records`
    // read the layers' images.
    for top_file in [format!("rtl/{}.v", design.top), format!("rtl/{}_records.v", design.top)] {
        let Some(bytes) = design.files.get(&top_file) else { continue };
        let mut top_text = String::from_utf8_lossy(bytes).into_owned();
        for l in &view.layers {
            for file in [&l.weight_file, &l.bias_file] {
                if !file.is_empty() {
                    top_text = top_text.replace(&format!("\"{file}\""), &format!("\"{}\"", fin.join(file).display()));
                }
            }
        }
        std::fs::write(tmp.join(&top_file), top_text)?;
    }
    let mut extra = Vec::new();
    for (name, text) in &harness.extra {
        std::fs::write(tmp.join(name), text.replace("@BUILD@", &fin.display().to_string()))?;
        extra.push(name.clone());
    }
    std::fs::write(tmp.join("cosim.vlt"), &harness.vlt)?;
    std::fs::write(tmp.join("shim.cpp"), &harness.cpp)?;
    std::fs::write(tmp.join(HOOKS_HEADER), HOOKS_TEXT)?;
    let rtl: Vec<&String> = design.files.keys().filter(|p| p.starts_with("rtl/")).collect();
    let mut verilate = tc.verilator.translate();
    verilate
        .current_dir(tmp)
        .args(VERILATOR_FLAGS)
        .args(if harness.trace { vec!["--trace"] } else { vec![] })
        .args(["-y", "sim", "-Mdir", "obj", "--top-module", &harness.top, "cosim.vlt"])
        .args(&rtl)
        .args(&extra);
    run(&mut verilate)?;
    let mut includes = String::new();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(tmp.join("obj"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cpp"))
        .collect();
    sources.sort();
    for source in sources {
        includes.push_str(&format!("#include \"{}\"\n", source.file_name().unwrap().to_string_lossy()));
    }
    std::fs::write(tmp.join("obj/all_sources.inc"), includes)?;
    let mut cc = Command::new(&tc.cxx);
    cc.current_dir(tmp)
        .args(CXX_FLAGS)
        .args(defines(harness.trace))
        .args(USER_HOOKS)
        .args(["-I", "obj"])
        .args(include_args(&tc.verilator))
        .arg("shim.cpp")
        .args(objects)
        .arg("-o")
        .arg(format!("libttfs_{}.so", harness.name))
        .arg("-lpthread");
    run(&mut cc)?;
    Ok(())
}

type NewFn = unsafe extern "C" fn(*const std::ffi::c_char) -> *mut std::ffi::c_void;
type FreeFn = unsafe extern "C" fn(*mut std::ffi::c_void);
type CyclesFn = unsafe extern "C" fn(*mut std::ffi::c_void) -> u64;
type LoadFn = unsafe extern "C" fn(*mut std::ffi::c_void, *const u8, u64, u64) -> i32;
type PreloadFn = unsafe extern "C" fn(*mut std::ffi::c_void, u32, *const u64, u64) -> i32;
/// `TtfsAbi` of the shim, field by field.
#[repr(C)]
#[derive(Default)]
struct ShimAbi {
    version: u32,
    run_request_bytes: u32,
    inputs: u64,
    classes: u64,
}

/// `TtfsRun` of the shim, field by field: one call of `ttfs_run`.
#[repr(C)]
struct RunRequest {
    pixels: *const u16,
    images: u64,
    trace_image: i64,
    max_cycles: u64,
    classes: *mut u32,
    logits: *mut i64,
    latency: *mut u64,
    at: *mut u64,
    spikes: *mut u32,
    spike_cap: u64,
    spike_count: u64,
    stream: u32,
    reserved: u32,
}

type AbiFn = unsafe extern "C" fn(*mut ShimAbi);
type ErrorFn = unsafe extern "C" fn() -> *const std::ffi::c_char;

/// What an entry point of the shim returns when the model stopped.
const STOPPED: i32 = -3;

/// The simulated design stopped: a `$fatal`, `$stop` or `$finish` in its
/// Verilog, or an error of Verilator's runtime (a malformed `$readmemh`
/// image, say), caught by the shim instead of aborting the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesignStopped {
    /// Where and why, as the model reported it (`FILE:LINE: message`, the
    /// file relative to the design where it is one of the design's).
    pub message: String,
}

impl std::fmt::Display for DesignStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the simulated design stopped with a fatal error: {}", self.message)
    }
}

impl std::error::Error for DesignStopped {}

/// The shim's message of the last stop on this thread, with the build
/// directory (where the model's copies of the design's files are) taken
/// out of paths, so that they read as the design's own (`rtl/x.v`).
fn stop_message(library: &libloading::Library, build_dir: &Path) -> DesignStopped {
    // SAFETY: ErrorFn matches `ttfs_error`, which returns a NUL-terminated
    // string that stays valid until the next call on this thread.
    let raw = unsafe {
        match library.get::<ErrorFn>(b"ttfs_error") {
            Ok(f) => {
                let p = f();
                if p.is_null() { String::new() } else { std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned() }
            }
            Err(_) => String::new(),
        }
    };
    let prefix = format!("{}/", build_dir.display());
    let message = raw.replace(&prefix, "").trim().to_string();
    DesignStopped { message: if message.is_empty() { "(no message)".into() } else { message } }
}
type RunFn = unsafe extern "C" fn(*mut std::ffi::c_void, *mut RunRequest) -> i32;

/// Checks that a library speaks this shim interface for `view`'s shape.
fn check_abi(library: &libloading::Library, path: &Path, view: &TopView) -> Result<()> {
    let mut abi = ShimAbi::default();
    // SAFETY: AbiFn matches `ttfs_abi`, which only writes the struct.
    unsafe {
        let f: libloading::Symbol<AbiFn> = library.get(b"ttfs_abi").with_context(|| {
            format!("{} is not a ttfs co-simulation library of this version (no ttfs_abi)", path.display())
        })?;
        f(&mut abi);
    }
    let expected = (SHIM_ABI_VERSION, std::mem::size_of::<RunRequest>(), view.n_in as u64, view.classes as u64);
    let found = (abi.version, abi.run_request_bytes as usize, abi.inputs, abi.classes);
    if found != expected {
        bail!(
            "{} was built for another interface or design: shim version {}, {}-byte run requests, {} inputs, {} classes; \
             this ttfs expects version {}, {} bytes, {} inputs, {} classes (clear the cache at {})",
            path.display(),
            found.0,
            found.1,
            found.2,
            found.3,
            expected.0,
            expected.1,
            expected.2,
            expected.3,
            cache_dir().display()
        );
    }
    Ok(())
}

/// A loaded model instance (the library stays loaded while it lives).
pub struct Model {
    library: libloading::Library,
    /// The build directory (the model's copies of the design's files).
    build_dir: PathBuf,
    handle: *mut std::ffi::c_void,
    classes: usize,
    inputs: usize,
}

/// What one run of images produced.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    /// Class per image.
    pub classes: Vec<u32>,
    /// Logits, `classes` per image.
    pub logits: Vec<i64>,
    /// Latency per image.
    pub latency: Vec<u64>,
    /// Cycle of each result.
    pub at: Vec<u64>,
    /// Hidden spikes as (layer, image, neuron, q).
    pub spikes: Vec<[u32; 4]>,
    /// Simulated cycles.
    pub cycles: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Model {
    /// Loads a built library and creates a model instance (reset applied);
    /// `vcd` opens a waveform file (the library must be built with trace).
    pub fn open(built: &Built, view: &TopView, vcd: Option<&Path>) -> Result<Model> {
        // SAFETY: the library is the shim we just built; its constructors
        // only set up Verilator's statics.
        let library = unsafe { libloading::Library::new(&built.library) }
            .with_context(|| format!("cannot load {}", built.library.display()))?;
        check_abi(&library, &built.library, view)?;
        let path = vcd.map(|p| std::ffi::CString::new(p.to_string_lossy().as_bytes())).transpose()?;
        // SAFETY: `ttfs_new` has the signature of NewFn (cosim_shim.cpp).
        let handle = unsafe {
            let new: libloading::Symbol<NewFn> = library.get(b"ttfs_new")?;
            new(path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()))
        };
        let build_dir = built.library.parent().map(Path::to_path_buf).unwrap_or_default();
        if handle.is_null() {
            // The model stopped while it reset (its initial blocks ran).
            return Err(stop_message(&library, &build_dir).into());
        }
        Ok(Model { library, build_dir, handle, classes: view.classes, inputs: view.n_in })
    }

    /// Cycles since reset.
    pub fn cycles(&self) -> u64 {
        // SAFETY: CyclesFn matches `ttfs_cycles`; the handle is live.
        unsafe { self.library.get::<CyclesFn>(b"ttfs_cycles").map(|f| f(self.handle)).unwrap_or(0) }
    }

    /// Sends the weight bytes through the design's loaders.
    pub fn load(&mut self, bytes: &[u8]) -> Result<u64> {
        let before = self.cycles();
        // SAFETY: LoadFn matches `ttfs_load`; the slice outlives the call.
        let status = unsafe {
            let load: libloading::Symbol<LoadFn> = self.library.get(b"ttfs_load")?;
            load(self.handle, bytes.as_ptr(), bytes.len() as u64, 4 * bytes.len() as u64 + 1000)
        };
        match status {
            0 => {}
            STOPPED => return Err(stop_message(&self.library, &self.build_dir).into()),
            _ => bail!("the design did not finish loading its {} weight bytes", bytes.len()),
        }
        Ok(self.cycles() - before)
    }

    /// Writes SPRAM memory `memory` directly and marks its loader done.
    pub fn preload(&mut self, memory: u32, words: &[u64]) -> Result<()> {
        // SAFETY: PreloadFn matches `ttfs_preload`; the slice outlives the call.
        let status = unsafe {
            let preload: libloading::Symbol<PreloadFn> = self.library.get(b"ttfs_preload")?;
            preload(self.handle, memory, words.as_ptr(), words.len() as u64)
        };
        match status {
            0 => {}
            STOPPED => return Err(stop_message(&self.library, &self.build_dir).into()),
            _ => bail!("cannot preload SPRAM memory {memory} with {} words", words.len()),
        }
        Ok(())
    }

    /// Runs images (pixel codes, `inputs` per image).
    pub fn run(
        &mut self,
        codes: &[u16],
        stream: bool,
        trace_image: Option<usize>,
        max_cycles: u64,
        spike_cap: usize,
    ) -> Result<RunOutput> {
        let images = codes.len() / self.inputs;
        let mut out = RunOutput {
            classes: vec![0; images],
            logits: vec![0; images * self.classes],
            latency: vec![0; images],
            at: vec![0; images],
            spikes: vec![[0; 4]; spike_cap],
            ..RunOutput::default()
        };
        let mut request = RunRequest {
            pixels: codes.as_ptr(),
            images: images as u64,
            trace_image: trace_image.map_or(-1, |i| i as i64),
            max_cycles,
            classes: out.classes.as_mut_ptr(),
            logits: out.logits.as_mut_ptr(),
            latency: out.latency.as_mut_ptr(),
            at: out.at.as_mut_ptr(),
            spikes: out.spikes.as_mut_ptr().cast::<u32>(),
            spike_cap: spike_cap as u64,
            spike_count: 0,
            stream: u32::from(stream),
            reserved: 0,
        };
        let before = self.cycles();
        let started = std::time::Instant::now();
        // SAFETY: RunFn matches `ttfs_run` (the layout was checked at load);
        // every buffer holds what the shim writes (images, images·classes,
        // spike_cap quadruples) and outlives the call.
        let status = unsafe {
            let run_fn: libloading::Symbol<RunFn> = self.library.get(b"ttfs_run")?;
            run_fn(self.handle, &mut request)
        };
        let spike_count = request.spike_count;
        out.seconds = started.elapsed().as_secs_f64();
        out.cycles = self.cycles() - before;
        match status {
            0 => {}
            -1 => bail!("the design stopped making progress (no pixel taken and no result for {max_cycles} cycles)"),
            -2 => bail!("the design flagged an input error (an image with the wrong number of pixels)"),
            STOPPED => return Err(stop_message(&self.library, &self.build_dir).into()),
            s => bail!("the co-simulation shim failed ({s})"),
        }
        if spike_count as usize > spike_cap {
            bail!("more hidden spikes ({spike_count}) than any correct design emits ({spike_cap})");
        }
        out.spikes.truncate(spike_count as usize);
        Ok(out)
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: FreeFn matches `ttfs_free`; the handle is freed once.
        unsafe {
            if let Ok(free) = self.library.get::<FreeFn>(b"ttfs_free") {
                free(self.handle);
            }
        }
    }
}
