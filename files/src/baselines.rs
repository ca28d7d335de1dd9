//! The non-spiking baselines on the same features as the spiking models:
//! a record's tokens as a hashed one-hot vector (one active dimension per
//! (key, token) pair, [`hashed_indices`]), fed to a multinomial logistic
//! regression (linfa-logistic, L-BFGS).

use crate::encoding::mix32;
use crate::features::Token;
use linfa::prelude::*;
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray16::{Array1, Array2};

/// The active dimensions (of `dims`) of a record's hashed one-hot vector:
/// one per key, from a hash of (key, token code). Two records share a
/// dimension for every key whose tokens are equal (and, rarely, by a
/// collision).
pub fn hashed_indices(tokens: &[Token], dims: usize) -> Vec<usize> {
    tokens.iter().zip(0u32..).map(|(t, k)| mix32(mix32(0x5eed ^ k) ^ t.code()) as usize % dims.max(1)).collect()
}

/// Rows of active dimensions as a dense 0/1 matrix.
fn dense(rows: &[Vec<usize>], dims: usize) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((rows.len(), dims));
    for (r, row) in rows.iter().enumerate() {
        for &d in row {
            x[[r, d]] = 1.0;
        }
    }
    x
}

/// A fitted multinomial logistic regression on hashed one-hot features.
pub struct LogisticRegression {
    model: MultiFittedLogisticRegression<f64, usize>,
    dims: usize,
}

impl LogisticRegression {
    /// Fits on `rows` (each record's active dimensions of `dims`) with class
    /// indices `classes`, at most `iterations` L-BFGS steps, L2 weight
    /// `alpha`.
    pub fn fit(
        rows: &[Vec<usize>],
        classes: &[usize],
        dims: usize,
        iterations: u64,
        alpha: f64,
    ) -> Result<LogisticRegression, String> {
        let data = Dataset::new(dense(rows, dims), Array1::from(classes.to_vec()));
        let model = MultiLogisticRegression::default()
            .max_iterations(iterations)
            .alpha(alpha)
            .fit(&data)
            .map_err(|e| format!("logistic regression: {e}"))?;
        Ok(LogisticRegression { model, dims })
    }

    /// The predicted class index of each row.
    pub fn predict(&self, rows: &[Vec<usize>]) -> Vec<usize> {
        self.model.predict(&dense(rows, self.dims)).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_tokens_share_their_dimension() {
        let a = hashed_indices(&[Token::Value("usr".into()), Token::Bin(3)], 1024);
        let b = hashed_indices(&[Token::Value("usr".into()), Token::Bin(4)], 1024);
        assert_eq!(a[0], b[0]);
        assert_ne!(a[1], b[1]);
        assert!(a.iter().all(|&d| d < 1024));
    }

    #[test]
    fn it_separates_classes_that_one_key_decides() {
        // Class = the token of key 0; key 1 is noise.
        let rows: Vec<Vec<usize>> =
            (0..60u32).map(|i| hashed_indices(&[Token::Bin(i % 3), Token::Value(format!("n{}", i % 7))], 64)).collect();
        let classes: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let model = LogisticRegression::fit(&rows, &classes, 64, 100, 1e-3).unwrap();
        assert_eq!(model.predict(&rows), classes);
    }
}
