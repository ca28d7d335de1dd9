//! Tick-by-tick simulation of the integer TTFS network: the golden model of
//! the hardware (`docs/net-json.md`, "discrete semantics").
//!
//! A value q of a T-tick window travels as one spike at tick `T − q`
//! (q = 0: no spike). A hidden neuron with integer weights W, bias b and
//! scale β:
//! - phase 1, ticks `k = 0 .. T_in − 1` of the input window: `I += Σ W_ij`
//!   over the inputs spiking at k, then `V += I` (from `I = 0`, `V = b`);
//! - phase 2, ticks `k = 0 .. T − 1` of its own window: the potential at
//!   tick k is `V + k·β` (compare first, then rise); it fires at the first k
//!   with `V + k·β ≥ T·β`, and not at all if there is none.
//!
//! Max pooling passes the first spike of each pool. The output layer stops
//! after phase 1: its potentials are the logits.

use crate::Prepared;
use crate::kernel::{Stage, Synapses};
use crate::quantized::bias_of;

/// Tick value meaning "no spike".
pub const NO_SPIKE: u32 = u32::MAX;

/// Result of one tick-by-tick simulation.
#[derive(Clone, Debug, Default)]
pub struct DiscreteTrace {
    /// Spike tick of every neuron after layer k ([`NO_SPIKE`]: none); empty
    /// for the output layer.
    pub ticks: Vec<Vec<u32>>,
    /// Potentials at the end of phase 1 of every weight layer (empty for
    /// pools and flatten).
    pub potentials: Vec<Vec<i64>>,
    /// The output potentials.
    pub logits: Vec<i64>,
    /// Hidden neurons whose potential exceeded the window (`floor(V/β) > T`).
    pub clipped: usize,
    /// Spikes of hidden (weight-layer) neurons.
    pub hidden_spikes: usize,
    /// Spikes delivered to synapses: Σ over input spikes of their fan-out.
    pub synaptic_events: usize,
    /// Per layer: the largest |I| and |V| seen (only with `check`; else 0).
    pub extremes: Vec<(i64, i64)>,
}

