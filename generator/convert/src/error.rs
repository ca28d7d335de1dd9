//! Errors of the converter. Each names where the problem is (file, node,
//! tensor, layer) and what would be accepted instead.

use std::path::PathBuf;
use thiserror::Error;

/// The operations the ONNX reader accepts, for error messages.
pub const SUPPORTED_OPS: &str = "Gemm, MatMul, Add, Sub, Mul, Div (with a constant operand), Conv (group 1), \
BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape (to flat), \
Transpose (layout only), Identity, Dropout, Cast (to float), Constant, Scaler (ai.onnx.ml); \
and after the logits: Softmax, LogSoftmax, Sigmoid, ArgMax, ZipMap, ArrayFeatureExtractor, Cast, Reshape, and a binary head's Sub and Concat";

/// Why a model could not be converted.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// The model file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a readable model.
    #[error("{path}: not a valid ONNX model ({message})")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the protobuf or JSON reader said.
        message: String,
    },
    /// A node's operation is not supported.
    #[error("node '{node}' (op {op}) is not supported{detail}.\nSupported: {SUPPORTED_OPS}")]
    UnsupportedOp {
        /// Node name.
        node: String,
        /// Its op_type.
        op: String,
        /// Extra context (": ...") or empty.
        detail: String,
    },
    /// A supported op used in a way that is not.
    #[error("node '{node}' (op {op}): {message}")]
    Unsupported {
        /// Node name.
        node: String,
        /// Its op_type.
        op: String,
        /// What is not supported and what would be.
        message: String,
    },
    /// The graph's structure cannot be mapped (branches, missing pieces).
    #[error("{message}")]
    Structure {
        /// Description, naming the nodes involved.
        message: String,
    },
    /// A weight or constant is NaN or infinite.
    #[error("tensor '{tensor}' holds {value} at index {index}: weights must be finite numbers")]
    NonFinite {
        /// Initializer name.
        tensor: String,
        /// Flat index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The integer network cannot represent a layer exactly (a value beyond
    /// 64 bits): refused rather than saturated.
    #[error("layer '{layer}' cannot be quantized at {weight_bits} weight bits: {message}")]
    Quantization {
        /// The layer.
        layer: String,
        /// The weight bits asked for.
        weight_bits: u32,
        /// Which value, how large, and why.
        message: String,
    },
    /// Calibration data or options do not fit the model.
    #[error("{0}")]
    Calibration(String),
    /// An option value that cannot be used.
    #[error("{0}")]
    Option(String),
}

/// Shorthand for converter results.
pub type Result<T> = std::result::Result<T, ConvertError>;
