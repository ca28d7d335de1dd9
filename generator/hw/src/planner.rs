//! Making a plan: lanes and blocks per layer, register widths, where each
//! layer's weights live, and whether the memories (block RAM, SPRAM) fit
//! the target. A pure function of the network description and the
//! options; nothing is written before the plan says the memories fit.
//!
//! Logic is estimated, not checked: the plan's logic-cell need is the
//! pre-synthesis estimate ([`crate::estimate`]), which `generate` reports;
//! a design too big in logic is still planned (it simulates), and `ttfs
//! synth` refuses it after packing, before place and route.

use crate::cycles::{self, SpikeCounts};
use crate::layers::{HwLayer, LayerShape};
use crate::plan::{
    LayerPlan, Plan, SMALL_ROM_WORDS, WeightStore, bias_words, index_bits, potential_words, potentials_in_ram,
    queue_addr_bits,
};
use crate::target::{Family, Resources, SPRAM_WIDTH, SPRAM_WORDS, Target, spram_blocks};
use thiserror::Error;
use ttfs_ir::{Layer, Network, NeuronModel, Role, bounds::signed_bits};

/// Why a network cannot be turned into hardware (as asked).
#[derive(Clone, Debug, Error, PartialEq)]
pub enum PlanError {
    /// The network uses something the generator does not build yet.
    #[error("{0}")]
    Unsupported(String),
    /// A knob has a value that cannot work.
    #[error("{0}")]
    Option(String),
    /// The design does not fit the device.
    #[error("the design does not fit the {target}: {details}")]
    DoesNotFit {
        /// The device.
        target: Target,
        /// Needs, haves and what to change.
        details: String,
    },
}

impl From<crate::layers::Unsupported> for PlanError {
    fn from(e: crate::layers::Unsupported) -> Self {
        PlanError::Unsupported(e.0)
    }
}

/// How the lanes of each layer are chosen (`--lanes`).
#[derive(Clone, Debug, PartialEq)]
pub enum Lanes {
    /// Chosen by [`auto`] for a goal (`--lanes auto`, the default).
    Auto(Goal),
    /// One value for all layers or one per layer (0 = all neurons in
    /// parallel); empty picks the target's default.
    Fixed(Vec<usize>),
}

/// What `--lanes auto` aims for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    /// The share of the device's logic cells the estimate may take, percent
    /// (`--budget`). Memories and DSPs are always checked against the whole
    /// device.
    pub budget_percent: f64,
    /// Inferences per second to reach, streaming, with the fewest logic
    /// cells (`--rate`); `None`: as many as the budget allows.
    pub rate: Option<f64>,
    /// The clock the rate is reached at, MHz (`None`: the target's default
    /// clock, [`crate::target::clock_mhz`]).
    pub clock_mhz: Option<f64>,
}

/// The default logic budget of `--lanes auto`, percent of the device: the
/// estimate comes within 8 % of the packed count, and nextpnr's clock drops
/// as the device fills, so a fifth is left to both.
pub const DEFAULT_BUDGET_PERCENT: f64 = 80.0;

impl Goal {
    /// The default goal: the most inferences per second within
    /// [`DEFAULT_BUDGET_PERCENT`] of the device's logic cells.
    pub const DEFAULT: Goal = Goal { budget_percent: DEFAULT_BUDGET_PERCENT, rate: None, clock_mhz: None };
}

/// Plans `net` on `target` with the lanes `lanes` asks for; `counts` (spike
/// counts of representative images) steer [`auto`], which otherwise plans
/// for the worst case.
pub fn choose(net: &Network, target: Target, lanes: &Lanes, counts: Option<&[SpikeCounts]>) -> Result<Plan, PlanError> {
    match lanes {
        Lanes::Fixed(lanes) => plan(net, target, lanes),
        Lanes::Auto(goal) => auto(net, target, goal, counts).map(|(plan, _)| plan),
    }
}