/// Simulates one sample from its input code `q0`, tick by tick.
///
/// With `check`, records the largest register magnitudes in
/// [`DiscreteTrace::extremes`] (slower). Assumes a b1 network.
pub fn run(model: &Prepared, q0: &[i64], check: bool) -> DiscreteTrace {
    let t0 = model.net.input.code.expect("integer input coding").ticks;
    let mut ticks: Vec<u32> = q0.iter().map(|&q| if q > 0 { t0 - q as u32 } else { NO_SPIKE }).collect();
    let mut trace = DiscreteTrace::default();
    // One scratch per thread, reused across samples (no allocation per sample).
    SCRATCH.with_borrow_mut(|scratch| run_stages(model, &mut ticks, t0, check, &mut trace, scratch));
    trace
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn run_stages(
    model: &Prepared,
    ticks: &mut Vec<u32>,
    mut ticks_in: u32,
    check: bool,
    trace: &mut DiscreteTrace,
    scratch: &mut Scratch,
) {
    for (k, stage) in model.stages.iter().enumerate() {
        let mut potentials = Vec::new();
        let mut extremes = (0, 0);
        match stage {
            Stage::Weights { layer, .. } => {
                let step = weight_layer(model, k, ticks, ticks_in, check, scratch);
                trace.synaptic_events += step.synaptic_events;
                extremes = step.extremes;
                potentials = step.potentials;
                match step.ticks {
                    None => {
                        trace.logits = potentials.clone();
                        *ticks = Vec::new();
                    }
                    Some(out) => {
                        let fire =
                            model.net.layers[*layer].params().and_then(|p| p.quant.as_ref()).and_then(|q| q.fire);
                        let fire = fire.expect("hidden layer fires");
                        // floor(V/β) > T, without a division per neuron.
                        let limit = (i64::from(fire.ticks) + 1) * fire.beta;
                        trace.clipped += potentials.iter().filter(|&&v| v >= limit).count();
                        trace.hidden_spikes += out.iter().filter(|&&t| t != NO_SPIKE).count();
                        *ticks = out;
                        ticks_in = fire.ticks;
                    }
                }
            }
            Stage::Pool(pool) => {
                *ticks = (0..pool.outputs())
                    .map(|o| {
                        let mut first = NO_SPIKE;
                        pool.for_each_input(o, |j| first = first.min(ticks[j]));
                        first
                    })
                    .collect();
            }
            Stage::Flatten => {}
        }
        trace.potentials.push(potentials);
        trace.extremes.push(extremes);
        if k + 1 < model.stages.len() {
            trace.ticks.push(ticks.clone());
        }
    }
}

/// What one weight layer did for one sample.
#[derive(Clone, Debug, Default)]
pub struct LayerStep {
    /// Potentials at the end of phase 1.
    pub potentials: Vec<i64>,
    /// Spike ticks of the layer's neurons (`None` for the output layer).
    pub ticks: Option<Vec<u32>>,
    /// Synapses reached by input spikes.
    pub synaptic_events: usize,
    /// Largest |I| and |V| (only with `check`).
    pub extremes: (i64, i64),
}

/// Runs stage `stage` (a weight layer) tick by tick on input spike ticks
/// `ticks` of a `ticks_in`-tick window. Any tick pattern may be given, so
/// tests can drive a layer with its worst-case inputs.
///
/// Assumes every tick is below `ticks_in` or [`NO_SPIKE`], and `ticks.len()`
/// is the layer's input size.
pub fn run_weight_layer(model: &Prepared, stage: usize, ticks: &[u32], ticks_in: u32, check: bool) -> LayerStep {
    weight_layer(model, stage, ticks, ticks_in, check, &mut Scratch::default())
}

fn weight_layer(
    model: &Prepared,
    stage: usize,
    ticks: &[u32],
    ticks_in: u32,
    check: bool,
    scratch: &mut Scratch,
) -> LayerStep {
    let Stage::Weights { layer, synapses, output } = &model.stages[stage] else {
        panic!("stage {stage} is not a weight layer");
    };
    let quant = model.net.layers[*layer].params().and_then(|p| p.quant.as_ref()).expect("integer layer");
    let columns = model.dense_columns[*layer].as_ref();
    let fire = if *output { None } else { Some(quant.fire.expect("hidden layer fires")) };
    scratch.bucket(ticks, ticks_in);
    // The widths bound every register value, so 32-bit arithmetic is exact
    // whenever they fit; it runs twice as many lanes per vector instruction.
    if quant.widths.potential <= 32 && quant.widths.current <= 32 {
        layer_ticks::<i32>(synapses, quant, columns, fire, ticks_in, check, scratch)
    } else {
        layer_ticks::<i64>(synapses, quant, columns, fire, ticks_in, check, scratch)
    }
}

/// Register arithmetic of the simulator: `i32` when the widths allow, else `i64`.
trait Register: Copy + Default + Ord + std::ops::AddAssign + std::ops::Mul<Output = Self> + From<i32> + Into<i64> {
    fn from_i64(v: i64) -> Self;
}

impl Register for i32 {
    fn from_i64(v: i64) -> Self {
        i32::try_from(v).expect("value within the derived register width")
    }
}

impl Register for i64 {
    fn from_i64(v: i64) -> Self {
        v
    }
}

/// Neurons simulated together in wide layers: their registers stay in
/// vector registers across all ticks of a phase instead of being loaded and
/// stored every tick.
pub const LANES: usize = 64;
/// Neurons simulated together in narrow layers (less padding).
pub const NARROW_LANES: usize = 16;

/// A dense layer's integer weights in blocks of `lanes` neurons: for block b
/// and input j, the weights from j to the block's neurons are contiguous
/// (zero for the padding past the last neuron).
#[derive(Clone, Debug)]
pub struct DenseBlocks {
    inputs: usize,
    lanes: usize,
    /// The weights at the narrowest width that holds them: each input spike
    /// reads one column, so bytes per column are the phase's memory traffic.
    weights: BlockWeights,
}

/// Storage of [`DenseBlocks`]: 8 bits when every weight fits (the default
/// 8-bit quantization), else 16 (validation bounds weights to 16 bits).
#[derive(Clone, Debug)]
enum BlockWeights {
    I8(Vec<i8>),
    I16(Vec<i16>),
}

/// A stored weight: widened to the register type when added.
trait Weight: Copy + Into<i32> {}
impl Weight for i8 {}
impl Weight for i16 {}

impl DenseBlocks {
    /// Lays out row-major `[outputs][inputs]` weights in blocks.
    pub fn new(weights: &[i32], inputs: usize, outputs: usize) -> Self {
        let lanes = lanes_for(outputs);
        let blocks = outputs.div_ceil(lanes);
        fn lay<W: Copy + Default + TryFrom<i32>>(
            weights: &[i32],
            inputs: usize,
            outputs: usize,
            lanes: usize,
            blocks: usize,
        ) -> Option<Vec<W>> {
            let mut laid = vec![W::default(); blocks * inputs * lanes];
            for o in 0..outputs {
                let (b, l) = (o / lanes, o % lanes);
                for j in 0..inputs {
                    laid[(b * inputs + j) * lanes + l] = W::try_from(weights[o * inputs + j]).ok()?;
                }
            }
            Some(laid)
        }
        let weights = match lay::<i8>(weights, inputs, outputs, lanes, blocks) {
            Some(narrow) => BlockWeights::I8(narrow),
            None => BlockWeights::I16(
                lay::<i16>(weights, inputs, outputs, lanes, blocks).expect("weights fit 16 bits (validated)"),
            ),
        };
        DenseBlocks { inputs, lanes, weights }
    }
}

/// The column of block `block` for input `j` in `weights` laid out by [`DenseBlocks::new`].
#[inline(always)]
fn column<W: Weight, const L: usize>(weights: &[W], inputs: usize, block: usize, j: usize) -> &[W; L] {
    let start = (block * inputs + j) * L;
    weights[start..start + L].try_into().expect("a block column has L weights")
}

/// Neurons simulated together in wide layers on CPUs with AVX-512 (32
/// vector registers hold a block's I and V); fewer blocks mean fewer passes
/// over the ticks and the spikes.
pub const WIDE_LANES: usize = 128;

/// Block width for a layer of `n` neurons.
fn lanes_for(n: usize) -> usize {
    if n <= NARROW_LANES {
        NARROW_LANES
    } else if n > LANES && kernels::has_wide_registers() {
        WIDE_LANES
    } else {
        LANES
    }
}

fn layer_ticks<R: Register>(
    synapses: &Synapses,
    quant: &ttfs_ir::Quant,
    columns: Option<&DenseBlocks>,
    fire: Option<ttfs_ir::Fire>,
    ticks_in: u32,
    check: bool,
    scratch: &Scratch,
) -> LayerStep {
    let n = synapses.outputs();
    let mut step = LayerStep::default();
    let mut v: Vec<R> = (0..n).map(|o| R::from_i64(bias_of(synapses, quant, o))).collect();
    let mut extremes = (0i64, max_abs(&v));
    match columns {
        Some(blocks) if !check => {
            v.resize(n.next_multiple_of(blocks.lanes), R::default());
            kernels::phase1_blocked(blocks, &mut v, ticks_in, scratch);
            v.truncate(n);
            step.synaptic_events = n * scratch.spikes(ticks_in);
        }
        _ => {
            // Phase 1: at each tick, add the weights of that tick's spikes to I, then V += I.
            let mut current = vec![R::default(); n];
            for tick in 0..ticks_in as usize {
                for &j in scratch.spiking_at(tick) {
                    step.synaptic_events += add_fanout(synapses, &quant.weights, j as usize, &mut current);
                }
                for (vo, &io) in v.iter_mut().zip(&current) {
                    *vo += io;
                }
                if check {
                    extremes.0 = extremes.0.max(max_abs(&current));
                    extremes.1 = extremes.1.max(max_abs(&v));
                }
            }
        }
    }
    if let Some(fire) = fire {
        let out = kernels::phase2(&v, fire);
        if check {
            // The rising potential V + k·β peaks at the tick it fires, or one
            // rise past the last tick if it never does.
            for (&vo, &t) in v.iter().zip(&out) {
                let k = if t == NO_SPIKE { i64::from(fire.ticks) } else { i64::from(t) };
                extremes.1 = extremes.1.max((vo.into() + k * fire.beta).abs());
            }
        }
        step.ticks = Some(out);
    }
    if check {
        step.extremes = extremes;
    }
    step.potentials = v.into_iter().map(Into::into).collect();
    step
}

/// The hot loops, compiled for the baseline instruction set and, on
/// x86-64, for AVX2 and AVX-512 (two and four times the lanes per
/// instruction), chosen at run time. The arithmetic is the same integer
/// arithmetic in every variant.
mod kernels {
    use super::{BlockWeights, DenseBlocks, LANES, NARROW_LANES, Register, Scratch, WIDE_LANES, Weight, lanes_for};
    use ttfs_ir::Fire;

    /// The widest instruction set this CPU offers.
    #[derive(Clone, Copy, PartialEq)]
    enum Isa {
        Baseline,
        #[cfg(target_arch = "x86_64")]
        Avx2,
        #[cfg(target_arch = "x86_64")]
        Avx512,
    }

    /// Whether [`WIDE_LANES`](super::WIDE_LANES) blocks fit the vector registers.
    pub(super) fn has_wide_registers() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            isa() == Isa::Avx512
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    fn isa() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    macro_rules! variants {
        ($name:ident, $avx2:ident, $avx512:ident, <$($gen:ident: $bound:path),*>,
         ($($arg:ident: $ty:ty),*) -> $ret:ty, $body:expr) => {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn $avx2<$($gen: $bound,)* const L: usize>($($arg: $ty),*) -> $ret {
                $body
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw")]
            fn $avx512<$($gen: $bound,)* const L: usize>($($arg: $ty),*) -> $ret {
                $body
            }

            fn $name<$($gen: $bound,)* const L: usize>($($arg: $ty),*) -> $ret {
                match isa() {
                    // SAFETY: isa() reported that this CPU has the feature.
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => unsafe { $avx512::<$($gen,)* L>($($arg),*) },
                    // SAFETY: as above.
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => unsafe { $avx2::<$($gen,)* L>($($arg),*) },
                    Isa::Baseline => $body,
                }
            }
        };
    }

    variants!(phase1_lanes, phase1_avx2, phase1_avx512, <R: Register, W: Weight>,
        (weights: &[W], inputs: usize, v: &mut [R], ticks_in: u32, scratch: &Scratch) -> (),
        super::phase1_blocked::<R, W, L>(weights, inputs, v, ticks_in, scratch));

    variants!(phase2_lanes, phase2_avx2, phase2_avx512, <R: Register>,
        (v: &[R], fire: Fire) -> Vec<u32>,
        super::phase2::<R, L>(v, fire));

    /// Phase 1 of a dense layer in blocks ([`super::phase1_blocked`]).
    pub(super) fn phase1_blocked<R: Register>(blocks: &DenseBlocks, v: &mut [R], ticks_in: u32, scratch: &Scratch) {
        let n = blocks.inputs;
        match (&blocks.weights, blocks.lanes) {
            (BlockWeights::I8(w), NARROW_LANES) => phase1_lanes::<R, i8, NARROW_LANES>(w, n, v, ticks_in, scratch),
            (BlockWeights::I8(w), WIDE_LANES) => phase1_lanes::<R, i8, WIDE_LANES>(w, n, v, ticks_in, scratch),
            (BlockWeights::I8(w), _) => phase1_lanes::<R, i8, LANES>(w, n, v, ticks_in, scratch),
            (BlockWeights::I16(w), NARROW_LANES) => phase1_lanes::<R, i16, NARROW_LANES>(w, n, v, ticks_in, scratch),
            (BlockWeights::I16(w), WIDE_LANES) => phase1_lanes::<R, i16, WIDE_LANES>(w, n, v, ticks_in, scratch),
            (BlockWeights::I16(w), _) => phase1_lanes::<R, i16, LANES>(w, n, v, ticks_in, scratch),
        }
    }

    /// Phase 2 ([`super::phase2`]).
    pub(super) fn phase2<R: Register>(v: &[R], fire: Fire) -> Vec<u32> {
        match lanes_for(v.len()) {
            NARROW_LANES => phase2_lanes::<R, NARROW_LANES>(v, fire),
            WIDE_LANES => phase2_lanes::<R, WIDE_LANES>(v, fire),
            _ => phase2_lanes::<R, LANES>(v, fire),
        }
    }
}

/// Phase 1 of a dense layer, [`LANES`] neurons at a time, each tick in order:
/// the block's I and V live in registers through the whole window.
#[inline(always)]
fn phase1_blocked<R: Register, W: Weight, const L: usize>(
    weights: &[W],
    inputs: usize,
    v: &mut [R],
    ticks_in: u32,
    scratch: &Scratch,
) {
    for (b, chunk) in v.chunks_exact_mut(L).enumerate() {
        let chunk: &mut [R; L] = chunk.try_into().expect("v is padded to whole blocks");
        let mut potential = *chunk;
        let mut current = [R::default(); L];
        for tick in 0..ticks_in as usize {
            for &j in scratch.spiking_at(tick) {
                let column = column::<W, L>(weights, inputs, b, j as usize);
                for l in 0..L {
                    current[l] += R::from(column[l].into());
                }
            }
            for l in 0..L {
                potential[l] += current[l];
            }
        }
        *chunk = potential;
    }
}

/// Phase 2, tick k: the comparator asks whether V + k·β ≥ T·β, i.e.
/// V ≥ (T − k)·β. Once true it stays true, so the spike tick is the number
/// of ticks at which it still said no ([`NO_SPIKE`] if it never said yes).
#[inline(always)]
fn phase2<R: Register, const L: usize>(v: &[R], fire: ttfs_ir::Fire) -> Vec<u32> {
    let top = R::from_i64(i64::from(fire.ticks)) * R::from_i64(fire.beta);
    let fall = R::from_i64(-fire.beta);
    let mut out = Vec::with_capacity(v.len().next_multiple_of(L));
    for chunk in v.chunks(L) {
        // The last block is padded (its extra lanes are dropped below).
        let mut potential = [R::default(); L];
        potential[..chunk.len()].copy_from_slice(chunk);
        let mut waited = [0i32; L];
        // (T − k)·β for k = 0, 1, …: one subtraction per tick.
        let mut threshold = top;
        for _ in 0..fire.ticks {
            for l in 0..L {
                waited[l] += i32::from(potential[l] < threshold);
            }
            threshold += fall;
        }
        out.extend(waited.iter().map(|&w| if (w as u32) < fire.ticks { w as u32 } else { NO_SPIKE }));
    }
    out.truncate(v.len());
    out
}

/// Adds input `j`'s weights to the currents of its fan-out; returns the
/// number of synapses reached.
#[inline]
fn add_fanout<R: Register>(synapses: &Synapses, weights: &[i32], j: usize, current: &mut [R]) -> usize {
    let mut n = 0;
    synapses.for_each_fanout(j, |o, w| {
        current[o] += R::from(weights[w]);
        n += 1;
    });
    n
}

fn max_abs<R: Register>(values: &[R]) -> i64 {
    values.iter().map(|&v| Into::<i64>::into(v).abs()).max().unwrap_or(0)
}

/// Inputs grouped by spike tick (a counting sort, reused across layers).
#[derive(Default)]
struct Scratch {
    spiking: Vec<(u32, u32)>,
    starts: Vec<u32>,
    order: Vec<u32>,
}

impl Scratch {
    /// Groups the spiking inputs by tick: first picks out the inputs that
    /// spike, then counting-sorts only those by tick.
    fn bucket(&mut self, ticks: &[u32], window: u32) {
        // Branch-free compaction: every input is written, and the end moves
        // past it only if it spikes; a branch per input mispredicts at every
        // edge between silent and spiking inputs.
        self.spiking.clear();
        self.spiking.resize(ticks.len(), (0, 0));
        let mut end = 0;
        for (j, &t) in ticks.iter().enumerate() {
            self.spiking[end] = (t, j as u32);
            end += usize::from(t != NO_SPIKE);
        }
        self.spiking.truncate(end);
        self.starts.clear();
        self.starts.resize(window as usize + 2, 0);
        for &(t, _) in &self.spiking {
            self.starts[t as usize + 2] += 1;
        }
        // A running total in a register: adding the previous entry from
        // memory would wait on the store just made, every step.
        let mut total = 0;
        for start in &mut self.starts[2..] {
            total += *start;
            *start = total;
        }
        self.order.clear();
        self.order.resize(self.spiking.len(), 0);
        for &(t, j) in &self.spiking {
            let slot = &mut self.starts[t as usize + 1];
            self.order[*slot as usize] = j;
            *slot += 1;
        }
    }

    /// Number of inputs that spike.
    fn spikes(&self, window: u32) -> usize {
        self.starts[window as usize] as usize
    }

    fn spiking_at(&self, tick: usize) -> &[u32] {
        &self.order[self.starts[tick] as usize..self.starts[tick + 1] as usize]
    }
}
