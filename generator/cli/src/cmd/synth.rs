//! `ttfs synth DIR`.

use super::parse_target;
use anyhow::Result;
use std::path::PathBuf;
use ttfs_hw::target::Target;
use ttfs_synth::stage::{Args as Request, run as synth};
use ttfs_synth::unrolled::Mode;

/// How much of the network `--unrolled` synthesizes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Unrolled {
    /// The whole network up to 16,384 weights, else one neuron per layer.
    Auto,
    /// The whole network.
    Whole,
    /// One neuron per layer (the layer's median by its weights' partial
    /// products), times the layer's neurons.
    PerNeuron,
}

/// Synthesize, place and route a generated design's board wrapper
/// (Yosys, nextpnr-ice40, icepack): resources, Fmax, clock, latency.
#[derive(clap::Args)]
pub struct Args {
    /// A directory written by `ttfs generate`.
    dir: PathBuf,
    /// The device (default: the one DIR was generated for).
    #[arg(long, visible_alias = "device", value_parser = parse_target)]
    target: Option<Target>,
    /// The clock to ask for, MHz (default: the board wrapper's PLL clock);
    /// the PLL is set to the fastest clock the routed design meets.
    #[arg(long)]
    freq: Option<f64>,
    /// nextpnr's placer seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Data for the mean cycles per inference (default: DIR's manifest);
    /// with --asic, for the energy proxy per inference.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Use only the first N samples of --data.
    #[arg(long)]
    count: Option<usize>,
    /// Standard-cell estimates for a design generated with --target asic
    /// (Yosys: cells, transistors; with --liberty, area and ABC's delay).
    #[arg(long)]
    asic: bool,
    /// With --asic: the liberty file to map to (plain or gzipped).
    #[arg(long, requires = "asic")]
    liberty: Option<PathBuf>,
    /// With --asic: the clock period, ns (default: the manifest's clock).
    #[arg(long, requires = "asic")]
    clock_ns: Option<f64>,
    /// With --asic --liberty: cells not to use (`*` any text; repeatable),
    /// besides SkyWater's lpflow and probe cells.
    #[arg(long, requires = "liberty")]
    dont_use: Vec<String>,
    /// With --asic: also build the network fully unrolled (every weight a
    /// constant multiplier, one inference per cycle), check it against the
    /// reference under Icarus and synthesize it the same way: `auto` (the
    /// default) is the whole network up to 16,384 weights, else one neuron
    /// per layer, extrapolated.
    #[arg(long, requires = "asic", value_enum, num_args = 0..=1, default_missing_value = "auto")]
    unrolled: Option<Unrolled>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs synth`; returns what it prints (steps go to standard error).
pub fn run(a: Args) -> Result<String> {
    if a.asic {
        let request = ttfs_synth::asic::Args {
            dir: a.dir,
            liberty: a.liberty,
            clock_ns: a.clock_ns,
            dont_use: a.dont_use,
            data: a.data,
            count: a.count,
            unrolled: a.unrolled.map(|u| match u {
                Unrolled::Auto => Mode::Auto,
                Unrolled::Whole => Mode::Whole,
                Unrolled::PerNeuron => Mode::PerNeuron,
            }),
        };
        let report = ttfs_synth::asic::run(&request, &mut |step| eprintln!("synth: {step}"))
            .map_err(|e| anyhow::anyhow!("cannot estimate {}: {e}", request.dir.display()))?;
        return super::text_or_json(a.json, &report, ttfs_synth::asic::render);
    }
    let request = Request {
        dir: a.dir,
        device: a.target,
        freq_mhz: a.freq,
        seed: a.seed,
        data: a.data,
        count: a.count,
        cycles: None,
    };
    let report = synth(&request, &mut |step| eprintln!("synth: {step}"))?;
    super::text_or_json(a.json, &report, ttfs_synth::render)
}