/// What [`auto`] found besides the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoChoice {
    /// Lanes per dense layer.
    pub lanes: Vec<usize>,
    /// Mean cycles between results, streaming (worst case without counts).
    pub interval_cycles: f64,
    /// Estimated logic cells.
    pub logic_cells: u64,
}

/// `--lanes auto`: the lanes of each layer that give the most inferences per
/// second (the shortest initiation interval of the cycle model, on `counts`
/// or in the worst case) within the goal's logic budget, and among designs
/// equally fast the one with the fewest logic cells; with a rate, the fewest
/// logic cells that reach it.
///
/// The search raises the lanes of the slowest layer one step at a time (a
/// step is the fewest lanes that take one block fewer) while the design
/// fits; it starts from one lane everywhere, from the smallest uniform lanes
/// that fit, and from the target's default lanes, and keeps the best end.
/// Throughput stops improving when the input encoder (one pixel per cycle)
/// is the slowest stage. Memories are placed by [`plan`] at every step, so
/// the result fits the device's memories whenever any searched design does.
pub fn auto(
    net: &Network,
    target: Target,
    goal: &Goal,
    counts: Option<&[SpikeCounts]>,
) -> Result<(Plan, AutoChoice), PlanError> {
    if !(goal.budget_percent > 0.0 && goal.budget_percent <= 100.0) {
        return Err(PlanError::Option(format!(
            "--budget is {} %; give a share of the device's logic cells above 0 and at most 100",
            goal.budget_percent
        )));
    }
    if let Some(rate) = goal.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(PlanError::Option(format!("--rate is {rate}; give inferences per second above 0")));
    }
    let clock_mhz = goal.clock_mhz.unwrap_or_else(|| crate::target::clock_mhz(target));
    if !(clock_mhz.is_finite() && clock_mhz > 0.0) {
        return Err(PlanError::Option(format!("the clock is {clock_mhz} MHz; give a clock above 0")));
    }
    // Unsupported networks and option errors come from the default plan.
    let default_plan = plan(net, target, &[]);
    if let Err(e @ (PlanError::Unsupported(_) | PlanError::Option(_))) = &default_plan {
        return Err(e.clone());
    }
    // Lanes run over a dense layer's neurons and a convolution's channels.
    let outputs: Vec<usize> = match &default_plan {
        Ok(p) => p.layers.iter().map(lane_limit).collect(),
        Err(_) => crate::layers::hw_layers(net)?.iter().map(|l| lane_limit_of(net, l)).collect(),
    };
    let search = Search::new(net, target, goal, clock_mhz, counts, &outputs);
    let mut starts = vec![vec![1; outputs.len()]];
    // Memories alone can rule out few lanes (a layer's weights fit SPRAM
    // only in words of 64 bits or less, 16 k of them): the smallest uniform
    // lanes whose memories fit, then each layer cut back as far as they
    // still fit, is the cheapest start.
    let widest = outputs.iter().copied().max().unwrap_or(1);
    if let Some(uniform) = (1..=widest).find(|&n| search.memories_fit(&vec![n; outputs.len()])) {
        starts.push(search.shrink(vec![uniform; outputs.len()]));
        starts.push(vec![uniform; outputs.len()]);
    }
    if let Ok(p) = &default_plan {
        starts.push(p.layers.iter().map(|l| l.lanes).collect());
    }
    let ends: Vec<Candidate> = starts.into_iter().filter_map(|start| search.grow(start)).collect();
    let best = match goal.rate {
        Some(_) => ends.iter().filter(|c| search.reaches_rate(c.interval)).min_by_key(|c| c.plan.needs.logic_cells),
        None => None,
    }
    .or_else(|| {
        ends.iter().min_by(|a, b| {
            a.interval.total_cmp(&b.interval).then(a.plan.needs.logic_cells.cmp(&b.plan.needs.logic_cells))
        })
    });
    let Some(best) = best else {
        // Nothing fits: the default plan's refusal carries the numbers.
        return Err(match default_plan {
            Err(e) => e,
            Ok(p) => PlanError::DoesNotFit {
                target,
                details: format!(
                    "at the default lanes it needs an estimated {} logic cells, more than {} % of the device's {}; \
                     raise --budget or take fewer lanes",
                    p.needs.logic_cells,
                    (goal.budget_percent * 10.0).round() / 10.0,
                    target.resources().logic_cells
                ),
            },
        });
    };
    if let Some(rate) = goal.rate
        && !search.reaches_rate(best.interval)
    {
        return Err(PlanError::Option(format!(
            "{rate} inferences per second at {} MHz need one result every {:.1} cycles; the fastest design within {} % of the {}'s \
             logic cells takes {:.1} (lanes {}, {:.0} inferences per second): raise --budget, choose a larger device or a faster clock",
            clock_mhz,
            clock_mhz * 1e6 / rate,
            (goal.budget_percent * 10.0).round() / 10.0,
            target,
            best.interval,
            lanes_text(&best.lanes),
            clock_mhz * 1e6 / best.interval
        )));
    }
    let choice = AutoChoice {
        lanes: best.lanes.clone(),
        interval_cycles: best.interval,
        logic_cells: best.plan.needs.logic_cells,
    };
    Ok((best.plan.clone(), choice))
}

