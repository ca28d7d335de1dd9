//! Verilates the hand-written blocks of `rtl-templates/lib` (a few
//! parameter sets each), wraps each model in a small C interface (set, get,
//! eval by port number) and compiles everything with the `cc` crate into
//! one static library; writes `blocks.rs` with the port numbers.
//!
//! Without Verilator the crate still builds (with a warning) and its tests
//! say they are skipped; under CI (`CI=true`) a missing Verilator fails the
//! build.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use ttfs_cosim_driver::{self as driver, Verilator};
use ttfs_tools::ToolError;

/// A port of a block: name and width (at most 64 bits).
type Port = (&'static str, u32);

/// One verilated instance: a name, the module, its parameters, its ports.
struct Instance {
    name: &'static str,
    module: &'static str,
    params: &'static [(&'static str, i64)],
    ports: &'static [Port],
}

const FIRE_PORTS: &[Port] = &[
    ("clk", 1),
    ("rst", 1),
    ("ce", 1),
    ("in_valid", 1),
    ("in_v", 0), // width from VW
    ("in_tag", 16),
    ("out_valid", 1),
    ("out_q", 0), // width from QW
    ("out_tag", 16),
];

const QUEUE_PORTS: &[Port] = &[
    ("clk", 1),
    ("rst", 1),
    ("in_valid", 1),
    ("in_ready", 1),
    ("in_last", 1),
    ("in_idx", 6),
    ("in_q", 5),
    ("out_valid", 1),
    ("out_ready", 1),
    ("out_last", 1),
    ("out_idx", 6),
    ("out_q", 5),
    ("images", 5),
];

const READOUT_PORTS: &[Port] = &[
    ("clk", 1),
    ("rst", 1),
    ("in_valid", 1),
    ("in_ready", 1),
    ("in_last", 1),
    ("in_idx", 3),
    ("in_v", 12),
    ("res_valid", 1),
    ("res_ready", 1),
    ("res_class", 3),
    ("res_logits", 60),
    ("error", 1),
];

const ENCODER_PORTS: &[Port] = &[
    ("clk", 1),
    ("rst", 1),
    ("s_valid", 1),
    ("s_ready", 1),
    ("s_last", 1),
    ("s_data", 4),
    ("out_valid", 1),
    ("out_ready", 1),
    ("out_last", 1),
    ("out_idx", 4),
    ("out_q", 4),
    ("error", 1),
];

const FILES_ENCODER_PORTS: &[Port] = &[
    ("clk", 1),
    ("rst", 1),
    ("s_valid", 1),
    ("s_ready", 1),
    ("s_last", 1),
    ("s_key", 0), // width from KEY_W
    ("s_code", 32),
    ("out_valid", 1),
    ("out_ready", 1),
    ("out_last", 1),
    ("out_idx", 0), // width from IDX_W
    ("out_q", 0),   // width from QW
    ("error", 1),
];

