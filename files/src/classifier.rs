//! The TTFS file classifier, trained with the training crate (paper 2's
//! constant-slope neuron, gradient descent through spike times) on the
//! correlative encoding read through its delay taps
//! ([`Encoding::channels`]): input channel n·T + t spikes at the window's
//! start when input neuron n spikes at tick t, and is silent otherwise.
//! The network is exported through the converter's own calibration and
//! quantization, so `ttfs files generate` builds it with the same
//! generator as every other network.

use crate::encoding::Encoding;
use crate::features::Featurizer;
use crate::model::{FORMAT, FilesModel, VERSION, channel_input};
use crate::records::Records;
use anyhow::Result;
use std::path::{Path, PathBuf};
use ttfs_data::{Data, Element};

/// The classifier's training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TtfsParams {
    /// Hidden neurons (one hidden layer).
    pub hidden: usize,
    /// Epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the weights and the shuffles.
    pub seed: u64,
    /// Weight bits of the exported network.
    pub weight_bits: u32,
    /// Time bits of the hidden layer (the input's is 1: a channel spikes or
    /// not).
    pub time_bits: u32,
}

impl Default for TtfsParams {
    /// The values that worked on deb-files: 64 hidden neurons, 3 epochs of
    /// 32-record batches at lr 0.001, 8-bit weights and times.
    fn default() -> Self {
        TtfsParams { hidden: 64, epochs: 3, batch: 32, lr: 0.001, seed: 1, weight_bits: 8, time_bits: 8 }
    }
}

/// The encoded records `rows` as the network's raw input (a `Data` held in
/// memory; `name` stands for its file in messages).
pub fn encoded(records: &Records, rows: &[usize], features: &Featurizer, encoding: &Encoding, name: &str) -> Data {
    let channels = encoding.channel_count(records.keys.len());
    let mut values = Vec::with_capacity(rows.len() * channels);
    for &r in rows {
        values.extend(channel_input(&encoding.channels(&features.tokens(&records.values[r])), channels));
    }
    Data {
        path: PathBuf::from(name),
        sample_shape: vec![channels],
        count: rows.len(),
        total: Some(rows.len()),
        values,
        element: Element::U8,
    }
}

/// What training produced: the model and the training crate's report
/// (accuracies on `test` when given: float and discrete).
pub struct Trained {
    /// The model.
    pub model: FilesModel,
    /// The training report.
    pub report: ttfs_train::stage::Report,
}

/// Everything a training run needs besides the records.
pub struct Setup<'a> {
    /// The label column.
    pub label: &'a str,
    /// The excluded columns.
    pub exclude: &'a [String],
    /// The features fitted on `train`.
    pub features: Featurizer,
    /// The encoding.
    pub encoding: Encoding,
    /// The class names; `classes[i]` is class index i.
    pub classes: Vec<String>,
    /// Where the checkpoints go.
    pub checkpoints: &'a Path,
    /// Draw progress bars.
    pub progress: bool,
}

/// Trains the classifier on the records `train`, with the class index of
/// each record in `labels` (all records), evaluating on `test` when given.
pub fn train(
    records: &Records,
    labels: &[usize],
    train: &[usize],
    test: Option<&[usize]>,
    setup: Setup,
    params: &TtfsParams,
) -> Result<Trained> {
    let classes = setup.classes.len();
    let data = encoded(records, train, &setup.features, &setup.encoding, "training split (encoded)");
    let inputs = data.sample_len();
    let test = test.map(|t| {
        (
            encoded(records, t, &setup.features, &setup.encoding, "test split (encoded)"),
            t.iter().map(|&r| labels[r]).collect(),
        )
    });
    let args = ttfs_train::stage::Args {
        arch: format!("{inputs}-{}-{classes}", params.hidden),
        data: PathBuf::from("training split (encoded)"),
        labels: PathBuf::from("training split labels"),
        test_data: None,
        test_labels: None,
        epochs: params.epochs,
        batch: params.batch,
        optimizer: ttfs_train::optim::Optimizer::adam(params.lr),
        seed: params.seed,
        spike_penalty: 0.0,
        convert: ttfs_convert::Options {
            time_bits: vec![1, params.time_bits],
            weight_bits: vec![params.weight_bits],
            input_range: Some([0.0, 1.0]),
            ..Default::default()
        },
        output: setup.checkpoints.join("files-classifier.json"),
        force: true,
        resume: false,
        checkpoint_dir: Some(setup.checkpoints.to_path_buf()),
        progress: setup.progress,
    };
    let (network, report) =
        ttfs_train::stage::train_loaded(&args, &data, train.iter().map(|&r| labels[r]).collect(), test)?;
    let model = FilesModel {
        format: FORMAT.into(),
        version: VERSION,
        label: setup.label.to_string(),
        exclude: setup.exclude.to_vec(),
        features: setup.features,
        encoding: setup.encoding,
        classes: setup.classes,
        network,
    };
    model.check().map_err(|e| anyhow::anyhow!("the trained model fails its own checks: {e}"))?;
    Ok(Trained { model, report })
}