/// Designs that fit when `lanes` does not fit `target`: `--lanes auto` on
/// the same target (when the lanes were fixed, or the budget left room),
/// then on the other iCE40 devices (for an iCE40 target) or the larger ECP5
/// parts, the next one up first (for an ECP5 target), fastest first within
/// each. (`generate` names the ECP5 for an iCE40 design that fits no iCE40.) The plans are the planner's own, so each fits as planned.
pub fn alternatives(net: &Network, target: Target, lanes: &Lanes) -> Vec<(Target, Plan)> {
    let mut tried = Vec::new();
    let full = Goal { budget_percent: 100.0, ..Goal::DEFAULT };
    match lanes {
        Lanes::Fixed(_) => tried.extend([(target, Goal::DEFAULT), (target, full)]),
        Lanes::Auto(goal) if goal.budget_percent < 100.0 || goal.rate.is_some() => tried.push((target, full)),
        Lanes::Auto(_) => {}
    }
    let others = match target.family() {
        Family::Ecp5 => Target::ECP5.to_vec(),
        Family::Ice40 | Family::Generic => vec![Target::Ice40Up5k, Target::Ice40Hx8k],
    };
    let cells = target.resources().logic_cells;
    for other in others {
        if other != target && (target.family() != Family::Ecp5 || other.resources().logic_cells > cells) {
            tried.extend([(other, Goal::DEFAULT), (other, full)]);
        }
    }
    tried.into_iter().filter_map(|(t, goal)| auto(net, t, &goal, None).ok().map(|(plan, _)| (t, plan))).collect()
}

/// Lanes as `--lanes-per-layer` takes them.
pub fn lanes_text(lanes: &[usize]) -> String {
    lanes.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

/// A design the search reached.
#[derive(Clone)]
struct Candidate {
    lanes: Vec<usize>,
    plan: Plan,
    interval: f64,
}

/// The state shared by [`auto`]'s searches.
struct Search<'a> {
    net: &'a Network,
    target: Target,
    goal: &'a Goal,
    clock_mhz: f64,
    counts: Vec<SpikeCounts>,
    /// Each layer's lane steps, increasing (one per block count).
    steps: Vec<Vec<usize>>,
    budget_cells: f64,
}

impl<'a> Search<'a> {
    fn new(
        net: &'a Network,
        target: Target,
        goal: &'a Goal,
        clock_mhz: f64,
        counts: Option<&[SpikeCounts]>,
        outputs: &[usize],
    ) -> Self {
        let counts = match counts {
            Some(c) if !c.is_empty() => c.to_vec(),
            _ => vec![worst_counts(net)],
        };
        let steps = outputs.iter().map(|&n| lane_steps(n)).collect();
        let budget_cells = target.resources().logic_cells as f64 * goal.budget_percent / 100.0;
        Search { net, target, goal, clock_mhz, counts, steps, budget_cells }
    }

