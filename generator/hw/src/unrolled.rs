//! The network fully unrolled: the baseline the TTFS design is compared
//! with (`ttfs synth --asic --unrolled`). Every weight is a constant
//! multiplier (`ttfs_unrolled_neuron`), every hidden neuron has its own fire
//! unit (`ttfs_fire`), the class comes from a tournament tree
//! (`ttfs_argmax`): one inference per cycle, no weight memory, and the
//! same numbers as the discrete reference's closed form.
//!
//! Two scopes: the whole network, or one neuron of one layer (its inputs on
//! the ports), for networks too large to synthesize unrolled, whose area is
//! then extrapolated from one neuron per layer. Each comes with a test bench
//! that checks it, vector by vector, against the reference.
//!
//! Dense networks only: a convolution's unrolled form is a different
//! circuit (shared weights, many positions), and is refused with a reason.

use crate::view::{VERSION, file_text, top_name};
use anyhow::{Result, bail};
use askama::Template;
use std::collections::BTreeMap;
use ttfs_ir::{Layer, Network};
use ttfs_sim::{Prepared, quantized};

/// The blocks an unrolled design uses, by file name.
pub const BLOCKS: [(&str, &str); 3] = [
    ("ttfs_unrolled_neuron.v", include_str!("../../../rtl-templates/lib/ttfs_unrolled_neuron.v")),
    ("ttfs_fire.v", include_str!("../../../rtl-templates/lib/ttfs_fire.v")),
    ("ttfs_argmax.v", include_str!("../../../rtl-templates/lib/ttfs_argmax.v")),
];

/// Division steps per pipeline stage of the unrolled fire units: a hidden
/// value takes ⌈B / 4⌉ + 1 cycles, and a division stage's four chained
/// subtractors are about as deep as a neuron's adder tree.
pub const FIRE_STEPS: u32 = 4;

/// The input vectors of the test bench ($readmemh, one vector a line).
pub const IN_FILE: &str = "unrolled_in.hex";
/// Its expected results.
pub const EXPECTED_FILE: &str = "unrolled_expected.hex";

/// One dense weight layer, as the unrolled form needs it.
#[derive(Clone, Debug)]
pub struct UnrolledLayer {
    /// Its index among the weight layers (0: the first).
    pub index: usize,
    /// Its name in the network (for reports, never for code).
    pub name: String,
    /// Inputs.
    pub inputs: usize,
    /// Neurons.
    pub outputs: usize,
    /// Bits of each input value.
    pub input_bits: u32,
    /// Weight bits.
    pub weight_bits: u32,
    /// Potential bits (signed).
    pub potential_bits: u32,
    /// Hidden layers: (time bits, β).
    pub fire: Option<(u32, i64)>,
    /// Integer weights, `[out][in]`.
    pub weights: Vec<i32>,
    /// Integer biases.
    pub bias: Vec<i64>,
}

impl UnrolledLayer {
    /// Partial products of neuron `o` after constant folding: the ones in
    /// its weights' magnitudes (what its constant multipliers add up; a zero
    /// weight costs nothing).
    pub fn neuron_cost(&self, o: usize) -> u64 {
        self.weights[o * self.inputs..(o + 1) * self.inputs]
            .iter()
            .map(|w| u64::from(w.unsigned_abs().count_ones()))
            .sum()
    }

    /// The neuron whose cost ([`Self::neuron_cost`]) is the layer's median
    /// (the lower one of an even count; ties to the lower index): the one
    /// that stands for the layer when only one neuron is synthesized.
    pub fn median_neuron(&self) -> usize {
        let mut order: Vec<usize> = (0..self.outputs).collect();
        order.sort_by_key(|&o| (self.neuron_cost(o), o));
        order[(self.outputs - 1) / 2]
    }

    /// Weights held in logic, in bits.
    pub fn weight_bits_total(&self) -> u64 {
        (self.inputs * self.outputs) as u64 * u64::from(self.weight_bits)
    }
}

