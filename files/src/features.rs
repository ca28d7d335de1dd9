//! From values to tokens: a key is numeric when every value of the
//! training split parses as a finite number and it has more distinct
//! values than bins (then its values fall into quantile bins fitted on the
//! training split), otherwise categorical (a value is its own token). A
//! missing value is a token of its own for either kind.

use crate::records::Records;
use serde::{Deserialize, Serialize};

/// What a key's values become.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Each distinct value is a token.
    Categorical,
    /// Values fall into bins split at `edges` (ascending, distinct): bin b
    /// holds the values with exactly b edges at or below them.
    Numeric {
        /// The bin edges, from the training split's quantiles.
        edges: Vec<f64>,
    },
}

/// One key's value as the encoding sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Token {
    /// The field was empty.
    Missing,
    /// A numeric key's bin.
    Bin(u32),
    /// A categorical value (or a numeric key's value that does not parse:
    /// a category of its own).
    Value(String),
}

impl Token {
    /// The token as 32 bits, as the hardware's encoder will take it:
    /// 0 for missing, `1 + b` for bin b, and the FNV-1a hash of the value's
    /// bytes with the top bit set for a value (so bins and values never
    /// meet; two values meet with probability 2⁻³¹).
    pub fn code(&self) -> u32 {
        match self {
            Token::Missing => 0,
            Token::Bin(b) => 1 + b,
            Token::Value(v) => fnv1a32(v.as_bytes()) | 0x8000_0000,
        }
    }
}

/// FNV-1a, 32 bits.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The features of a training split: each key's kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Featurizer {
    /// The keys, in the records' order.
    pub keys: Vec<String>,
    /// Each key's kind.
    pub kinds: Vec<KeyKind>,
}

impl Featurizer {
    /// Fits the kinds on the records `train` (indices into `records`) with
    /// at most `bins` bins per numeric key (`bins` ≥ 2).
    pub fn fit(records: &Records, train: &[usize], bins: usize) -> Featurizer {
        let bins = bins.max(2);
        let kinds = (0..records.keys.len())
            .map(|k| {
                let values: Option<Vec<f64>> = train
                    .iter()
                    .filter_map(|&r| records.values[r][k].as_deref())
                    .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
                    .collect();
                match values {
                    Some(mut v) if !v.is_empty() => {
                        v.sort_by(f64::total_cmp);
                        let mut distinct = v.clone();
                        distinct.dedup();
                        if distinct.len() <= bins {
                            return KeyKind::Categorical;
                        }
                        let mut edges: Vec<f64> = (1..bins).map(|j| v[j * v.len() / bins]).collect();
                        edges.dedup();
                        KeyKind::Numeric { edges }
                    }
                    _ => KeyKind::Categorical,
                }
            })
            .collect();
        Featurizer { keys: records.keys.clone(), kinds }
    }

    /// Key `key`'s token for `value`.
    pub fn token(&self, key: usize, value: Option<&str>) -> Token {
        let Some(value) = value else { return Token::Missing };
        match &self.kinds[key] {
            KeyKind::Numeric { edges } => match value.parse::<f64>() {
                Ok(x) if x.is_finite() => Token::Bin(edges.partition_point(|&e| e <= x) as u32),
                _ => Token::Value(value.to_string()),
            },
            KeyKind::Categorical => Token::Value(value.to_string()),
        }
    }

    /// A record's tokens, one per key.
    pub fn tokens(&self, values: &[Option<String>]) -> Vec<Token> {
        values.iter().enumerate().map(|(k, v)| self.token(k, v.as_deref())).collect()
    }

    /// The number of bins of key `key` (0 for a categorical key).
    pub fn bins(&self, key: usize) -> usize {
        match &self.kinds[key] {
            KeyKind::Numeric { edges } => edges.len() + 1,
            KeyKind::Categorical => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(rows: &[(&str, &str)]) -> Records {
        Records {
            keys: vec!["size".into(), "ext".into()],
            values: rows
                .iter()
                .map(|(s, e)| vec![Some(s.to_string()).filter(|s| !s.is_empty()), Some(e.to_string())])
                .collect(),
            labels: vec!["c".into(); rows.len()],
        }
    }

    #[test]
    fn numeric_keys_get_quantile_bins_and_the_rest_are_categories() {
        let rows: Vec<(String, &str)> = (0..100).map(|i| (i.to_string(), "txt")).collect();
        let rows: Vec<(&str, &str)> = rows.iter().map(|(s, e)| (s.as_str(), *e)).collect();
        let r = records(&rows);
        let f = Featurizer::fit(&r, &(0..100).collect::<Vec<_>>(), 4);
        assert_eq!(f.kinds[0], KeyKind::Numeric { edges: vec![25.0, 50.0, 75.0] });
        assert_eq!(f.kinds[1], KeyKind::Categorical);
        assert_eq!(f.token(0, Some("24")), Token::Bin(0));
        assert_eq!(f.token(0, Some("25")), Token::Bin(1));
        assert_eq!(f.token(0, Some("1e9")), Token::Bin(3));
        assert_eq!(f.token(0, Some("big")), Token::Value("big".into()), "a value that does not parse is a category");
        assert_eq!(f.token(0, None), Token::Missing);
        assert_eq!(f.bins(0), 4);
    }

    #[test]
    fn few_distinct_numbers_and_mixed_columns_are_categorical() {
        let r = records(&[("1", "a"), ("2", "b"), ("1", "c"), ("x", "d")]);
        let f = Featurizer::fit(&r, &[0, 1, 2], 4);
        assert_eq!(f.kinds[0], KeyKind::Categorical, "3 distinct values for 4 bins");
        let f = Featurizer::fit(&r, &[0, 1, 2, 3], 2);
        assert_eq!(f.kinds[0], KeyKind::Categorical, "'x' does not parse");
    }

    #[test]
    fn token_codes_keep_bins_values_and_missing_apart() {
        assert_eq!(Token::Missing.code(), 0);
        assert_eq!(Token::Bin(6).code(), 7);
        assert!(Token::Value("usr".into()).code() >= 0x8000_0000);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c, "the published FNV-1a test vector");
    }
}