    /// The plan of `lanes` when it fits the memories and the logic budget.
    fn fits(&self, lanes: &[usize]) -> Option<Plan> {
        let plan = plan(self.net, self.target, lanes).ok()?;
        (plan.needs.logic_cells as f64 <= self.budget_cells).then_some(plan)
    }

    /// Whether the memories of `lanes` fit the device (logic aside).
    fn memories_fit(&self, lanes: &[usize]) -> bool {
        plan(self.net, self.target, lanes).is_ok()
    }

    /// `lanes` with each layer's lanes lowered to the fewest whose memories
    /// still fit (the fewest logic cells reachable one layer at a time).
    fn shrink(&self, mut lanes: Vec<usize>) -> Vec<usize> {
        for layer in 0..lanes.len() {
            if let Some(&fewer) = self.steps[layer].iter().filter(|&&n| n < lanes[layer]).find(|&&n| {
                let mut tried = lanes.clone();
                tried[layer] = n;
                self.memories_fit(&tried)
            }) {
                lanes[layer] = fewer;
            }
        }
        lanes
    }

    fn reaches_rate(&self, interval: f64) -> bool {
        self.goal.rate.is_some_and(|rate| self.clock_mhz * 1e6 / interval.max(1.0) >= rate)
    }

    /// Mean interval and mean busy cycles of each stage (encoder first).
    fn evaluate(&self, plan: &Plan) -> (f64, Vec<f64>) {
        let n = self.counts.len() as f64;
        let mut busy = vec![0.0; plan.layers.len() + 1];
        for c in &self.counts {
            for (b, s) in busy.iter_mut().zip(cycles::stage_cycles(plan, c)) {
                *b += s as f64 / n;
            }
        }
        (cycles::initiation_interval(plan, &self.counts), busy)
    }

    /// Raises the slowest layer's lanes from `lanes` while the design fits
    /// and gets faster (or until the goal's rate is reached).
    fn grow(&self, mut lanes: Vec<usize>) -> Option<Candidate> {
        let mut plan = self.fits(&lanes)?;
        // The planner takes the fewest lanes for the same blocks.
        lanes = plan.layers.iter().map(|l| l.lanes).collect();
        loop {
            let (interval, busy) = self.evaluate(&plan);
            let done = Candidate { lanes: lanes.clone(), plan: plan.clone(), interval };
            if self.reaches_rate(interval) {
                return Some(done);
            }
            let (slowest, &cycles) =
                busy.iter().enumerate().skip(1).max_by(|a, b| a.1.total_cmp(b.1)).expect("a network has a layer");
            if cycles <= busy[0] {
                return Some(done);
            }
            let layer = slowest - 1;
            let next = self.steps[layer].iter().filter(|&&n| n > lanes[layer]).find_map(|&n| {
                let mut tried = lanes.clone();
                tried[layer] = n;
                self.fits(&tried).map(|p| (tried, p))
            });
            match next {
                Some((tried, p)) => {
                    lanes = tried;
                    plan = p;
                }
                None => return Some(done),
            }
        }
    }
}

/// The lane counts worth trying for a layer of `outputs` neurons: for each
/// number of blocks, the fewest lanes that give it, increasing.
fn lane_steps(outputs: usize) -> Vec<usize> {
    let mut steps: Vec<usize> = (1..=outputs).rev().map(|blocks| outputs.div_ceil(blocks)).collect();
    steps.dedup();
    steps
}

/// Every input and every hidden neuron spiking (the plan-independent
/// worst case of [`SpikeCounts::worst`]).
fn worst_counts(net: &Network) -> SpikeCounts {
    let plan = plan(net, Target::Generic, &[1]).expect("a network the generator builds plans on the generic target");
    SpikeCounts::worst(&plan)
}

/// The most lanes a planned layer can use: its neurons, or a convolution's
/// channels.
fn lane_limit(l: &LayerPlan) -> usize {
    l.conv().map_or(l.outputs, |c| c.out_channels)
}

