//! Training data: samples encoded into the input window as the converter
//! will encode them (`x0 = (v − p)/(r − p)` clipped to `[0, 1]`), labels as
//! classes, and mini-batches as tensors.

use crate::net::tensor;
use anyhow::{Result, bail};
use candle_core::{Result as CResult, Tensor};
use std::path::Path;
use ttfs_data::{Data, Element};

/// The raw range `[p, r]` mapped onto the input window.
///
/// Byte data use `[0, 255]`; other data the training data's minimum and
/// maximum, unless the user gives the range.
pub fn input_range(data: &Data, given: Option<[f64; 2]>) -> Result<[f64; 2]> {
    let range = match given {
        Some(r) => r,
        None if data.element == Element::U8 => [0.0, 255.0],
        None => {
            let lo = data.values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = data.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            [lo, hi]
        }
    };
    if !(range[0].is_finite() && range[1].is_finite() && range[0] < range[1]) {
        bail!(
            "{}: the input range {range:?} is empty (the data are constant); pass --input-range P,R with P < R",
            data.path.display()
        );
    }
    Ok(range)
}

/// Encoded samples with their labels.
pub struct TrainSet {
    /// `count × sample_len` values in `[0, 1]`.
    pub x0: Vec<f64>,
    /// One class per sample.
    pub labels: Vec<usize>,
    /// Samples.
    pub count: usize,
    /// Values per sample.
    pub sample_len: usize,
    /// Number of classes (outputs of the network).
    pub classes: usize,
}

impl TrainSet {
    /// Encodes `data` with `range` and pairs it with `labels` (already
    /// checked to be one per sample and below `classes`).
    pub fn new(data: &Data, labels: Vec<usize>, range: [f64; 2], classes: usize) -> TrainSet {
        let scale = 1.0 / (range[1] - range[0]);
        let x0 = data.values.iter().map(|&v| ((v - range[0]) * scale).clamp(0.0, 1.0)).collect();
        TrainSet { x0, labels, count: data.count, sample_len: data.sample_len(), classes }
    }

    /// The rows `rows` as a batch: inputs `[B, sample_len]`, one-hot targets
    /// `[B, classes]` and the labels.
    pub fn batch(&self, rows: &[usize]) -> CResult<(Tensor, Tensor, Vec<usize>)> {
        let n = self.sample_len;
        let mut x = Vec::with_capacity(rows.len() * n);
        let mut one_hot = vec![0.0; rows.len() * self.classes];
        let mut labels = Vec::with_capacity(rows.len());
        for (i, &r) in rows.iter().enumerate() {
            x.extend_from_slice(&self.x0[r * n..(r + 1) * n]);
            one_hot[i * self.classes + self.labels[r]] = 1.0;
            labels.push(self.labels[r]);
        }
        Ok((tensor(x, &[rows.len(), n])?, tensor(one_hot, &[rows.len(), self.classes])?, labels))
    }
}

/// Loads a data file and its labels, checking one label per sample and each
/// label below `classes`; errors name the files.
pub fn load(data: &Path, labels: &Path, classes: usize) -> Result<(Data, Vec<usize>)> {
    let d = ttfs_data::load_data(data)?;
    let l = ttfs_data::load_labels_for(labels, data, d.count, d.total, classes)?;
    Ok((d, l))
}
