//! The ttfs-hdl network description (`net.json`): the one contract every
//! stage reads.
//!
//! A [`Network`] holds both the float network after folding (for exactness
//! checks and fine-tuning) and, for constant-slope (`b1`) networks, the integer
//! network that the hardware computes (weights, biases, scales β and register
//! widths). The discrete semantics it encodes are those of `docs/net-json.md`:
//! a value q in `0..=T` travels as one spike at tick `T − q`; a hidden neuron
//! computes `q = clamp(floor(V / β), 0, T)` from its integer potential
//! `V = b + Σ W·q_in`.
//!
//! This crate has no heavy dependencies: serde types, [`Network::validate`],
//! the geometry of every layer kind, and the worst-case bounds from which the
//! register widths are derived ([`bounds`]). Since version 3 a description
//! is two files, the JSON and a safetensors sidecar with the tensors; [`save`]
//! writes them and [`load`] reads and checks them ([`sidecar`], which adds the
//! `safetensors` and `sha2` crates).

pub mod bounds;
mod geometry;
pub mod limits;
pub mod sidecar;
pub mod summary;
mod validate;

pub use geometry::{Shape, conv_out_dim};
pub use sidecar::{SaveError, SavedFiles, SidecarError, save, sidecar_path};
pub use validate::IrError;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The value of [`Network::format`].
pub const FORMAT: &str = "ttfs-net";
/// The schema version this crate writes; it reads every version from 1 (a
/// version 1 description has one input range for all features; version 3
/// may keep its tensors in a sidecar file, see [`sidecar`]).
pub const VERSION: u32 = 3;

/// A converted TTFS network.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Always [`FORMAT`]; guards against feeding another JSON file.
    pub format: String,
    /// Schema version; [`VERSION`] for this crate.
    pub version: u32,
    /// Human-readable name (from the model file), used for module names later.
    pub name: String,
    /// Which neuron model the spiking network uses.
    pub neuron: NeuronModel,
    /// How input values become spikes.
    pub input: Input,
    /// The layers in order; the last one is the dense output layer.
    pub layers: Vec<Layer>,
    /// How the time windows were calibrated.
    pub calibration: Calibration,
    /// Where the network came from.
    pub source: Source,
    /// Notes from the converter for the user (dropped classifier tails, folds).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The neuron model of the hidden layers.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NeuronModel {
    /// Paper 2's constant-slope neuron: weights are the ReLU weights, the
    /// slope after `t_min` is 1, silent neurons send no spike.
    B1,
    /// Paper 1's α/J neuron: J = W/(1 − ΣW), every neuron spikes (forced at
    /// `t_max`). Continuous simulation only; no integer network.
    Alpha,
}

impl NeuronModel {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NeuronModel::B1 => "b1",
            NeuronModel::Alpha => "alpha",
        }
    }
}

/// The input layer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Canonical shape the first layer reads: `[features]` or `[C, H, W]`.
    pub shape: Vec<usize>,
    /// The model's own input shape without the batch axis (how data rows are
    /// laid out); equal to `shape` unless the model reads NHWC.
    pub data_shape: Vec<usize>,
    /// Canonical axis `i` is data axis `data_permutation[i]`.
    pub data_permutation: Vec<usize>,
    /// The raw value range `[p, r]` mapped onto the input window: a value v
    /// becomes `x0 = (v − p)/(r − p)`, clipped to `[0, 1]` (unless
    /// `feature_ranges` gives each element its own).
    pub range: [f64; 2],
    /// Per-feature ranges `[p_i, r_i]`, one per element of `shape` in
    /// canonical order (version 2): features on different scales each use
    /// the whole input window. Absent: `range` for every element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_ranges: Option<Vec<[f64; 2]>>,
    /// The continuous input window, always `[0, 1]`.
    pub window: Window,
    /// Integer input coding; `None` for α/J networks.
    pub code: Option<InputCode>,
}

/// Integer coding of the input layer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputCode {
    /// B_0: the input spike-time resolution in bits.
    pub time_bits: u32,
    /// T_0 = 2^B_0 − 1: the host sends `q0 = clamp(floor(T_0·x0 + 1/2), 0, T_0)`.
    pub ticks: u32,
}

/// A continuous time window `[t_min, t_max]` (units of τ_c).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Start of the window: the previous layer's `t_max`.
    pub t_min: f64,
    /// End of the window; a value x is sent at `t_max − x`.
    pub t_max: f64,
}

impl Window {
    /// The window length B_n = t_max − t_min.
    pub fn length(&self) -> f64 {
        self.t_max - self.t_min
    }
}

/// One layer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Layer {
    /// Fully connected layer.
    Dense(Dense),
    /// 2-D convolution (group 1).
    Conv2d(Conv2d),
    /// Max pooling: the first spike in the pool wins; no window of its own.
    MaxPool(MaxPool),
    /// Flatten `[C, H, W]` to `[C·H·W]` (row-major); no computation.
    Flatten(Flatten),
}