/// [`lane_limit`] of a hardware layer before planning.
fn lane_limit_of(net: &Network, l: &HwLayer) -> usize {
    match (&l.shape, &net.layers[l.weights]) {
        (LayerShape::Conv(c), _) => c.out_channels,
        (LayerShape::Dense, Layer::Dense(d)) => d.outputs,
        _ => 1,
    }
}

/// Lanes per layer: `lanes` gives one value for all layers or one per
/// layer (0 = all neurons in parallel); empty picks the target's default.
pub fn plan(net: &Network, target: Target, lanes: &[usize]) -> Result<Plan, PlanError> {
    if net.neuron == NeuronModel::Alpha {
        return Err(PlanError::Unsupported(
            "this is an α/J network (paper 1's neuron, every neuron spikes and its slope depends on all inputs); \
             hardware uses the constant-slope neuron: convert again with --neuron b1"
                .into(),
        ));
    }
    let hw = crate::layers::hw_layers(net)?;
    let lanes_of = |i: usize, limit: usize| -> Result<usize, PlanError> {
        let asked = match lanes.len() {
            0 => return Ok(limit.min(default_lanes(target))),
            1 => lanes[0],
            n if n == hw.len() => lanes[i],
            n => {
                return Err(PlanError::Option(format!(
                    "--lanes-per-layer has {n} values for {} layers; give one per layer",
                    hw.len()
                )));
            }
        };
        Ok(if asked == 0 { limit } else { asked.min(limit) })
    };
    let code = net.input.code.expect("b1 networks have an input code");
    let mut value_bits = code.time_bits;
    let mut index_in = match &hw[0].shape {
        LayerShape::Conv(c) => c.input_index_bits(),
        LayerShape::Dense => index_bits(net.input.shape.iter().product()),
    };
    let mut dsp_left = target.resources().dsp_blocks;
    let mut layers = Vec::new();
    for (i, l) in hw.iter().enumerate() {
        let layer = &net.layers[l.weights];
        let params = layer.params().expect("weight layers have parameters");
        let quant = params.quant.as_ref().expect("b1 layers are quantized");
        let hidden = layer.role() == Some(Role::Hidden);
        let limit = lane_limit_of(net, l);
        // The fewest lanes that keep the same number of blocks: the cycles
        // depend on the blocks only, so extra lanes would be idle logic
        // (10 outputs at 8 lanes are 2 blocks, as at 5 lanes).
        let blocks = limit.div_ceil(lanes_of(i, limit)?);
        let lanes = limit.div_ceil(blocks);
        let fire = quant.fire;
        // One DSP per lane multiplier, while the device has them (and, on
        // the ECP5, while W and the unsigned input value fit MULT18X18D's
        // signed 18-bit operands).
        let operands_fit =
            target.family() != Family::Ecp5 || quant.weight_bits.max(value_bits + 1) <= target.dsp_operand_bits();
        let dsp_lanes = if operands_fit && dsp_left >= lanes as u64 { lanes } else { 0 };
        dsp_left -= dsp_lanes as u64;
        let (inputs, outputs, weight_words, output_index_bits) = match (&l.shape, layer) {
            (LayerShape::Conv(c), _) => (
                c.inputs(),
                c.outputs(),
                (c.in_shape[0] * c.kernel[0] * c.kernel[1] * blocks) as u64,
                c.output_index_bits(),
            ),
            (LayerShape::Dense, Layer::Dense(d)) => {
                (d.inputs, d.outputs, (d.inputs * blocks) as u64, index_bits(d.outputs))
            }
            _ => unreachable!("hardware layers are dense or convolutions"),
        };
        let (worst_taps, worst_silent) = if l.taps.is_empty() {
            (inputs as u64, 0)
        } else {
            let channels = (inputs / l.taps.len()) as u64;
            let taps: u64 = l.taps.iter().map(|&t| u64::from(t)).sum();
            let silent = l.taps.iter().filter(|&&t| t == 0).count() as u64;
            (taps * channels, silent * channels)
        };
        layers.push(LayerPlan {
            layer: l.weights,
            emits: l.emits,
            shape: l.shape.clone(),
            worst_taps,
            worst_silent,
            name: layer.name().to_string(),
            hidden,
            inputs,
            outputs,
            lanes,
            blocks,
            weight_bits: quant.weight_bits,
            bias_bits: quant.widths.bias.max(signed_bits(0)),
            input_value_bits: value_bits,
            output_value_bits: fire.map(|f| f.time_bits),
            beta: fire.map(|f| f.beta),
            potential_bits: quant.widths.potential,
            input_index_bits: index_in,
            output_index_bits,
            weight_words,
            weight_word_bits: (lanes as u32 * quant.weight_bits) as u64,
            weight_store: WeightStore::BlockRam,
            dsp_lanes,
            read_register: matches!(l.shape, LayerShape::Conv(_)) || target.family() == Family::Ecp5,
        });
        if let Some(f) = fire {
            value_bits = f.time_bits;
        }
        index_in = output_index_bits;
    }
    let mut plan = Plan {
        target,
        inputs: net.input.shape.iter().product(),
        input_value_bits: code.time_bits,
        layers,
        needs: Resources { logic_cells: 0, bram_blocks: 0, spram_blocks: 0, dsp_blocks: 0 },
        baud: crate::board::BAUD,
    };
    place_weights(&mut plan)?;
    plan.needs.logic_cells = crate::estimate::estimate(&plan).logic_cells;
    Ok(plan)
}

