//! Making a plan: lanes and blocks per layer, register widths, where each
//! layer's weights live, and whether the memories (block RAM, SPRAM) fit
//! the target. A pure function of the network description and the
//! options; nothing is written before the plan says the memories fit.
//!
//! Logic is estimated, not checked: the plan's logic-cell need is the
//! pre-synthesis estimate ([`crate::estimate`]), which `generate` reports;
//! a design too big in logic is still planned (it simulates), and `ttfs
//! synth` refuses it after packing, before place and route.

use crate::plan::{LayerPlan, Plan, SMALL_ROM_WORDS, WeightStore, index_bits, potentials_in_ram, queue_addr_bits};
use crate::target::{Resources, SPRAM_WIDTH, SPRAM_WORDS, Target, bram_blocks, spram_blocks};
use thiserror::Error;
use ttfs_ir::{Layer, Network, NeuronModel, Role, bounds::signed_bits};

/// Why a network cannot be turned into hardware (as asked).
#[derive(Debug, Error, PartialEq)]
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
    if let Some(layer) = net.layers.iter().find(|l| !matches!(l, Layer::Dense(_))) {
        return Err(PlanError::Unsupported(format!(
            "layer '{}' is a {} layer; the generator builds dense networks for now (convolution and pooling hardware comes in a later release)",
            layer.name(),
            layer.kind()
        )));
    }
    let dense: Vec<(usize, &ttfs_ir::Dense)> = net.dense_layers().collect();
    let lanes_of = |i: usize, outputs: usize| -> Result<usize, PlanError> {
        let asked = match lanes.len() {
            0 => return Ok(outputs.min(default_lanes(target))),
            1 => lanes[0],
            n if n == dense.len() => lanes[i],
            n => {
                return Err(PlanError::Option(format!(
                    "--lanes-per-layer has {n} values for {} layers; give one per layer",
                    dense.len()
                )));
            }
        };
        Ok(if asked == 0 { outputs } else { asked.min(outputs) })
    };
    let code = net.input.code.expect("b1 networks have an input code");
    let mut value_bits = code.time_bits;
    let mut index_in = index_bits(net.input.shape.iter().product());
    let mut dsp_left = target.resources().dsp_blocks;
    let mut layers = Vec::new();
    for (i, (k, d)) in dense.iter().enumerate() {
        let quant = d.params.quant.as_ref().expect("b1 layers are quantized");
        if quant.bias_map.is_some() {
            return Err(PlanError::Unsupported(format!(
                "layer '{}' has a per-position bias map (a folded padded convolution); the generator builds plain dense layers",
                d.name
            )));
        }
        // The fewest lanes that keep the same number of blocks: the cycles
        // depend on the blocks only, so extra lanes would be idle logic
        // (10 outputs at 8 lanes are 2 blocks, as at 5 lanes).
        let blocks = d.outputs.div_ceil(lanes_of(i, d.outputs)?);
        let lanes = d.outputs.div_ceil(blocks);
        let fire = quant.fire;
        let dsp_lanes = if dsp_left >= lanes as u64 { lanes } else { 0 };
        dsp_left -= dsp_lanes as u64;
        let output_index_bits = index_bits(d.outputs);
        layers.push(LayerPlan {
            layer: *k,
            name: d.name.clone(),
            hidden: d.role == Role::Hidden,
            inputs: d.inputs,
            outputs: d.outputs,
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
            weight_words: (d.inputs * blocks) as u64,
            weight_word_bits: (lanes as u32 * quant.weight_bits) as u64,
            weight_store: WeightStore::BlockRam,
            dsp_lanes,
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
    };
    place_weights(&mut plan)?;
    plan.needs.logic_cells = crate::estimate::estimate(&plan).logic_cells;
    Ok(plan)
}

/// The default lanes of a target: the UP5K's 8 DSPs (and its 64-bit SPRAM
/// word) suit 8 lanes; the HX8K has no DSPs and every lane costs a logic
/// multiplier (about 250 logic cells), so 3 lanes: the digits MLP's board
/// design then takes 49 % of the device (4 lanes: 53 %) and runs at ~80 MHz.
fn default_lanes(target: Target) -> usize {
    match target {
        Target::Ice40Up5k | Target::Generic => 8,
        Target::Ice40Hx8k => 3,
    }
}

/// Block RAMs for the spike queues in front of each layer.
fn fifo_blocks(plan: &Plan) -> u64 {
    plan.layers
        .iter()
        .map(|layer| {
            let width = u64::from(layer.input_value_bits) + u64::from(layer.input_index_bits) + 1;
            bram_blocks(1 << queue_addr_bits(layer.inputs as u64), width)
        })
        .sum()
}

/// Puts each layer's weights in block RAM while it fits, the rest in SPRAM
/// (UP5K), and checks the totals against the device.
fn place_weights(plan: &mut Plan) -> Result<(), PlanError> {
    let have = plan.target.resources();
    let fifos = fifo_blocks(plan);
    // Bias memories of a few words become LUT ROMs, not block RAM.
    let bias: u64 = plan
        .layers
        .iter()
        .filter(|l| l.blocks >= SMALL_ROM_WORDS)
        .map(|l| bram_blocks(l.blocks as u64, (l.lanes as u32 * l.bias_bits) as u64))
        .sum();
    // Potentials live in block RAM when they would take many flip-flops
    // (ttfs_dense_layer POT_RAM = 1, which needs two or more blocks).
    let potentials: u64 = plan
        .layers
        .iter()
        .filter(|l| potentials_in_ram(l))
        .map(|l| bram_blocks(l.blocks as u64, u64::from(l.lanes as u32 * l.potential_bits)))
        .sum();
    let mut bram = fifos + bias + potentials;
    let mut spram = 0;
    // Largest layers first into SPRAM when block RAM runs out.
    let mut order: Vec<usize> = (0..plan.layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.layers[i].weight_words * plan.layers[i].weight_word_bits));
    let mut remaining_bram: u64 =
        plan.layers.iter().map(|l| bram_blocks(l.weight_words, l.weight_word_bits)).sum::<u64>() + bram;
    for i in order {
        let layer = &mut plan.layers[i];
        let in_bram = bram_blocks(layer.weight_words, layer.weight_word_bits);
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
                };
                format!("'{}' {} words × {} bits in {store}", l.name, l.weight_words, l.weight_word_bits)
            })
            .collect();
        return Err(PlanError::DoesNotFit {
            target: plan.target,
            details: format!(
                "it needs {bram} block RAMs ({fifos} for spike queues, {bias} for biases, {potentials} for potentials, the rest for weights: {}) and {spram} SPRAMs; \
                 the device has {} block RAMs and {} SPRAMs ({} block RAMs and {} SPRAMs too many). Try fewer weight bits (convert with --weight-bits 4), \
                 a target with more memory (--target ice40-up5k keeps large weights in SPRAM, --target generic has no limit), \
                 or a smaller network",
                weights.join(", "),
                have.bram_blocks,
                have.spram_blocks,
                bram.saturating_sub(have.bram_blocks),
                spram.saturating_sub(have.spram_blocks)
            ),
        });
    }
    Ok(())
}