/// Whether a weight layer spikes or is the readout.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// ReLU layer whose neurons spike in their own window.
    Hidden,
    /// The last layer: no ReLU, no spikes; the potentials are the logits.
    Output,
}

/// A fully connected layer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dense {
    /// Name (from the model's node).
    pub name: String,
    /// Number of inputs.
    pub inputs: usize,
    /// Number of neurons.
    pub outputs: usize,
    /// Hidden or output.
    pub role: Role,
    /// Weights, biases, window and integer parameters.
    pub params: Params,
}

/// A 2-D convolution over `[C, H, W]`, group 1, zero padding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Conv2d {
    /// Name (from the model's node).
    pub name: String,
    /// Input shape `[C, H, W]`.
    pub in_shape: [usize; 3],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Zero padding `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Hidden or output.
    pub role: Role,
    /// Weights `[co][ci][kh][kw]`, biases, window and integer parameters.
    pub params: Params,
}

/// Max pooling over `[C, H, W]`; padded positions never win (they are
/// "no spike"), matching ONNX's −∞ padding on non-negative activations.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MaxPool {
    /// Name (from the model's node).
    pub name: String,
    /// Input shape `[C, H, W]`.
    pub in_shape: [usize; 3],
    /// Pool `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding `[top, left, bottom, right]`.
    pub pads: [usize; 4],
}

/// Flatten `[C, H, W]` into a vector (row-major, channel first).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Flatten {
    /// Name (from the model's node).
    pub name: String,
    /// Input shape `[C, H, W]`.
    pub in_shape: [usize; 3],
}

/// Parameters of a weight layer (dense or conv).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Float weights after all folds (dense `[out][in]`, conv `[co][ci][kh][kw]`),
    /// acting on activations in the units of the previous window (input: x0 in `[0, 1]`).
    ///
    /// This and the other tensor fields (`bias`, `bias_map` and their integer
    /// counterparts in [`Quant`]) may be left out of the JSON when the
    /// description keeps them in its sidecar ([`sidecar`]); they are then
    /// empty (or `None`) until [`load`] fills them in from the sidecar, and
    /// an empty one is not written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f64>,
    /// Float bias per output channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bias: Vec<f64>,
    /// Conv only: a bias per output position `[co][oh][ow]`, present when
    /// folding an input offset into a zero-padded convolution made the bias
    /// depend on how many taps fall into the padding. Replaces `bias`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_map: Option<Vec<f64>>,
    /// Hidden layers: the continuous window of this layer's spikes.
    pub window: Option<Window>,
    /// Hidden layers: X_n, the largest activation on the calibration data.
    pub x_max: Option<f64>,
    /// The integer network (b1 networks only).
    pub quant: Option<Quant>,
}

/// Integer parameters of a weight layer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quant {
    /// b: weights lie in `±(2^(b−1) − 1)`.
    pub weight_bits: u32,
    /// σ_n: the float pre-activation is `σ_n · (V − floor(β_n/2))` for hidden
    /// layers (the rounding offset is in the bias) and `σ_n · V` for the
    /// output layer (the logit scale).
    pub potential_scale: f64,
    /// Integer weights, same layout as the float weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<i32>,
    /// Integer bias per output channel (hidden layers include the `floor(β/2)`
    /// that turns the floor of the semantics into round-to-nearest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bias: Vec<i64>,
    /// Conv only: integer bias per output position, when the float one has a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_map: Option<Vec<i64>>,
    /// Hidden layers: how the potential becomes a spike tick.
    pub fire: Option<Fire>,
    /// Register widths, derived from worst-case bounds.
    pub widths: Widths,
}

/// Firing parameters of a hidden layer's integer neurons.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fire {
    /// B_n: the layer's time bits.
    pub time_bits: u32,
    /// T_n = 2^B_n − 1 ticks.
    pub ticks: u32,
    /// β_n ≥ 1: the potential rises by β_n per tick in phase 2; `q = clamp(floor(V/β), 0, T)`.
    pub beta: i64,
    /// s_n = σ_n·β_n: the float activation per unit of q.
    pub activation_scale: f64,
}

/// Signed two's-complement register widths (bits) and the bounds behind them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Widths {
    /// Integer weight width: the weight bits.
    pub weight: u32,
    /// Bias register width.
    pub bias: u32,
    /// Slope (current) register I: `|I| ≤ max_i Σ_j |W_ij|`.
    pub current: u32,
    /// Potential register V: phase 1 `|V| ≤ |b_i| + Σ_j |W_ij|·T_in`, phase 2
    /// up to `T_n·β_n + β_n`.
    pub potential: u32,
    /// The bound behind `current`.
    pub max_abs_current: i64,
    /// The bound behind `potential`.
    pub max_abs_potential: i64,
}