/// The default lanes of a target: the UP5K's 8 DSPs (and its 64-bit SPRAM
/// word) suit 8 lanes; the HX8K has no DSPs and every lane costs a logic
/// multiplier (about 250 logic cells), so 3 lanes: the digits MLP's board
/// design then takes 49 % of the device (4 lanes: 53 %) and runs at ~80 MHz.
/// The smallest ECP5 has 28 multipliers: 16 lanes leave 12 for the next layer.
fn default_lanes(target: Target) -> usize {
    match target {
        Target::Ice40Up5k | Target::Generic | Target::Asic => 8,
        Target::Ice40Hx8k => 3,
        Target::Ecp5_25f | Target::Ecp5_45f | Target::Ecp5_85f => 16,
    }
}

/// Why block-RAM layers could not move to the device's SPRAM, if it has any:
/// one SPRAM memory is 16,384 words of at most 64 bits (more lanes make
/// fewer, wider words).
fn spram_misfits(plan: &Plan) -> String {
    if plan.target.resources().spram_blocks == 0 {
        return String::new();
    }
    let reasons: Vec<String> = plan
        .layers
        .iter()
        .filter(|l| l.weight_store == WeightStore::BlockRam)
        .filter(|l| l.weight_words > SPRAM_WORDS || l.weight_word_bits > 4 * SPRAM_WIDTH)
        .map(|l| {
            format!(
                "'{}' cannot go to SPRAM: {} words of {} bits, where one SPRAM memory holds {SPRAM_WORDS} words of at most {} bits",
                l.name,
                l.weight_words,
                l.weight_word_bits,
                4 * SPRAM_WIDTH
            )
        })
        .collect();
    if reasons.is_empty() { String::new() } else { format!("; {}", reasons.join("; ")) }
}

/// Block RAMs for the spike queues in front of each layer.
fn fifo_blocks(plan: &Plan) -> u64 {
    plan.layers
        .iter()
        .map(|layer| {
            let width = u64::from(layer.input_value_bits) + u64::from(layer.input_index_bits) + 1;
            plan.target.memory_blocks(1 << queue_addr_bits(layer.inputs as u64), width)
        })
        .sum()
}