/// The dense weight layers of `net`, in order. Refuses a network that is
/// not a dense integer (b1) network.
pub fn layers(net: &Network) -> Result<Vec<UnrolledLayer>> {
    let mut out = Vec::new();
    let mut input_bits = match net.input.code {
        Some(code) => code.time_bits,
        None => bail!("the network has no integer input code: convert it with the constant-slope (b1) neuron"),
    };
    for layer in &net.layers {
        match layer {
            Layer::Dense(d) => {
                let Some(quant) = d.params.quant.as_ref() else {
                    bail!("layer '{}' has no integer weights: convert it with the constant-slope (b1) neuron", d.name);
                };
                let fire = quant.fire.map(|f| (f.time_bits, f.beta));
                let l = UnrolledLayer {
                    index: out.len(),
                    name: d.name.clone(),
                    inputs: d.inputs,
                    outputs: d.outputs,
                    input_bits,
                    weight_bits: quant.weight_bits,
                    potential_bits: quant.widths.potential,
                    fire,
                    weights: quant.weights.clone(),
                    bias: quant.bias.clone(),
                };
                if l.weight_bits < 2 || l.weight_bits >= l.potential_bits || l.input_bits >= l.potential_bits {
                    bail!(
                        "layer '{}': {}-bit weights and {}-bit inputs need a wider potential than {} bits",
                        d.name,
                        l.weight_bits,
                        l.input_bits,
                        l.potential_bits
                    );
                }
                if let Some((bits, _)) = fire {
                    input_bits = bits;
                }
                out.push(l);
            }
            Layer::Flatten(_) => {}
            Layer::Conv2d(c) => bail!(
                "layer '{}' is a convolution: the unrolled comparison covers dense networks (a convolution \
                 unrolled shares its weights across positions, a different circuit)",
                c.name
            ),
            Layer::MaxPool(p) => {
                bail!("layer '{}' is a max pool: the unrolled comparison covers dense networks", p.name)
            }
        }
    }
    if out.is_empty() {
        bail!("the network has no weight layer");
    }
    Ok(out)
}

/// What an unrolled top computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole network: input codes in, class and logits out.
    Whole,
    /// Neuron `neuron` of weight layer `layer`: that layer's input values
    /// in, its value (hidden) or logit (output layer) out.
    Neuron {
        /// The weight layer.
        layer: usize,
        /// The neuron.
        neuron: usize,
    },
}

/// An unrolled design: its files and its interface.
#[derive(Clone, Debug)]
pub struct Unrolled {
    /// Top module.
    pub top: String,
    /// `rtl/<block>.v`, `rtl/<top>.v` and `sim/<top>_tb.v`, by relative path.
    pub files: BTreeMap<String, Vec<u8>>,
}

#[derive(Template)]
#[template(path = "unrolled.v")]
struct TopTemplate {
    top: String,
    version: &'static str,
    what: String,
    whole: bool,
    sample_hidden: bool,
    sample_beta: i64,
    sample_ticks: usize,
    n_in: usize,
    qw_in: usize,
    out_w: usize,
    out_vw: usize,
    cls_bits: usize,
    classes: usize,
    latency: usize,
    fire_sps: usize,
    first: usize,
    last: usize,
    layers: Vec<LayerView>,
}

struct LayerView {
    index: usize,
    n_in: usize,
    n_out: usize,
    qw_in: usize,
    wb: usize,
    vw: usize,
    hidden: bool,
    qw_out: usize,
    beta: i64,
    neurons: Vec<NeuronView>,
}

struct NeuronView {
    neuron: usize,
    /// Verilog literal of the packed weights.
    weights: String,
    /// Verilog literal of the bias.
    bias: String,
}

#[derive(Template)]
#[template(path = "unrolled_tb.v")]
struct TbTemplate {
    top: String,
    version: &'static str,
    count: usize,
    in_w: usize,
    out_w: usize,
    in_file: &'static str,
    expected_file: &'static str,
}

/// Values of `bits` bits each (two's complement), value 0 in the least
/// significant bits, as a sized hex literal (`N'h...`).
pub fn packed_literal(values: &[i64], bits: u32) -> String {
    let total = values.len() * bits as usize;
    format!("{total}'h{}", packed_hex(values, bits))
}

/// Values of `bits` bits each (two's complement), value 0 in the least
/// significant bits, as hex digits (most significant first): a `$readmemh`
/// word.
pub fn packed_hex(values: &[i64], bits: u32) -> String {
    let fields: Vec<(i64, u32)> = values.iter().map(|&v| (v, bits)).collect();
    fields_hex(&fields)
}