/// How the time windows were set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The calibration data file (file name only, so output is reproducible).
    pub data: String,
    /// Number of calibration samples.
    pub samples: usize,
    /// ζ: each window is `(1 + ζ)·X_n`.
    pub margin: f64,
    /// Calibration inputs outside `[p, r]` (clipped at encoding).
    pub clipped_inputs: usize,
    /// Activations that left their window in the continuous network, on the calibration data.
    pub clipped_continuous: usize,
    /// Activations clipped at T_n in the integer network, on the calibration data.
    pub clipped_discrete: Option<usize>,
}

/// Provenance of the network.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Model name (the model file's stem, or the JSON model form's `name`).
    pub model: String,
    /// The tool that produced the model, as recorded in the file (e.g. "skl2onnx 1.20.0").
    pub producer: String,
    /// The ttfs version that converted it.
    pub converter: String,
}

impl Input {
    /// The raw range `[p, r]` of canonical element `i`.
    pub fn range_of(&self, i: usize) -> [f64; 2] {
        self.feature_ranges.as_ref().and_then(|r| r.get(i).copied()).unwrap_or(self.range)
    }

    /// Reorders one sample from the model's data layout (`data_shape`) into
    /// the canonical layout (`shape`). Assumes `sample.len()` is the input size.
    pub fn to_canonical(&self, sample: &[f64]) -> Vec<f64> {
        if self.data_permutation.iter().enumerate().all(|(i, &p)| i == p) {
            return sample.to_vec();
        }
        canonical_to_data(&self.data_shape, &self.data_permutation).into_iter().map(|d| sample[d]).collect()
    }
}

/// For each element of the canonical layout (row-major over the axes
/// `data_shape[permutation[i]]`), its index in the data layout (row-major
/// over `data_shape`). Assumes `permutation` permutes the axes of
/// `data_shape` (as validation guarantees).
pub fn canonical_to_data(data_shape: &[usize], permutation: &[usize]) -> Vec<usize> {
    let rank = permutation.len();
    let canonical: Vec<usize> = permutation.iter().map(|&a| data_shape[a]).collect();
    let mut data_strides = vec![1usize; rank];
    for a in (0..rank.saturating_sub(1)).rev() {
        data_strides[a] = data_strides[a + 1] * data_shape[a + 1];
    }
    let n: usize = canonical.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; rank];
    for _ in 0..n {
        out.push((0..rank).map(|i| index[i] * data_strides[permutation[i]]).sum());
        for a in (0..rank).rev() {
            index[a] += 1;
            if index[a] < canonical[a] {
                break;
            }
            index[a] = 0;
        }
    }
    out
}

impl Layer {
    /// The layer's name.
    pub fn name(&self) -> &str {
        match self {
            Layer::Dense(l) => &l.name,
            Layer::Conv2d(l) => &l.name,
            Layer::MaxPool(l) => &l.name,
            Layer::Flatten(l) => &l.name,
        }
    }

    /// The kind as written in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Conv2d(_) => "conv2d",
            Layer::MaxPool(_) => "max_pool",
            Layer::Flatten(_) => "flatten",
        }
    }

    /// Weight-layer parameters, if this is a dense or conv layer.
    pub fn params(&self) -> Option<&Params> {
        match self {
            Layer::Dense(l) => Some(&l.params),
            Layer::Conv2d(l) => Some(&l.params),
            _ => None,
        }
    }

    /// Mutable weight-layer parameters.
    pub fn params_mut(&mut self) -> Option<&mut Params> {
        match self {
            Layer::Dense(l) => Some(&mut l.params),
            Layer::Conv2d(l) => Some(&mut l.params),
            _ => None,
        }
    }

    /// For a weight layer: (number of weight rows, weights per row), i.e.
    /// (outputs, inputs) for dense and (out channels, `ci·kh·kw`) for conv.
    pub fn weight_rows(&self) -> Option<(usize, usize)> {
        match self {
            Layer::Dense(l) => Some((l.outputs, l.inputs)),
            // Saturating: a hostile description's kernel must not wrap here;
            // validation refuses a row that long.
            Layer::Conv2d(l) => {
                Some((l.out_channels, l.in_shape[0].saturating_mul(l.kernel[0]).saturating_mul(l.kernel[1])))
            }
            _ => None,
        }
    }

    /// The layer's output shape for `input`, or why the two do not fit.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        geometry::output_shape(self, input)
    }

    /// The role of a weight layer.
    pub fn role(&self) -> Option<Role> {
        match self {
            Layer::Dense(l) => Some(l.role),
            Layer::Conv2d(l) => Some(l.role),
            _ => None,
        }
    }
}