/// Puts each layer's weights in block RAM while it fits, the rest in SPRAM
/// (UP5K), and checks the totals against the device. On an ASIC, weight
/// memories of more than [`crate::plan::ROM_LOGIC_MAX_BITS`] become ROM
/// macros, the rest ROM logic; nothing is counted against a device.
fn place_weights(plan: &mut Plan) -> Result<(), PlanError> {
    if plan.target == Target::Asic {
        for layer in &mut plan.layers {
            if layer.weight_words * layer.weight_word_bits > crate::plan::ROM_LOGIC_MAX_BITS {
                layer.weight_store = WeightStore::RomMacro;
            }
        }
        let dsp = plan.layers.iter().map(|l| l.dsp_lanes as u64).sum();
        plan.needs = Resources { logic_cells: 0, bram_blocks: 0, spram_blocks: 0, dsp_blocks: dsp };
        return Ok(());
    }
    let have = plan.target.resources();
    let fifos = fifo_blocks(plan);
    // Bias memories of a few words become LUT ROMs, not block RAM.
    let bias: u64 = plan
        .layers
        .iter()
        .filter(|l| bias_words(l) >= SMALL_ROM_WORDS as u64)
        .map(|l| plan.target.memory_blocks(bias_words(l), (l.lanes as u32 * l.bias_bits) as u64))
        .sum();
    // Potentials live in block RAM when they would take many flip-flops
    // (ttfs_dense_layer POT_RAM = 1, which needs two or more blocks).
    let potentials: u64 = plan
        .layers
        .iter()
        .filter(|l| potentials_in_ram(l))
        .map(|l| plan.target.memory_blocks(potential_words(l), u64::from(l.lanes as u32 * l.potential_bits)))
        .sum();
    let mut bram = fifos + bias + potentials;
    let mut spram = 0;
    // Largest layers first into SPRAM when block RAM runs out.
    let mut order: Vec<usize> = (0..plan.layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.layers[i].weight_words * plan.layers[i].weight_word_bits));
    let mut remaining_bram: u64 =
        plan.layers.iter().map(|l| plan.target.memory_blocks(l.weight_words, l.weight_word_bits)).sum::<u64>() + bram;
    for i in order {
        let layer = &mut plan.layers[i];
        let in_bram = plan.target.memory_blocks(layer.weight_words, layer.weight_word_bits);
        let in_spram = spram_blocks(layer.weight_words, layer.weight_word_bits);
        // One ttfs_weight_spram holds 16 k words of up to 64 bits.
        let spram_shape = layer.weight_words <= SPRAM_WORDS && layer.weight_word_bits <= 4 * SPRAM_WIDTH;
        if remaining_bram > have.bram_blocks
            && have.spram_blocks > 0
            && spram_shape
            && spram + in_spram <= have.spram_blocks
        {
            layer.weight_store = WeightStore::Spram;
            spram += in_spram;
            remaining_bram -= in_bram;
        } else {
            bram += in_bram;
        }
    }
    let dsp = plan.layers.iter().map(|l| l.dsp_lanes as u64).sum();
    plan.needs = Resources { logic_cells: 0, bram_blocks: bram, spram_blocks: spram, dsp_blocks: dsp };
    if bram > have.bram_blocks || spram > have.spram_blocks {
        let weights: Vec<String> = plan
            .layers
            .iter()
            .map(|l| {
                let store = match l.weight_store {
                    WeightStore::BlockRam => "block RAM",
                    WeightStore::Spram => "SPRAM",
                    WeightStore::RomMacro => "a ROM macro",
                };
                format!("'{}' {} words × {} bits in {store}", l.name, l.weight_words, l.weight_word_bits)
            })
            .collect();
        return Err(PlanError::DoesNotFit {
            target: plan.target,
            details: format!(
                "it needs {bram} block RAMs ({fifos} for spike queues, {bias} for biases, {potentials} for potentials, the rest for weights: {}) and {spram} SPRAMs; \
                 the device has {} block RAMs and {} SPRAMs ({} block RAMs and {} SPRAMs too many){}",
                weights.join(", "),
                have.bram_blocks,
                have.spram_blocks,
                bram.saturating_sub(have.bram_blocks),
                spram.saturating_sub(have.spram_blocks),
                spram_misfits(plan)
            ),
        });
    }
    Ok(())
}
