//! The TTFS file classifier as a file (`ttfs files train -o MODEL.json`):
//! the features fitted on the training split, the encoding, the class
//! names and the network (a `ttfs-ir` description, inline), everything
//! `classify` and `generate` need and nothing about the data beyond it.
//!
//! A model file comes from strangers: [`FilesModel::load`] checks its size
//! before reading it, every field's range, and the network's invariants
//! (`Network::validate`), and that the network's input is the encoding's
//! channels and its output the classes.

use crate::encoding::Encoding;
use crate::features::{Featurizer, KeyKind, Token};
use serde::{Deserialize, Serialize};
use std::path::Path;
use ttfs_ir::Network;
use ttfs_sim::Prepared;

/// The `format` of a model file.
pub const FORMAT: &str = "ttfs-files-model";
/// The schema version written.
pub const VERSION: u32 = 1;
/// Largest model file read (bytes).
pub const MAX_FILE_BYTES: u64 = 512 << 20;
/// Most keys a model may have.
pub const MAX_KEYS: usize = 1024;
/// Most input neurons per key.
pub const MAX_NEURONS_PER_KEY: u32 = 64;
/// Largest window (ticks; a power of two, as the hardware takes the low
/// bits of the hash).
pub const MAX_TICKS: u32 = 256;
/// Most channels (K·M·T) a model may have.
pub const MAX_CHANNELS: usize = 1 << 20;
/// Most bin edges per numeric key.
pub const MAX_EDGES: usize = 1 << 16;

/// A model file's fields besides the network (read apart from it).
#[derive(Deserialize)]
struct Fields {
    format: String,
    version: u32,
    label: String,
    exclude: Vec<String>,
    features: Featurizer,
    encoding: Encoding,
    classes: Vec<String>,
}

/// A trained file classifier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilesModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The label column it was trained on (ignored when classifying).
    pub label: String,
    /// The columns excluded when training (ignored when classifying).
    pub exclude: Vec<String>,
    /// The keys and their kinds (bin edges), fitted on the training split.
    pub features: Featurizer,
    /// The correlative temporal encoding.
    pub encoding: Encoding,
    /// Class names; the network's output i is `classes[i]`.
    pub classes: Vec<String>,
    /// The TTFS network on the encoding's channels.
    pub network: Network,
}