const INSTANCES: &[Instance] = &[
    Instance {
        name: "fire_wide",
        module: "ttfs_fire",
        params: &[("VW", 24), ("QW", 8), ("BETA", 1003), ("SPS", 1), ("TAG_W", 16)],
        ports: FIRE_PORTS,
    },
    Instance {
        name: "fire_narrow",
        module: "ttfs_fire",
        params: &[("VW", 10), ("QW", 4), ("BETA", 5), ("SPS", 3), ("TAG_W", 16)],
        ports: FIRE_PORTS,
    },
    Instance {
        name: "fire_unit_beta",
        module: "ttfs_fire",
        params: &[("VW", 12), ("QW", 6), ("BETA", 1), ("SPS", 2), ("TAG_W", 16)],
        ports: FIRE_PORTS,
    },
    Instance {
        name: "spike_queue",
        module: "ttfs_spike_queue",
        params: &[("IDX_W", 6), ("Q_W", 5), ("ADDR_W", 4)],
        ports: QUEUE_PORTS,
    },
    Instance {
        name: "readout",
        module: "ttfs_readout",
        params: &[("N", 5), ("VW", 12), ("CLS_W", 3)],
        ports: READOUT_PORTS,
    },
    Instance {
        name: "encoder",
        module: "ttfs_input_encoder",
        params: &[("N_IN", 12), ("QW", 4), ("IDX_W", 4)],
        ports: ENCODER_PORTS,
    },
    // The parameter sets of files/tests/encoder_vectors.rs (the Rust
    // reference's vectors): Encoding::default() over 12 keys; W = 3 (the
    // serial divider), M = 5, T = 8, a seed with the top bit set; M = 20
    // (the neuron stage the bottleneck), W = 1; T = 1.
    Instance {
        name: "files_encoder",
        module: "ttfs_files_encoder",
        params: &[
            ("KEYS", 12),
            ("M", 8),
            ("T", 16),
            ("W", 4),
            ("SEED", 1),
            ("QW", 4),
            ("Q", 9),
            ("KEY_W", 4),
            ("IDX_W", 11),
        ],
        ports: FILES_ENCODER_PORTS,
    },
    Instance {
        name: "files_encoder_w3",
        module: "ttfs_files_encoder",
        params: &[
            ("KEYS", 5),
            ("M", 5),
            ("T", 8),
            ("W", 3),
            ("SEED", 0x9e37_79b9),
            ("QW", 1),
            ("Q", 1),
            ("KEY_W", 3),
            ("IDX_W", 8),
        ],
        ports: FILES_ENCODER_PORTS,
    },
    Instance {
        name: "files_encoder_m20",
        module: "ttfs_files_encoder",
        params: &[
            ("KEYS", 3),
            ("M", 20),
            ("T", 4),
            ("W", 1),
            ("SEED", 7),
            ("QW", 2),
            ("Q", 3),
            ("KEY_W", 2),
            ("IDX_W", 8),
        ],
        ports: FILES_ENCODER_PORTS,
    },
    Instance {
        name: "files_encoder_t1",
        module: "ttfs_files_encoder",
        params: &[
            ("KEYS", 2),
            ("M", 3),
            ("T", 1),
            ("W", 2),
            ("SEED", 0xffff_ffff),
            ("QW", 3),
            ("Q", 5),
            ("KEY_W", 2),
            ("IDX_W", 3),
        ],
        ports: FILES_ENCODER_PORTS,
    },
];

/// The width of a port whose table entry is 0 (parameter-sized).
fn width(inst: &Instance, port: &Port) -> u32 {
    if port.1 != 0 {
        return port.1;
    }
    let param = |name: &str| inst.params.iter().find(|p| p.0 == name).map(|p| p.1 as u32).unwrap_or(1);
    match port.0 {
        "in_v" => param("VW"),
        "out_q" => param("QW"),
        "s_key" => param("KEY_W"),
        "out_idx" => param("IDX_W"),
        other => panic!("no width for {other}"),
    }
}

fn run(cmd: &mut Command) {
    ttfs_tools::run(cmd).unwrap_or_else(|e| panic!("{e}"));
}

