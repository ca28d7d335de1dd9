//! The ECP5 fit data of the pre-synthesis logic estimate
//! (`generator/hw/src/estimate.rs`, [`ttfs_hw::estimate::ECP5_COEFFICIENTS`]):
//! for each design below, the estimate's terms, its estimate in LUT4s, and
//! the LUT4s (TRELLIS_COMB) nextpnr-ecp5 packs from YoWASP Yosys's
//! `synth_ecp5` netlist of the ULX3S board wrapper (`--pack-only`).
//!
//! The designs: the digits MLP (64-32-10) on the LFE5U-25F at 1, 2, 8 and
//! all lanes (all: layer 0's 32 lanes past the 28 multipliers, so logic
//! multipliers there), and the MNIST MLP (784-128-10, every weight in block
//! RAM) at 43/1 lanes (`--lanes auto`); 8-bit time codes; converted like the iCE40 fit data
//! (`common::FIT_CALIB_SAMPLES`).
//!
//! Writes `benches/estimate_fit_ecp5.csv` (committed; `tests/estimate_ecp5.rs`
//! checks the estimate against it) and prints the estimate against the
//! packed count per design.
//!
//! Run: `cargo bench --bench estimate_fit_ecp5` (YoWASP's Yosys and
//! nextpnr-ecp5 from `.venv-tools`, `bash setup.sh`; about 6 minutes on 2
//! cores).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;
use ttfs_hw::estimate::{self, TERMS};
use ttfs_hw::target::Target;
use ttfs_tools::Tool;

/// Model, target, lanes asked (as `common::parse_lanes` reads them), time bits.
const DESIGNS: [(&str, Target, &str, u32); 5] = [
    ("digits_mlp", Target::Ecp5_25f, "1", 8),
    ("digits_mlp", Target::Ecp5_25f, "2", 8),
    ("digits_mlp", Target::Ecp5_25f, "8", 8),
    ("digits_mlp", Target::Ecp5_25f, "all", 8),
    ("mnist_mlp", Target::Ecp5_25f, "43/1", 8),
];

/// The first line a tool prints for `flag`.
fn version(tool: Tool, flag: &str) -> String {
    let mut command = tool.command().unwrap_or_else(|e| panic!("{e}"));
    let out = command.arg(flag).output().unwrap_or_else(|e| panic!("{}: {e}", tool.program()));
    ttfs_tools::combined(&out).lines().next().unwrap_or("").trim().to_string()
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/estimate-fit-ecp5");
    let started = Instant::now();
    let mut networks = BTreeMap::new();
    let mut csv = format!(
        "# {}; {}; calibration: the first {} training images\n",
        version(Tool::YowaspYosys, "-V"),
        version(Tool::NextpnrEcp5, "--version"),
        common::FIT_CALIB_SAMPLES
    );
    let _ = writeln!(csv, "design,model,target,lanes,planned_lanes,time_bits,{},estimate,packed_lc", TERMS.join(","));
    let mut table = String::from("| design | lanes | estimate | packed | error |\n|---|---|---:|---:|---:|\n");
    let mut worst: f64 = 0.0;
    for (model, target, lanes, time_bits) in DESIGNS {
        let net = networks.entry((model, time_bits)).or_insert_with(|| common::fit_network(model, time_bits));
        let (plan, design) = ttfs_hw::stage::build(net, target, &common::parse_lanes(lanes), None)
            .unwrap_or_else(|e| panic!("{model} {target} {lanes}: {e:#}"));
        let name = format!("{model}-{}-l{}-t{time_bits}", target.name(), lanes.replace('/', "-"));
        let dir = work.join(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        ttfs_hw::write(&design, &dir, false).unwrap();
        let view = ttfs_hw::view::view(net, &plan);
        let one = Instant::now();
        let packed = ttfs_synth::packed_logic_cells(&dir, &view, target).unwrap_or_else(|e| panic!("{name}: {e}"));
        let estimated = estimate::estimate(&plan).logic_cells;
        let planned: Vec<String> = plan.layers.iter().map(|l| l.lanes.to_string()).collect();
        let terms: Vec<String> = estimate::features(&plan).iter().map(f64::to_string).collect();
        let _ = writeln!(
            csv,
            "{name},{model},{},{lanes},{},{time_bits},{},{estimated},{packed}",
            target.name(),
            planned.join("/"),
            terms.join(",")
        );
        let error = (estimated as f64 - packed as f64) / packed as f64;
        worst = worst.max(error.abs());
        let _ =
            writeln!(table, "| {name} | {} | {estimated} | {packed} | {:+.1} % |", planned.join(", "), 100.0 * error);
        eprintln!("{name}: estimate {estimated}, packed {packed} ({:.0} s)", one.elapsed().as_secs_f64());
    }
    std::fs::write(root.join("benches/estimate_fit_ecp5.csv"), &csv).unwrap();
    println!("{table}\nworst error {:.1} %; {:.0} s in all", 100.0 * worst, started.elapsed().as_secs_f64());
}