/// Fields `(value, bits)` in two's complement, the first in the least
/// significant bits, as hex digits (most significant first, at least one).
pub fn fields_hex(fields: &[(i64, u32)]) -> String {
    let total: usize = fields.iter().map(|f| f.1 as usize).sum();
    let mut nibbles = vec![0u8; total.div_ceil(4).max(1)];
    let mut at = 0;
    for &(value, bits) in fields {
        for b in 0..bits {
            // Bits above the 64 of an i64 repeat its sign.
            if (value >> b.min(63)) & 1 == 1 {
                nibbles[at / 4] |= 1 << (at % 4);
            }
            at += 1;
        }
    }
    nibbles.iter().rev().map(|n| char::from_digit(u32::from(*n), 16).expect("a nibble")).collect()
}

/// `count` whole images of input codes for checking an unrolled design
/// without data: the first all zero, the second all at the largest code,
/// the rest pseudo-random from a fixed seed (the same for every run).
pub fn check_images(net: &Network, count: usize) -> Vec<i64> {
    let n_in: usize = net.input.shape.iter().product();
    let ticks = net.input.code.map_or(1, |c| i64::from(c.ticks));
    let mut x: u32 = 0x9e37_79b9;
    (0..count)
        .flat_map(|image| {
            (0..n_in)
                .map(|_| match image {
                    0 => 0,
                    1 => ticks,
                    _ => {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        i64::from(x) % (ticks + 1)
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Cycles from an image to its class in the whole unrolled network: per
/// layer its neurons' register, then a hidden layer's fire unit
/// (⌈B / [`FIRE_STEPS`]⌉ + 1), then the argmax's register.
pub fn latency(layers: &[UnrolledLayer]) -> u32 {
    layers.iter().map(|l| 1 + fire_latency(l)).sum::<u32>() + 1
}

/// Cycles of a layer's fire unit (0 for the output layer).
fn fire_latency(l: &UnrolledLayer) -> u32 {
    l.fire.map_or(0, |(bits, _)| bits.div_ceil(FIRE_STEPS) + 1)
}

/// Bits to hold a class index of `n` classes (at least 1).
fn class_bits(n: usize) -> u32 {
    crate::plan::index_bits(n)
}

/// The top module of the unrolled form of `net` in `scope`.
pub fn top(net: &Network, scope: Scope) -> String {
    let base = top_name(&net.name);
    match scope {
        Scope::Whole => format!("{base}_unrolled"),
        Scope::Neuron { layer, neuron } => format!("{base}_unrolled_l{layer}_n{neuron}"),
    }
}

/// Renders the unrolled form of `net` in `scope`, with a test bench for
/// `count` vectors. Assumes a validated network; refuses what [`layers`]
/// refuses and a neuron that does not exist.
pub fn render(net: &Network, scope: Scope, count: usize) -> Result<Unrolled> {
    let all = layers(net)?;
    let (top, chosen, what): (String, Vec<(usize, Vec<usize>)>, String) = match scope {
        Scope::Whole => (
            top(net, scope),
            all.iter().map(|l| (l.index, (0..l.outputs).collect())).collect(),
            "the whole network".into(),
        ),
        Scope::Neuron { layer, neuron } => {
            let Some(l) = all.get(layer) else {
                bail!("the network has {} weight layers, not {}", all.len(), layer + 1)
            };
            if neuron >= l.outputs {
                bail!("weight layer {layer} has {} neurons, not {}", l.outputs, neuron + 1);
            }
            (top(net, scope), vec![(layer, vec![neuron])], format!("neuron {neuron} of weight layer {layer}"))
        }
    };
    let last = chosen.last().expect("one layer at least").0;
    let views: Vec<LayerView> = chosen
        .iter()
        .map(|(index, neurons)| {
            let l = &all[*index];
            let (qw_out, beta) = l.fire.unwrap_or((1, 1));
            LayerView {
                index: *index,
                n_in: l.inputs,
                n_out: l.outputs,
                qw_in: l.input_bits as usize,
                wb: l.weight_bits as usize,
                vw: l.potential_bits as usize,
                hidden: l.fire.is_some(),
                qw_out: qw_out as usize,
                beta,
                neurons: neurons
                    .iter()
                    .map(|&o| {
                        let w: Vec<i64> =
                            l.weights[o * l.inputs..(o + 1) * l.inputs].iter().map(|&w| i64::from(w)).collect();
                        NeuronView {
                            neuron: o,
                            weights: packed_literal(&w, l.weight_bits),
                            bias: packed_literal(&[l.bias[o]], l.potential_bits),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let first = &all[chosen[0].0];
    let out_layer = &all[last];
    let (out_w, latency, classes, cls_bits) = match scope {
        Scope::Whole => {
            let cls = class_bits(out_layer.outputs);
            (cls + out_layer.outputs as u32 * out_layer.potential_bits, latency(&all), out_layer.outputs, cls)
        }
        Scope::Neuron { .. } => {
            let w = out_layer.fire.map_or(out_layer.potential_bits, |(bits, _)| bits);
            (w, 1 + fire_latency(out_layer), out_layer.outputs, class_bits(out_layer.outputs))
        }
    };
    let template = TopTemplate {
        top: top.clone(),
        version: VERSION,
        what: format!("{what} of {}", crate::view::display_name(&net.name)),
        whole: scope == Scope::Whole,
        sample_hidden: out_layer.fire.is_some(),
        sample_beta: out_layer.fire.map_or(1, |f| f.1),
        sample_ticks: out_layer.fire.map_or(0, |f| (1usize << f.0) - 1),
        n_in: first.inputs,
        qw_in: first.input_bits as usize,
        out_w: out_w as usize,
        out_vw: out_layer.potential_bits as usize,
        cls_bits: cls_bits as usize,
        classes,
        latency: latency as usize,
        fire_sps: FIRE_STEPS as usize,
        first: chosen[0].0,
        last,
        layers: views,
    };
    let mut files = BTreeMap::new();
    for (name, text) in BLOCKS {
        files.insert(format!("rtl/{name}"), text.as_bytes().to_vec());
    }
    files.insert(format!("rtl/{top}.v"), file_text(template.render().expect("the unrolled template renders")));
    let tb = TbTemplate {
        top: top.clone(),
        version: VERSION,
        count: count.max(1),
        in_w: first.inputs * first.input_bits as usize,
        out_w: out_w as usize,
        in_file: IN_FILE,
        expected_file: EXPECTED_FILE,
    };
    files.insert(format!("sim/{top}_tb.v"), file_text(tb.render().expect("the unrolled bench template renders")));
    Ok(Unrolled { top, files })
}

/// The bench's vectors for `codes` (whole input images of `net`): the input
/// vectors and the results the closed form gives, as `$readmemh` text
/// ([`IN_FILE`], [`EXPECTED_FILE`]).
pub fn vectors(net: &Network, scope: Scope, codes: &[i64]) -> Result<(String, String)> {
    let all = layers(net)?;
    let model = Prepared::new(net);
    let n_in = all[0].inputs;
    // The weight layers' positions among the simulator's stages.
    let stage_of: Vec<usize> =
        net.layers.iter().enumerate().filter(|(_, l)| matches!(l, Layer::Dense(_))).map(|(i, _)| i).collect();
    let (mut inputs, mut expected) = (String::new(), String::new());
    for q0 in codes.chunks(n_in) {
        let trace = quantized::forward(&model, q0);
        match scope {
            Scope::Whole => {
                inputs += &packed_hex(q0, all[0].input_bits);
                let logits = trace.logits();
                let out = &all[all.len() - 1];
                // The class in the low bits, then the logits.
                let mut fields = vec![(ttfs_sim::argmax(logits) as i64, class_bits(out.outputs))];
                fields.extend(logits.iter().map(|&v| (v, out.potential_bits)));
                expected += &fields_hex(&fields);
            }
            Scope::Neuron { layer, neuron } => {
                let l = &all[layer];
                let input: &[i64] = if layer == 0 { q0 } else { &trace.values[stage_of[layer - 1]] };
                inputs += &packed_hex(input, l.input_bits);
                let value = trace.values[stage_of[layer]][neuron];
                expected += &packed_hex(&[value], l.fire.map_or(l.potential_bits, |f| f.0));
            }
        }
        inputs.push('\n');
        expected.push('\n');
    }
    Ok((inputs, expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_values_put_value_zero_lowest() {
        assert_eq!(packed_literal(&[1, -1], 4), "8'hf1");
        assert_eq!(packed_hex(&[-127, 127], 8), "7f81");
        assert_eq!(packed_hex(&[5], 3), "5");
        assert_eq!(packed_hex(&[-1], 6), "3f");
        assert_eq!(fields_hex(&[(1, 2), (-1, 6)]), "fd");
        assert_eq!(fields_hex(&[(-1, 70)]).len(), 18);
    }
}