/// The C interface of one model.
fn wrapper(inst: &Instance) -> String {
    let class = format!("V{}", inst.name);
    let mut set = String::new();
    let mut get = String::new();
    for (i, port) in inst.ports.iter().enumerate() {
        let _ = writeln!(set, "        case {i}: m->{} = v; break;", port.0);
        let _ = writeln!(get, "        case {i}: return (uint64_t)m->{};", port.0);
    }
    format!(
        r#"// Generated by rtl-unit/build.rs.
#include "{class}.h"
#include "verilated.h"
#include <cstdint>

struct {class}_box {{
    VerilatedContext ctx;
    {class}* model;
}};

extern "C" {{
void* {name}_new() {{
    auto* b = new {class}_box();
    b->model = new {class}(&b->ctx, "{name}");
    return b;
}}
void {name}_free(void* p) {{
    auto* b = ({class}_box*)p;
    b->model->final();
    delete b->model;
    delete b;
}}
void {name}_set(void* p, uint32_t port, uint64_t v) {{
    auto* m = (({class}_box*)p)->model;
    switch (port) {{
{set}        default: break;
    }}
}}
uint64_t {name}_get(void* p, uint32_t port) {{
    auto* m = (({class}_box*)p)->model;
    switch (port) {{
{get}        default: return 0;
    }}
}}
void {name}_eval(void* p) {{ (({class}_box*)p)->model->eval(); }}
}}
"#,
        name = inst.name
    )
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let lib = manifest.join("../rtl-templates/lib");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo::rerun-if-changed=../rtl-templates/lib");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=VERILATOR");
    println!("cargo::rustc-check-cfg=cfg(ttfs_no_verilator)");
    let mut rust = String::from("// Generated by rtl-unit/build.rs: the verilated blocks and their ports.\n");
    let verilator = match Verilator::locate() {
        Ok(v) => v,
        Err(ToolError::Missing { .. }) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI needs verilator to build the RTL unit tests: apt-get install verilator");
            }
            println!(
                "cargo::warning=verilator is not installed: the RTL unit tests will be skipped (apt-get install verilator)"
            );
            println!("cargo::rustc-cfg=ttfs_no_verilator");
            std::fs::write(out.join("blocks.rs"), rust).unwrap();
            return;
        }
        Err(e) => panic!("{e}"),
    };
    // The runtime, defines and include paths are the co-simulation's
    // (ttfs-cosim-driver); only the compiler driver differs (cc here).
    let mut build = cc::Build::new();
    build.cpp(true).std("c++17").warnings(false).opt_level(2);
    for dir in verilator.include_dirs() {
        build.include(dir);
    }
    for (name, value) in driver::defines(false) {
        build.define(name, value);
    }
    for source in driver::runtime_sources(false) {
        build.file(verilator.include().join(source));
    }
    for inst in INSTANCES {
        let dir = out.join(inst.name);
        let _ = std::fs::remove_dir_all(&dir);
        let mut cmd = verilator.translate();
        cmd.arg("-Wall")
            .arg("--prefix")
            .arg(format!("V{}", inst.name))
            .arg("--top-module")
            .arg(inst.module)
            .arg("-y")
            .arg(&lib)
            .arg("-Mdir")
            .arg(&dir);
        for (name, value) in inst.params {
            cmd.arg(format!("-G{name}={value}"));
        }
        cmd.arg(lib.join(format!("{}.v", inst.module)));
        run(&mut cmd);
        std::fs::write(dir.join("wrap.cpp"), wrapper(inst)).unwrap();
        build.include(&dir).file(dir.join("wrap.cpp"));
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "cpp") && !p.ends_with("wrap.cpp"))
            .collect();
        sources.sort();
        for s in sources {
            build.file(s);
        }
        let upper = inst.name.to_uppercase();
        let _ = writeln!(rust, "\n/// `{}` with {:?}.", inst.module, inst.params);
        let _ = writeln!(rust, "pub const {upper}: crate::Spec = crate::Spec {{");
        let _ = writeln!(rust, "    new: {}_new, free: {}_free,", inst.name, inst.name);
        let _ = writeln!(rust, "    set: {}_set, get: {}_get, eval: {}_eval,", inst.name, inst.name, inst.name);
        let ports: Vec<String> = inst.ports.iter().map(|p| format!("(\"{}\", {})", p.0, width(inst, p))).collect();
        let _ = writeln!(rust, "    ports: &[{}],", ports.join(", "));
        let params: Vec<String> = inst.params.iter().map(|p| format!("(\"{}\", {})", p.0, p.1)).collect();
        let _ = writeln!(rust, "    params: &[{}],", params.join(", "));
        let _ = writeln!(rust, "}};");
        let _ = writeln!(
            rust,
            "unsafe extern \"C\" {{\n    fn {n}_new() -> *mut core::ffi::c_void;\n    fn {n}_free(p: *mut core::ffi::c_void);\n    fn {n}_set(p: *mut core::ffi::c_void, port: u32, v: u64);\n    fn {n}_get(p: *mut core::ffi::c_void, port: u32) -> u64;\n    fn {n}_eval(p: *mut core::ffi::c_void);\n}}",
            n = inst.name
        );
    }
    build.compile("ttfs_rtl_unit");
    std::fs::write(out.join("blocks.rs"), rust).unwrap();
}