/// Why a network description file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid description.
    #[error("{} is not a usable network description", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: IrError,
    },
    /// The description's tensor sidecar is missing, damaged, or disagrees
    /// with the description.
    #[error("cannot load {} with its tensor sidecar {}", json.display(), sidecar.display())]
    Sidecar {
        /// The description (JSON).
        json: PathBuf,
        /// The sidecar it names.
        sidecar: PathBuf,
        /// What is wrong.
        #[source]
        source: SidecarError,
    },
}

/// A loaded description and what its user should be told about the file
/// (not about the network: those are the network's own `notes`).
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The validated network.
    pub network: Network,
    /// Notes about the file, e.g. that it is of an older version.
    pub notes: Vec<String>,
}

/// Reads and validates the network description at `path`, of any version
/// from 1 to [`VERSION`], with its tensors inline or in the sidecar it
/// names (which must lie beside it).
///
/// Guarantees: on `Ok`, the network passed [`Network::validate`] and holds
/// every tensor; the notes are for the user and are never added to the
/// network. An error names the file (and the sidecar, for its errors).
pub fn load_with_notes(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.to_path_buf(), source })?;
    let invalid = |source| LoadError::Invalid { path: path.to_path_buf(), source };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| invalid(IrError::Parse(e.to_string())))?;
    drop(text);
    let network = sidecar::network_from_value(value, Some(path)).map_err(|e| match e {
        sidecar::FromValueError::Ir(source) => invalid(source),
        sidecar::FromValueError::Sidecar(sidecar, source) => {
            LoadError::Sidecar { json: path.to_path_buf(), sidecar, source }
        }
    })?;
    let mut notes = Vec::new();
    if network.version < VERSION {
        notes.push(format!(
            "{} is a version {} network description; it still loads, and `ttfs convert` and `ttfs passes run` write version {VERSION} (tensors in a .safetensors sidecar)",
            path.display(),
            network.version
        ));
    }
    Ok(Loaded { network, notes })
}

/// [`load_with_notes`], printing each note on stderr (`note: …`) the first
/// time this process sees it, so a file loaded by several stages is noted
/// once.
pub fn load(path: &Path) -> Result<Network, LoadError> {
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let loaded = load_with_notes(path)?;
    for note in loaded.notes {
        let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
        if !shown.contains(&note) {
            eprintln!("note: {note}");
            shown.push(note);
        }
    }
    Ok(loaded.network)
}

impl Network {
    /// Parses and validates a self-contained network description (every
    /// tensor inline, as [`Network::to_json`] writes it). A description
    /// whose tensors are in a sidecar is refused here: [`load`] reads it
    /// from its file, beside which the sidecar lies.
    ///
    /// Guarantees: on `Ok`, every invariant of [`Network::validate`] holds.
    pub fn from_json(text: &str) -> Result<Network, IrError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| IrError::Parse(e.to_string()))?;
        sidecar::network_from_value(value, None).map_err(|e| match e {
            sidecar::FromValueError::Ir(e) => e,
            // Unreachable without a path; kept total rather than panicking.
            sidecar::FromValueError::Sidecar(path, e) => {
                IrError::Invalid { path: "tensors".into(), message: format!("{}: {e}", path.display()) }
            }
        })
    }

    /// Serializes to pretty JSON with a final newline (deterministic: the
    /// same network gives the same bytes).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("network serializes");
        s.push('\n');
        s
    }

    /// The dense layers with their indices in `layers`, in order.
    pub fn dense_layers(&self) -> impl Iterator<Item = (usize, &Dense)> {
        self.layers.iter().enumerate().filter_map(|(k, l)| match l {
            Layer::Dense(d) => Some((k, d)),
            _ => None,
        })
    }

    /// The time bits of an integer network as the converter's `--time-bits`
    /// takes them: the input's, then each firing layer's, in order (empty
    /// for an α/J network).
    pub fn time_bits(&self) -> Vec<u32> {
        let mut bits: Vec<u32> = self.input.code.map(|c| c.time_bits).into_iter().collect();
        bits.extend(
            self.layers.iter().filter_map(|l| l.params()).filter_map(|p| p.quant.as_ref()?.fire.map(|f| f.time_bits)),
        );
        bits
    }

    /// Number of classes (outputs of the last layer).
    pub fn classes(&self) -> usize {
        self.shapes().last().map(|s| s.len()).unwrap_or(0)
    }

    /// The shape after each layer (index 0 is the input shape; index `k+1` the
    /// output of layer `k`). Assumes a validated network.
    pub fn shapes(&self) -> Vec<Shape> {
        let mut shapes = vec![Shape(self.input.shape.clone())];
        for layer in &self.layers {
            let last = shapes.last().expect("input shape").clone();
            shapes.push(geometry::output_shape(layer, &last).unwrap_or(last));
        }
        shapes
    }
}
