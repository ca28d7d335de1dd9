//! The fit data of the pre-synthesis logic-cell estimate
//! (`generator/hw/src/estimate.rs`): for each design below, the estimate's
//! terms (the quantity each `LC_PER_*` coefficient multiplies, summed over
//! the design), its estimate, and the logic cells nextpnr-ice40 packs from
//! Yosys's `synth_ice40` netlist of the board wrapper (`--pack-only`: no
//! place and route, so a design too big for the device is counted too).
//!
//! The designs: the digits MLP (64-32-10) on the HX8K at 1, 2, 3, 4, 8 and
//! all lanes and on the UP5K (DSPs, then logic multipliers) at 1, 8 and all
//! lanes, and the MNIST MLP (784-128-10, layer 0's weights in SPRAM) on the
//! UP5K at the lanes its SPRAM allows (8 for layer 0) with 1, 5 and 10 for
//! layer 1; 8-bit time codes, and 6-bit for a few. The networks are
//! converted with the first 300 calibration images
//! (`common::FIT_CALIB_SAMPLES`), as `tests/estimate.rs` does when it
//! checks these rows against the current code.
//!
//! Writes `benches/estimate_fit.csv` (committed; `tests/estimate.rs` checks
//! the estimate against it and that its least-squares refit gains
//! nothing) and prints the estimate against the packed count per design.
//!
//! Run: `cargo bench --bench estimate_fit` (Yosys and nextpnr-ice40 on each
//! design in turn, about 7 minutes on 2 cores).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;
use ttfs_hw::estimate::{self, TERMS};
use ttfs_hw::target::Target;

/// Model, target, lanes asked (as `common::parse_lanes` reads them), time bits.
const DESIGNS: [(&str, Target, &str, u32); 16] = [
    ("digits_mlp", Target::Ice40Hx8k, "1", 8),
    ("digits_mlp", Target::Ice40Hx8k, "2", 8),
    ("digits_mlp", Target::Ice40Hx8k, "3", 8),
    ("digits_mlp", Target::Ice40Hx8k, "4", 8),
    ("digits_mlp", Target::Ice40Hx8k, "8", 8),
    ("digits_mlp", Target::Ice40Hx8k, "all", 8),
    ("digits_mlp", Target::Ice40Hx8k, "2", 6),
    ("digits_mlp", Target::Ice40Hx8k, "4", 6),
    ("digits_mlp", Target::Ice40Up5k, "1", 8),
    ("digits_mlp", Target::Ice40Up5k, "8", 8),
    ("digits_mlp", Target::Ice40Up5k, "all", 8),
    ("digits_mlp", Target::Ice40Up5k, "4", 6),
    ("mnist_mlp", Target::Ice40Up5k, "8", 8),
    ("mnist_mlp", Target::Ice40Up5k, "8/1", 8),
    ("mnist_mlp", Target::Ice40Up5k, "8/10", 8),
    ("mnist_mlp", Target::Ice40Up5k, "8", 6),
];

/// The first line a tool prints for `flag` (nextpnr prints to stderr).
fn version(program: &str, flag: &str) -> String {
    let out = Command::new(program).arg(flag).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    ttfs_tools::combined(&out).lines().next().unwrap_or("").trim().to_string()
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/estimate-fit");
    let started = Instant::now();
    let mut networks = BTreeMap::new();
    let mut csv = format!(
        "# {}; {}; calibration: the first {} training images\n",
        version("yosys", "-V"),
        version("nextpnr-ice40", "--version"),
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
    std::fs::write(root.join("benches/estimate_fit.csv"), &csv).unwrap();
    println!("{table}\nworst error {:.1} %; {:.0} s in all", 100.0 * worst, started.elapsed().as_secs_f64());
}
