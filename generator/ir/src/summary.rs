//! What `ttfs inspect NET.json` shows: the layers, shapes, windows, register widths,
//! parameter counts and memory bits of a network description.

use crate::Network;
use serde::Serialize;
use std::path::Path;

/// One row of the inspection.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// Layer name.
    pub name: String,
    /// Layer kind.
    pub kind: String,
    /// Input shape.
    pub input: Vec<usize>,
    /// Output shape.
    pub output: Vec<usize>,
    /// Continuous window `[t_min, t_max]` (hidden layers).
    pub window: Option<[f64; 2]>,
    /// X_n on the calibration data.
    pub x_max: Option<f64>,
    /// Ticks T_n of the layer's window.
    pub ticks: Option<u32>,
    /// β_n.
    pub beta: Option<i64>,
    /// Weight bits.
    pub weight_bits: Option<u32>,
    /// Current (slope) register bits.
    pub current_bits: Option<u32>,
    /// Potential register bits.
    pub potential_bits: Option<u32>,
    /// Weights and biases.
    pub parameters: usize,
    /// Bits to store the integer weights and biases.
    pub memory_bits: u64,
}

/// The whole inspection.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Summary {
    /// Network name.
    pub name: String,
    /// Neuron model.
    pub neuron: String,
    /// Input shape, range and ticks.
    pub input_shape: Vec<usize>,
    /// Raw input range.
    pub input_range: [f64; 2],
    /// Number of per-feature input ranges (0: one range for all).
    pub feature_ranges: usize,
    /// T_0.
    pub input_ticks: Option<u32>,
    /// Layers.
    pub layers: Vec<LayerSummary>,
    /// Total parameters.
    pub parameters: usize,
    /// Total memory bits of integer weights and biases.
    pub memory_bits: u64,
    /// Σ_n T_n over spiking layers (input and hidden): the tick-serial latency bound.
    pub total_ticks: Option<u64>,
    /// Continuous latency t_min of the output layer (units of τ_c).
    pub latency_tau: f64,
    /// Converter notes.
    pub notes: Vec<String>,
}

/// Summarizes a validated network.
pub fn summarize(net: &Network) -> Summary {
    let shapes = net.shapes();
    let mut layers = Vec::new();
    let mut latency = net.input.window.t_max;
    let mut total_ticks = net.input.code.map(|c| u64::from(c.ticks));
    for (k, layer) in net.layers.iter().enumerate() {
        let params = layer.params();
        let quant = params.and_then(|p| p.quant.as_ref());
        let fire = quant.and_then(|q| q.fire);
        if let Some(w) = params.and_then(|p| p.window) {
            latency = w.t_max;
        }
        if let (Some(t), Some(f)) = (total_ticks.as_mut(), fire) {
            *t += u64::from(f.ticks);
        }
        let parameters = params.map_or(0, |p| p.weights.len() + p.bias_map.as_ref().map_or(p.bias.len(), Vec::len));
        let memory_bits = quant.map_or(0, |q| {
            let biases = q.bias_map.as_ref().map_or(q.bias.len(), Vec::len) as u64;
            q.weights.len() as u64 * u64::from(q.weight_bits) + biases * u64::from(q.widths.bias)
        });
        layers.push(LayerSummary {
            name: layer.name().to_string(),
            kind: layer.kind().to_string(),
            input: shapes[k].0.clone(),
            output: shapes[k + 1].0.clone(),
            window: params.and_then(|p| p.window).map(|w| [w.t_min, w.t_max]),
            x_max: params.and_then(|p| p.x_max),
            ticks: fire.map(|f| f.ticks),
            beta: fire.map(|f| f.beta),
            weight_bits: quant.map(|q| q.weight_bits),
            current_bits: quant.map(|q| q.widths.current),
            potential_bits: quant.map(|q| q.widths.potential),
            parameters,
            memory_bits,
        });
    }
    Summary {
        name: net.name.clone(),
        neuron: net.neuron.as_str().to_string(),
        input_shape: net.input.shape.clone(),
        input_range: net.input.range,
        feature_ranges: net.input.feature_ranges.as_ref().map_or(0, Vec::len),
        input_ticks: net.input.code.map(|c| c.ticks),
        parameters: layers.iter().map(|l| l.parameters).sum(),
        memory_bits: layers.iter().map(|l| l.memory_bits).sum(),
        layers,
        total_ticks,
        latency_tau: latency,
        notes: net.notes.clone(),
    }
}

/// Loads and summarizes a network description.
pub fn run(path: &Path) -> Result<Summary, crate::LoadError> {
    Ok(summarize(&crate::load(path)?))
}

fn shape(s: &[usize]) -> String {
    s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or("—".into(), |v| v.to_string())
}

/// Renders the summary as a table.
pub fn render(s: &Summary) -> String {
    let range = if s.feature_ranges > 0 {
        "a range per feature".to_string()
    } else {
        format!("[{}, {}]", s.input_range[0], s.input_range[1])
    };
    let mut out = format!(
        "network {} ({} neuron): input {} in {range}, {} ticks\n\n",
        s.name,
        s.neuron,
        shape(&s.input_shape),
        or_dash(s.input_ticks)
    );
    out.push_str("#  layer              kind      in → out                window [t_min, t_max]   X_n      T    β    w  I   V   params   mem bits\n");
    for (k, l) in s.layers.iter().enumerate() {
        out.push_str(&format!(
            "{k:<2} {:<18} {:<9} {:<23} {:<23} {:<8} {:<4} {:<4} {:<2} {:<3} {:<3} {:<8} {}\n",
            l.name,
            l.kind,
            format!("{} → {}", shape(&l.input), shape(&l.output)),
            l.window.map_or("—".into(), |w| format!("[{:.4}, {:.4}]", w[0], w[1])),
            l.x_max.map_or("—".into(), |x| format!("{x:.4}")),
            or_dash(l.ticks),
            or_dash(l.beta),
            or_dash(l.weight_bits),
            or_dash(l.current_bits),
            or_dash(l.potential_bits),
            l.parameters,
            l.memory_bits
        ));
    }
    out.push_str(&format!(
        "\nparameters {}, integer weights and biases {} bits ({:.1} KiB); Σ T_n = {} ticks; continuous latency {:.4} τ_c\n",
        s.parameters,
        s.memory_bits,
        s.memory_bits as f64 / 8192.0,
        or_dash(s.total_ticks),
        s.latency_tau
    ));
    for n in &s.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}