impl FilesModel {
    /// Reads and checks a model file. Errors name the file and what is
    /// wrong.
    pub fn load(path: &Path) -> anyhow::Result<FilesModel> {
        let name = path.display();
        let size = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))?.len();
        if size > MAX_FILE_BYTES {
            anyhow::bail!("{name} is {size} bytes; a files model may have at most {MAX_FILE_BYTES}");
        }
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))?;
        FilesModel::from_json(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))
    }

    /// Parses and checks a model from JSON text.
    pub fn from_json(text: &str) -> Result<FilesModel, String> {
        let not_a_model = |e: serde_json::Error| {
            format!("not a files model ({e}); `ttfs files train` writes one (format \"{FORMAT}\")")
        };
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(not_a_model)?;
        // The network goes through ttfs-ir's own reader (every tensor inline,
        // every invariant of a network description), not a bare serde parse.
        let network = match value.as_object_mut().and_then(|o| o.remove("network")) {
            Some(n) => Network::from_json(&n.to_string()).map_err(|e| format!("network: {e}"))?,
            None => return Err("not a files model (no \"network\"); `ttfs files train` writes one".into()),
        };
        let rest: Fields = serde_json::from_value(value).map_err(not_a_model)?;
        let model = FilesModel {
            format: rest.format,
            version: rest.version,
            label: rest.label,
            exclude: rest.exclude,
            features: rest.features,
            encoding: rest.encoding,
            classes: rest.classes,
            network,
        };
        model.check()?;
        Ok(model)
    }

    /// The model as pretty JSON with a final newline (deterministic).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a files model serializes");
        s.push('\n');
        s
    }

    /// Every invariant [`FilesModel::load`] guarantees.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format \"{}\" is not \"{FORMAT}\"", self.format));
        }
        if self.version != VERSION {
            return Err(format!("version {} (this ttfs reads version {VERSION})", self.version));
        }
        let keys = self.features.keys.len();
        if keys == 0 || keys > MAX_KEYS {
            return Err(format!("features.keys: {keys} keys (1 to {MAX_KEYS} allowed)"));
        }
        if self.features.kinds.len() != keys {
            return Err(format!("features.kinds: {} kinds for {keys} keys", self.features.kinds.len()));
        }
        for (k, kind) in self.features.kinds.iter().enumerate() {
            if let KeyKind::Numeric { edges } = kind
                && (edges.len() > MAX_EDGES
                    || edges.iter().any(|e| !e.is_finite())
                    || edges.windows(2).any(|w| w[0] >= w[1]))
            {
                return Err(format!(
                    "features.kinds[{k}] ('{}'): bin edges must be at most {MAX_EDGES} finite numbers in ascending order",
                    self.features.keys[k]
                ));
            }
        }
        let e = &self.encoding;
        if !(1..=MAX_NEURONS_PER_KEY).contains(&e.neurons_per_key) {
            return Err(format!("encoding.neurons_per_key {} (1 to {MAX_NEURONS_PER_KEY})", e.neurons_per_key));
        }
        if !e.ticks.is_power_of_two() || !(2..=MAX_TICKS).contains(&e.ticks) {
            return Err(format!("encoding.ticks {} (a power of two from 2 to {MAX_TICKS})", e.ticks));
        }
        if !(1..=e.neurons_per_key).contains(&e.spread) {
            return Err(format!("encoding.spread {} (1 to neurons_per_key, {})", e.spread, e.neurons_per_key));
        }
        let channels = e.channel_count(keys);
        if channels > MAX_CHANNELS {
            return Err(format!("{channels} channels (keys × neurons_per_key × ticks); at most {MAX_CHANNELS}"));
        }
        self.network.validate().map_err(|e| format!("network: {e}"))?;
        let inputs: usize = self.network.input.shape.iter().product();
        if inputs != channels {
            return Err(format!("network: {inputs} inputs, but the encoding has {channels} channels"));
        }
        if self.network.neuron != ttfs_ir::NeuronModel::B1 || self.network.input.code.is_none() {
            return Err("network: a files model needs the b1 neuron with integer input coding".into());
        }
        if self.network.classes() != self.classes.len() {
            return Err(format!("network: {} outputs for {} classes", self.network.classes(), self.classes.len()));
        }
        Ok(())
    }

    /// A record's tokens, from its values in the order of
    /// `self.features.keys`.
    pub fn tokens(&self, values: &[Option<String>]) -> Vec<Token> {
        self.features.tokens(values)
    }

    /// The network's raw input for tokens: 1 on the record's channels, 0
    /// elsewhere.
    pub fn input(&self, tokens: &[Token]) -> Vec<f64> {
        channel_input(&self.encoding.channels(tokens), self.encoding.channel_count(tokens.len()))
    }
}

/// A 0/1 vector of `channels` with ones at `active`.
pub fn channel_input(active: &[usize], channels: usize) -> Vec<f64> {
    let mut x = vec![0.0; channels];
    active.iter().for_each(|&c| x[c] = 1.0);
    x
}

/// A model ready to classify: the network prepared once for the integer
/// (hardware) simulator.
pub struct Classifier<'a> {
    /// The model.
    pub model: &'a FilesModel,
    prepared: Prepared<'a>,
}

impl<'a> Classifier<'a> {
    /// Prepares `model` (checked).
    pub fn new(model: &'a FilesModel) -> Classifier<'a> {
        Classifier { model, prepared: Prepared::new(&model.network) }
    }

    /// The input codes q0 the hardware's encoder produces for tokens.
    pub fn codes(&self, tokens: &[Token]) -> Vec<i64> {
        ttfs_sim::encode::discrete(&self.model.network, &self.model.input(tokens))
    }

    /// The class index the hardware computes for a record's tokens (the
    /// integer network: the same logits as the RTL, bit for bit).
    pub fn classify(&self, tokens: &[Token]) -> usize {
        ttfs_sim::argmax(&self.logits(tokens))
    }

    /// The integer logits the hardware computes for a record's tokens.
    pub fn logits(&self, tokens: &[Token]) -> Vec<i64> {
        ttfs_sim::quantized::forward(&self.prepared, &self.codes(tokens)).logits().to_vec()
    }
}
