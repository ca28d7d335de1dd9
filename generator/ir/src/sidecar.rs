//! Version 3's tensor sidecar: the weight layers' tensors in a safetensors
//! file beside the JSON, which keeps the structure, windows, widths and
//! scalars.
//!
//! Why: written as JSON arrays a parameter takes ~48 bytes and a 20 M
//! parameter network a gigabyte of text (and more than twice that to
//! parse); in the sidecar it takes its own 1 to 8 bytes.
//!
//! How the two forms meet: [`Network`] is the same in memory either way
//! (plain `Vec`s). Its tensor fields are `#[serde(default)]` and skipped when
//! empty, so the JSON of a network whose tensors were moved out (the
//! *skeleton*, built by [`skeleton`] with empty tensors) simply lacks them,
//! and a skeleton deserializes with empty tensors. The loader first notes
//! which tensor fields the JSON gives inline (on the `serde_json::Value`,
//! before deserializing, because after it an absent field and an empty one
//! look alike), removes the top-level `tensors` object, deserializes the
//! rest, and then fills every tensor from the sidecar, refusing a tensor
//! given in both places or in neither. [`Network::to_json`] still writes the
//! self-contained form (every tensor inline, no `tensors` object), which
//! tests and small examples use.
//!
//! The sidecar is read as a stream, never mapped (a file that shrinks under a
//! mapping is a SIGBUS): size checked against the JSON first, the header
//! length bounded before anything is allocated, every tensor's dtype, shape
//! and offsets checked before its buffer is allocated (so no allocation is
//! larger than the file), data read in 1 MiB chunks and hashed on the way,
//! and the SHA-256 compared at the end. The safetensors crate supplies the
//! header's types and their validation (offsets contiguous from 0, sizes
//! equal to dtype × shape in checked arithmetic).

use crate::geometry::Shape;
use crate::validate::IrError;
use crate::{FORMAT, Layer, Network, Params, Quant, VERSION};
use safetensors::Dtype;
use safetensors::tensor::{Metadata, TensorInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The sidecar's file extension.
pub const EXTENSION: &str = "safetensors";

/// The largest sidecar header read (the header of a real network is a few
/// hundred bytes per layer); a longer one is refused before allocating.
pub const MAX_HEADER_BYTES: u64 = 100 << 20;

/// Data is read, converted and hashed in chunks of this many bytes (a
/// multiple of every element size).
const CHUNK_BYTES: usize = 1 << 20;

/// The top-level `tensors` object of a version 3 description whose tensors
/// are in a sidecar.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TensorsRef {
    /// The sidecar's file name, in the JSON file's directory (a plain name:
    /// no directories).
    pub file: String,
    /// The sidecar's size in bytes.
    pub bytes: u64,
    /// SHA-256 of the whole sidecar file, 64 lowercase hex digits.
    pub sha256: String,
}

/// The sidecar of the description at `json`: its file name with `.json`
/// replaced by `.safetensors` (or `.safetensors` appended when it does not
/// end in `.json`), in the same directory.
pub fn sidecar_path(json: &Path) -> PathBuf {
    let name = json.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = match name.len().checked_sub(5) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".json") => &name[..cut],
        _ => name.as_str(),
    };
    json.with_file_name(format!("{stem}.{EXTENSION}"))
}

/// One tensor field of a weight layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Weights,
    Bias,
    BiasMap,
    QuantWeights,
    QuantBias,
    QuantBiasMap,
}

impl Field {
    const ALL: [Field; 6] =
        [Field::Weights, Field::Bias, Field::BiasMap, Field::QuantWeights, Field::QuantBias, Field::QuantBiasMap];

    /// The part of the tensor name after `layers.<k>.`.
    fn suffix(self) -> &'static str {
        match self {
            Field::Weights => "weights",
            Field::Bias => "bias",
            Field::BiasMap => "bias_map",
            Field::QuantWeights => "quant.weights",
            Field::QuantBias => "quant.bias",
            Field::QuantBiasMap => "quant.bias_map",
        }
    }

    /// Where the field sits in a layer's JSON.
    fn json_path(self) -> String {
        format!("params.{}", self.suffix())
    }

    fn is_quant(self) -> bool {
        matches!(self, Field::QuantWeights | Field::QuantBias | Field::QuantBiasMap)
    }

    fn index(self) -> usize {
        Field::ALL.iter().position(|&f| f == self).unwrap_or(0)
    }

    fn from_suffix(suffix: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.suffix() == suffix)
    }
}

fn tensor_name(k: usize, field: Field) -> String {
    format!("layers.{k}.{}", field.suffix())
}

/// `layers.<k>.<field>` → (k, field); `None` for any other name.
fn parse_name(name: &str) -> Option<(usize, Field)> {
    let rest = name.strip_prefix("layers.")?;
    let (k, suffix) = rest.split_once('.')?;
    // Digits only, so that "+1" or "01" do not alias layer 1.
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_digit()) || (k.len() > 1 && k.starts_with('0')) {
        return None;
    }
    Some((k.parse().ok()?, Field::from_suffix(suffix)?))
}

/// How a layer is named in errors: `layer 'fc1' (index 0)`.
fn layer_label(k: usize, layer: &Layer) -> String {
    format!("layer '{}' (index {k})", layer.name())
}

/// The shape a field's tensor has for `layer`: dense weights `[outputs,
/// inputs]`, conv weights `[co, ci, kh, kw]`, biases `[channels]`, bias maps
/// `[co, oh, ow]`. Errors say why the layer has no such tensor.
fn expected_shape(layer: &Layer, field: Field) -> Result<Vec<usize>, String> {
    match (layer, field) {
        (Layer::Dense(d), Field::Weights | Field::QuantWeights) => Ok(vec![d.outputs, d.inputs]),
        (Layer::Dense(d), Field::Bias | Field::QuantBias) => Ok(vec![d.outputs]),
        (Layer::Dense(_), _) => Err("a dense layer has no bias map".into()),
        (Layer::Conv2d(c), Field::Weights | Field::QuantWeights) => {
            Ok(vec![c.out_channels, c.in_shape[0], c.kernel[0], c.kernel[1]])
        }
        (Layer::Conv2d(c), Field::Bias | Field::QuantBias) => Ok(vec![c.out_channels]),
        (Layer::Conv2d(c), _) => match layer.output_shape(&Shape(c.in_shape.to_vec()))?.0.as_slice() {
            &[co, oh, ow] => Ok(vec![co, oh, ow]),
            other => Err(format!("output shape {other:?} is not [C, H, W]")),
        },
        _ => Err("not a weight layer".into()),
    }
}

/// The dtype the writer uses for integer weights of `bits` bits: the
/// smallest of I8, I16, I32 that holds `±(2^(bits−1) − 1)`.
pub fn weight_dtype(bits: u32) -> Dtype {
    match bits {
        0..=8 => Dtype::I8,
        9..=16 => Dtype::I16,
        _ => Dtype::I32,
    }
}

/// A tensor to write: its name, dtype, shape and values.
struct Outgoing<'a> {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    values: Values<'a>,
}

enum Values<'a> {
    F64(&'a [f64]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }
}

fn element_bytes(dtype: Dtype) -> usize {
    dtype.bitsize() / 8
}

/// Every tensor of `net` in the order they are written: by dtype, widest
/// first (the order the safetensors crate's own writer uses, which keeps
/// every tensor aligned to its element size), then by name.
fn outgoing(net: &Network) -> Result<Vec<Outgoing<'_>>, String> {
    let mut out = Vec::new();
    for (k, layer) in net.layers.iter().enumerate() {
        let Some(p) = layer.params() else { continue };
        let mut fields = vec![
            (Field::Weights, Dtype::F64, Values::F64(&p.weights)),
            (Field::Bias, Dtype::F64, Values::F64(&p.bias)),
        ];
        if let Some(map) = &p.bias_map {
            fields.push((Field::BiasMap, Dtype::F64, Values::F64(map)));
        }
        if let Some(q) = &p.quant {
            fields.push((Field::QuantWeights, weight_dtype(q.weight_bits), Values::I32(&q.weights)));
            fields.push((Field::QuantBias, Dtype::I64, Values::I64(&q.bias)));
            if let Some(map) = &q.bias_map {
                fields.push((Field::QuantBiasMap, Dtype::I64, Values::I64(map)));
            }
        }
        for (field, dtype, values) in fields {
            let shape = expected_shape(layer, field).map_err(|m| format!("{}: {m}", layer_label(k, layer)))?;
            let n = crate::limits::checked_product(&shape);
            if n != Some(values.len()) {
                return Err(format!(
                    "{}: {} has {} values, its shape {shape:?} needs {}",
                    layer_label(k, layer),
                    field.json_path(),
                    values.len(),
                    n.map_or("more than can be counted".to_string(), |n| n.to_string())
                ));
            }
            out.push(Outgoing { name: tensor_name(k, field), dtype, shape, values });
        }
    }
    out.sort_by(|a, b| b.dtype.cmp(&a.dtype).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// A writer that counts and hashes what passes through it, so that the
/// sidecar's size and SHA-256 come from the bytes actually written.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn invalid_input(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

/// Writes the sidecar of `net` (every tensor of every weight layer) to
/// `out` and returns its `tensors` entry for the file name `file`.
///
/// Assumes nothing about `net`: a tensor whose length disagrees with its
/// layer, or an integer weight that does not fit its dtype, is an
/// `InvalidInput` error (validate first to get the usual messages).
/// Guarantees: deterministic bytes (tensors by dtype, widest first, then by
/// name; no metadata); the data is converted and written one chunk at a
/// time, so memory stays at one chunk beyond the network itself.
pub fn write_sidecar<W: Write>(net: &Network, file: &str, out: W) -> std::io::Result<TensorsRef> {
    let tensors = outgoing(net).map_err(invalid_input)?;
    let mut entries = Vec::with_capacity(tensors.len());
    let mut offset = 0usize;
    for t in &tensors {
        let end = t
            .values
            .len()
            .checked_mul(element_bytes(t.dtype))
            .and_then(|n| n.checked_add(offset))
            .ok_or_else(|| invalid_input(format!("tensor {} is too large to address", t.name)))?;
        entries
            .push((t.name.clone(), TensorInfo { dtype: t.dtype, shape: t.shape.clone(), data_offsets: (offset, end) }));
        offset = end;
    }
    let metadata = Metadata::new(None, entries).map_err(|e| invalid_input(e.to_string()))?;
    let mut header = serde_json::to_vec(&metadata).map_err(|e| invalid_input(e.to_string()))?;
    // The format pads the header with spaces to a multiple of 8 bytes, so
    // that the data starts aligned.
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Hashing { inner: out, hasher: Sha256::new(), bytes: 0 };
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(&header)?;
    let mut buf = Vec::with_capacity(CHUNK_BYTES);
    for t in &tensors {
        let per_chunk = CHUNK_BYTES / element_bytes(t.dtype);
        let narrow = |v: i32| -> std::io::Result<()> {
            Err(invalid_input(format!("tensor {}: integer weight {v} does not fit {}", t.name, t.dtype)))
        };
        match &t.values {
            Values::F64(v) => {
                for chunk in v.chunks(per_chunk) {
                    buf.clear();
                    chunk.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
                    out.write_all(&buf)?;
                }
            }
            Values::I64(v) => {
                for chunk in v.chunks(per_chunk) {
                    buf.clear();
                    chunk.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
                    out.write_all(&buf)?;
                }
            }
            Values::I32(v) => {
                for chunk in v.chunks(per_chunk) {
                    buf.clear();
                    for &x in chunk {
                        match t.dtype {
                            Dtype::I8 => match i8::try_from(x) {
                                Ok(b) => buf.extend_from_slice(&b.to_le_bytes()),
                                Err(_) => narrow(x)?,
                            },
                            Dtype::I16 => match i16::try_from(x) {
                                Ok(b) => buf.extend_from_slice(&b.to_le_bytes()),
                                Err(_) => narrow(x)?,
                            },
                            _ => buf.extend_from_slice(&x.to_le_bytes()),
                        }
                    }
                    out.write_all(&buf)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(TensorsRef { file: file.to_string(), bytes: out.bytes, sha256: format!("{:x}", out.hasher.finalize()) })
}

/// `net` without its tensors (empty `Vec`s, no bias maps) and at version
/// [`VERSION`]: what the JSON of a description with a sidecar holds.
/// Copies only the small fields, never a tensor.
pub fn skeleton(net: &Network) -> Network {
    let params = |p: &Params| Params {
        weights: Vec::new(),
        bias: Vec::new(),
        bias_map: None,
        window: p.window,
        x_max: p.x_max,
        quant: p.quant.as_ref().map(|q| Quant {
            weight_bits: q.weight_bits,
            potential_scale: q.potential_scale,
            weights: Vec::new(),
            bias: Vec::new(),
            bias_map: None,
            fire: q.fire,
            widths: q.widths,
        }),
    };
    let layers = net
        .layers
        .iter()
        .map(|l| match l {
            Layer::Dense(d) => Layer::Dense(crate::Dense {
                name: d.name.clone(),
                inputs: d.inputs,
                outputs: d.outputs,
                role: d.role,
                params: params(&d.params),
            }),
            Layer::Conv2d(c) => Layer::Conv2d(crate::Conv2d {
                name: c.name.clone(),
                in_shape: c.in_shape,
                out_channels: c.out_channels,
                kernel: c.kernel,
                stride: c.stride,
                pads: c.pads,
                role: c.role,
                params: params(&c.params),
            }),
            other => other.clone(),
        })
        .collect();
    Network {
        format: net.format.clone(),
        version: VERSION,
        name: net.name.clone(),
        neuron: net.neuron,
        input: net.input.clone(),
        layers,
        calibration: net.calibration.clone(),
        source: net.source.clone(),
        notes: net.notes.clone(),
    }
}

/// The skeleton's JSON with its `tensors` object (last), pretty-printed
/// with a final newline, like [`Network::to_json`].
pub fn skeleton_json(net: &Network, tensors: &TensorsRef) -> String {
    #[derive(Serialize)]
    struct WithTensors<'a> {
        #[serde(flatten)]
        network: &'a Network,
        tensors: &'a TensorsRef,
    }
    let skeleton = skeleton(net);
    let mut s = serde_json::to_string_pretty(&WithTensors { network: &skeleton, tensors })
        .expect("a network and its tensors entry serialize");
    s.push('\n');
    s
}

/// The two files [`save`] writes for `net`, in memory: the skeleton JSON
/// naming `sidecar_file`, and the sidecar's bytes. For callers that keep a
/// set of files in memory (the hardware generator's design directory).
///
/// Errors as [`write_sidecar`]'s (an inconsistent network).
pub fn to_files(net: &Network, sidecar_file: &str) -> std::io::Result<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    let tensors = write_sidecar(net, sidecar_file, &mut bytes)?;
    Ok((skeleton_json(net, &tensors), bytes))
}

/// What [`save`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedFiles {
    /// The description (JSON).
    pub json: PathBuf,
    /// Its tensor sidecar.
    pub sidecar: PathBuf,
    /// The sidecar's size and checksum, as recorded in the JSON.
    pub tensors: TensorsRef,
}

/// Why [`save`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// A file would be replaced without `force`.
    #[error("{} exists; pass --force to overwrite it", path.display())]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// The network or the file name cannot be saved.
    #[error("cannot save {}: {message}", path.display())]
    Invalid {
        /// The description's path.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Writing failed (nothing was replaced unless the sidecar's rename
    /// went through and the JSON's did not; see [`save`]).
    #[error("cannot write {}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// A temporary file beside its destination, removed on drop unless renamed
/// into place.
struct Temp {
    path: PathBuf,
    placed: bool,
}

impl Temp {
    fn create(dest: &Path) -> std::io::Result<(Temp, std::fs::File)> {
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut last = None;
        for i in 0..1000u32 {
            let path = dest.with_file_name(format!(".{name}.{}.{i}.tmp", std::process::id()));
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((Temp { path, placed: false }, file)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no temporary file name is free")))
    }

    fn place(mut self, dest: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, dest)?;
        self.placed = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Saves `net` as a version 3 description: the skeleton JSON at `json` and
/// its tensors in the sidecar [`sidecar_path`]`(json)`.
///
/// Does not validate `net`: `ttfs convert --dump-after` saves networks
/// between passes, before they have windows or integers. Assumes only that
/// every tensor has the length its layer's geometry gives (an error names
/// the layer otherwise). Guarantees: the same
/// network gives byte-identical files; an existing JSON or sidecar is
/// replaced only with `force` (checked before anything is written); both
/// files are written in full to temporary files in the same directory and
/// then renamed, the sidecar first and the JSON last, so a reader never
/// finds half a file, and a JSON never names a sidecar that is not in
/// place (a failure between the two renames leaves the new sidecar beside
/// the old JSON, whose checksum then refuses it). The sidecar streams
/// tensor by tensor through the hash; nothing is built whole in memory.
pub fn save(net: &Network, json: &Path, force: bool) -> Result<SavedFiles, SaveError> {
    let sidecar = sidecar_path(json);
    let invalid = |message: String| SaveError::Invalid { path: json.to_path_buf(), message };
    let file = match sidecar.file_name().and_then(|n| n.to_str()) {
        Some(name) if json.file_name().is_some() => name.to_string(),
        _ => return Err(invalid("the path needs a file name in UTF-8".into())),
    };
    if !force {
        for path in [json, sidecar.as_path()] {
            if path.exists() {
                return Err(SaveError::Exists { path: path.to_path_buf() });
            }
        }
    }
    outgoing(net).map_err(invalid)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SaveError::Io { path, source }
    };
    let (side_temp, side_file) = Temp::create(&sidecar).map_err(io(&sidecar))?;
    let mut writer = std::io::BufWriter::new(side_file);
    let tensors = write_sidecar(net, &file, &mut writer).map_err(io(&sidecar))?;
    let side_file = writer.into_inner().map_err(|e| e.into_error()).map_err(io(&sidecar))?;
    side_file.sync_all().map_err(io(&sidecar))?;
    drop(side_file);
    let (json_temp, mut json_file) = Temp::create(json).map_err(io(json))?;
    json_file.write_all(skeleton_json(net, &tensors).as_bytes()).map_err(io(json))?;
    json_file.sync_all().map_err(io(json))?;
    drop(json_file);
    side_temp.place(&sidecar).map_err(io(&sidecar))?;
    json_temp.place(json).map_err(io(json))?;
    Ok(SavedFiles { json: json.to_path_buf(), sidecar, tensors })
}

/// What is wrong with a description's sidecar (the caller adds both files'
/// names; see [`crate::LoadError::Sidecar`]).
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// The system refused to open or read it.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// Its contents disagree with the format or with the description.
    #[error("{0}")]
    Invalid(String),
}

fn bad(message: impl Into<String>) -> SidecarError {
    SidecarError::Invalid(message.into())
}

fn invalid_ir(path: &str, message: impl Into<String>) -> IrError {
    IrError::Invalid { path: path.into(), message: message.into() }
}

/// Format and version, checked first so that a file of another version gets
/// "convert again" rather than a message about some field.
pub(crate) fn check_format_version(value: &Value) -> Result<u32, IrError> {
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        found => return Err(IrError::Format { found: found.unwrap_or("(none)").to_string() }),
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if (1..=u64::from(VERSION)).contains(&v) => Ok(v as u32),
        found => Err(IrError::Version { found: found.map_or(0, |v| v.min(u64::from(u32::MAX)) as u32) }),
    }
}

/// A sidecar's name must stay in the description's directory: a stranger's
/// description must not make us read `/etc/…` or `../secret`.
fn check_file_name(name: &str) -> Result<(), IrError> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !Path::new(name).is_absolute();
    if plain {
        Ok(())
    } else {
        Err(invalid_ir(
            "tensors.file",
            format!("{name:?} must be a plain file name in the description's own directory (no directories, no `..`)"),
        ))
    }
}

fn check_sha(sha: &str) -> Result<(), IrError> {
    if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(invalid_ir("tensors.sha256", format!("{sha:?} must be 64 lowercase hexadecimal digits")))
    }
}

/// For each entry of `layers`, which tensor fields the JSON gives (present
/// and not null), by [`Field::index`].
fn inline_fields(value: &Value) -> Vec<[bool; 6]> {
    let Some(layers) = value.get("layers").and_then(Value::as_array) else { return Vec::new() };
    layers
        .iter()
        .map(|layer| {
            let params = layer.get("params");
            let quant = params.and_then(|p| p.get("quant"));
            Field::ALL.map(|f| {
                let object = if f.is_quant() { quant } else { params };
                let key = f.suffix().trim_start_matches("quant.");
                object.and_then(|o| o.get(key)).is_some_and(|v| !v.is_null())
            })
        })
        .collect()
}

/// Why [`network_from_value`] failed: the description itself, or its sidecar.
pub(crate) enum FromValueError {
    Ir(IrError),
    Sidecar(PathBuf, SidecarError),
}

impl From<IrError> for FromValueError {
    fn from(e: IrError) -> Self {
        FromValueError::Ir(e)
    }
}

/// The network of a parsed description, its tensors filled in from the
/// sidecar when it names one (`json` is then the description's path; with
/// `None`, a description with a sidecar is refused). Validated on `Ok`.
pub(crate) fn network_from_value(mut value: Value, json: Option<&Path>) -> Result<Network, FromValueError> {
    let version = check_format_version(&value)?;
    let tensors = match value.as_object_mut().and_then(|o| o.remove("tensors")) {
        None => None,
        Some(t) => {
            if version < 3 {
                return Err(invalid_ir(
                    "tensors",
                    format!("a version {version} description keeps its tensors inline; a sidecar needs version 3"),
                )
                .into());
            }
            let t: TensorsRef = serde_json::from_value(t).map_err(|e| invalid_ir("tensors", e.to_string()))?;
            check_file_name(&t.file)?;
            check_sha(&t.sha256)?;
            Some(t)
        }
    };
    let inline = inline_fields(&value);
    let mut net: Network = serde_json::from_value(value).map_err(|e| IrError::Parse(e.to_string()))?;
    match (tensors, json) {
        (None, _) => {
            let none = vec![[false; 6]; net.layers.len()];
            if let Some((k, field)) = first_missing(&net, &inline, &none) {
                let layer = &net.layers[k];
                return Err(invalid_ir(
                    &format!("layers[{k}] ({}).{}", layer.name(), field.json_path()),
                    "is missing: the description has no sidecar (no \"tensors\" object), so every tensor must be inline",
                )
                .into());
            }
        }
        (Some(t), None) => {
            return Err(invalid_ir(
                "tensors",
                format!(
                    "the tensors are in the sidecar file {:?}; load the description from its file so that the sidecar is found beside it",
                    t.file
                ),
            )
            .into());
        }
        (Some(t), Some(json)) => {
            let path = json.parent().unwrap_or(Path::new("")).join(&t.file);
            read_sidecar(&mut net, &inline, &t, &path).map_err(|e| FromValueError::Sidecar(path, e))?;
        }
    }
    net.validate()?;
    Ok(net)
}

/// The first required tensor (weights and bias; the integer ones when the
/// layer has `quant`) given neither inline nor in the sidecar.
fn first_missing(net: &Network, inline: &[[bool; 6]], found: &[[bool; 6]]) -> Option<(usize, Field)> {
    net.layers.iter().enumerate().find_map(|(k, layer)| {
        let params = layer.params()?;
        let mut required = vec![Field::Weights, Field::Bias];
        if params.quant.is_some() {
            required.extend([Field::QuantWeights, Field::QuantBias]);
        }
        let given =
            |f: Field| inline.get(k).is_some_and(|i| i[f.index()]) || found.get(k).is_some_and(|i| i[f.index()]);
        required.into_iter().find(|&f| !given(f)).map(|f| (k, f))
    })
}

/// Reads exactly `buf.len()` bytes, calling an early end of file what it is.
fn read_chunk(file: &mut std::fs::File, buf: &mut [u8], what: &str) -> Result<(), SidecarError> {
    file.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            bad(format!("it ends inside {what}: it is truncated (it changed while being read)"))
        } else {
            SidecarError::Io { what: format!("cannot read {what}"), source: e }
        }
    })
}

/// The values of one tensor, converted to the field's type.
enum Decoded {
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

/// Reads one tensor's data (`info` already checked against the file and the
/// layer) in chunks, hashing it, and converts it to the field's type: F64
/// for the float fields; any signed integer dtype for the integer ones,
/// each value range-checked into i32 for the integer weights.
fn read_tensor(
    file: &mut std::fs::File,
    hasher: &mut Sha256,
    label: &str,
    name: &str,
    field: Field,
    info: &TensorInfo,
) -> Result<Decoded, SidecarError> {
    let float = matches!(field, Field::Weights | Field::Bias | Field::BiasMap);
    let dtype_ok = if float {
        info.dtype == Dtype::F64
    } else {
        matches!(info.dtype, Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64)
    };
    if !dtype_ok {
        return Err(bad(format!(
            "{label}: sidecar tensor {name} has dtype {}, {} needs {}",
            info.dtype,
            field.json_path(),
            if float { "F64" } else { "a signed integer dtype (I8, I16, I32 or I64)" }
        )));
    }
    let size = element_bytes(info.dtype);
    let total = info.data_offsets.1 - info.data_offsets.0;
    let count = total / size;
    let mut out = match (float, field) {
        (true, _) => Decoded::F64(Vec::with_capacity(count)),
        (false, Field::QuantWeights) => Decoded::I32(Vec::with_capacity(count)),
        _ => Decoded::I64(Vec::with_capacity(count)),
    };
    let mut buf = vec![0u8; CHUNK_BYTES.min(total)];
    let mut done = 0;
    let what = format!("tensor {name}");
    while done < total {
        let n = CHUNK_BYTES.min(total - done);
        read_chunk(file, &mut buf[..n], &what)?;
        hasher.update(&buf[..n]);
        for (j, e) in buf[..n].chunks_exact(size).enumerate() {
            let index = (done / size) + j;
            match &mut out {
                Decoded::F64(v) => v.push(f64::from_le_bytes(e.try_into().unwrap_or([0; 8]))),
                Decoded::I32(v) => {
                    let x = int_le(e);
                    let x = i32::try_from(x).map_err(|_| {
                        bad(format!(
                            "{label}: sidecar tensor {name} element {index} is {x}, which does not fit the 32-bit integer weights"
                        ))
                    })?;
                    v.push(x);
                }
                Decoded::I64(v) => v.push(int_le(e)),
            }
        }
        done += n;
    }
    Ok(out)
}

/// A little-endian signed integer of 1, 2, 4 or 8 bytes.
fn int_le(bytes: &[u8]) -> i64 {
    match *bytes {
        [a] => i64::from(i8::from_le_bytes([a])),
        [a, b] => i64::from(i16::from_le_bytes([a, b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
        _ => {
            let mut eight = [0u8; 8];
            let n = bytes.len().min(8);
            eight[..n].copy_from_slice(&bytes[..n]);
            i64::from_le_bytes(eight)
        }
    }
}

/// Fills `net`'s tensors from the sidecar at `path`, described by `t`.
fn read_sidecar(net: &mut Network, inline: &[[bool; 6]], t: &TensorsRef, path: &Path) -> Result<(), SidecarError> {
    let mut file = std::fs::File::open(path).map_err(|source| SidecarError::Io {
        what: "cannot open it (a description's sidecar must lie beside it; copy both files)".into(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| SidecarError::Io { what: "cannot read it".into(), source })?;
    if !meta.is_file() {
        return Err(bad("it is not a plain file"));
    }
    let size = meta.len();
    if size != t.bytes {
        return Err(bad(format!(
            "it holds {size} bytes, the description says {}: it is truncated, or it belongs to another save of the description",
            t.bytes
        )));
    }
    if size < 8 {
        return Err(bad(format!("it holds {size} bytes, fewer than the 8 of the header length")));
    }
    let mut hasher = Sha256::new();
    let mut prefix = [0u8; 8];
    read_chunk(&mut file, &mut prefix, "the header length")?;
    hasher.update(prefix);
    let n = u64::from_le_bytes(prefix);
    if n > size - 8 {
        return Err(bad(format!("its header length {n} runs past the end of the file ({size} bytes)")));
    }
    if n > MAX_HEADER_BYTES {
        return Err(bad(format!("its header length {n} exceeds the limit of {MAX_HEADER_BYTES} bytes (100 MiB)")));
    }
    // Both bounds hold, so this allocation is at most 100 MiB and no larger
    // than the file.
    let mut header = vec![0u8; n as usize];
    read_chunk(&mut file, &mut header, "the header")?;
    hasher.update(&header);
    let metadata: Metadata = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("its header is not a valid safetensors header: {e}")))?;
    let data = size - 8 - n;
    if metadata.data_len() as u64 != data {
        return Err(bad(format!(
            "its tensors' data offsets end at byte {} of the data, but the file holds {data} bytes after the header",
            metadata.data_len()
        )));
    }
    let mut found = vec![[false; 6]; net.layers.len()];
    // In offset order, which the header's validation made contiguous from
    // 0: reading them in turn reads the file from start to end.
    for name in metadata.offset_keys() {
        let info = metadata.info(&name).ok_or_else(|| bad(format!("its header lost tensor {name}")))?;
        let (k, field) = parse_name(&name).ok_or_else(|| {
            bad(format!(
                "it holds tensor {name:?}, which is none of layers.<k>.weights, .bias, .bias_map, .quant.weights, .quant.bias, .quant.bias_map"
            ))
        })?;
        let layer = net.layers.get(k).ok_or_else(|| {
            bad(format!("it holds tensor {name}, but the description has {} layers", net.layers.len()))
        })?;
        let label = layer_label(k, layer);
        let Some(params) = layer.params() else {
            return Err(bad(format!("{label}: a {} layer has no tensors, but the sidecar holds {name}", layer.kind())));
        };
        if field.is_quant() && params.quant.is_none() {
            return Err(bad(format!("{label}: the layer has no params.quant, but the sidecar holds {name}")));
        }
        if inline.get(k).is_some_and(|i| i[field.index()]) {
            return Err(bad(format!(
                "{label}: {} is given both inline and in the sidecar (tensor {name}); it belongs in one place",
                field.json_path()
            )));
        }
        if found[k][field.index()] {
            return Err(bad(format!("{label}: the sidecar holds {name} twice")));
        }
        let shape = expected_shape(layer, field).map_err(|m| bad(format!("{label}: sidecar tensor {name}: {m}")))?;
        if info.shape != shape {
            return Err(bad(format!(
                "{label}: sidecar tensor {name} has shape {:?}, the layer needs {shape:?}",
                info.shape
            )));
        }
        // The file's size already bounds the buffer; the limits keep a huge
        // but real file from being read only to be refused by validation.
        let limit = if matches!(field, Field::Weights | Field::QuantWeights) {
            crate::limits::MAX_LAYER_PARAMETERS
        } else {
            crate::limits::MAX_TENSOR_VALUES
        };
        if crate::limits::checked_product(&shape).is_none_or(|n| n > limit) {
            return Err(bad(format!(
                "{label}: sidecar tensor {name} of shape {shape:?} holds more than the {limit} values allowed"
            )));
        }
        let values = read_tensor(&mut file, &mut hasher, &label, &name, field, info)?;
        let params = net.layers[k].params_mut().ok_or_else(|| bad(format!("{label} is not a weight layer")))?;
        match (field, values) {
            (Field::Weights, Decoded::F64(v)) => params.weights = v,
            (Field::Bias, Decoded::F64(v)) => params.bias = v,
            (Field::BiasMap, Decoded::F64(v)) => params.bias_map = Some(v),
            (Field::QuantWeights, Decoded::I32(v)) => {
                if let Some(q) = params.quant.as_mut() {
                    q.weights = v;
                }
            }
            (Field::QuantBias, Decoded::I64(v)) => {
                if let Some(q) = params.quant.as_mut() {
                    q.bias = v;
                }
            }
            (Field::QuantBiasMap, Decoded::I64(v)) => {
                if let Some(q) = params.quant.as_mut() {
                    q.bias_map = Some(v);
                }
            }
            _ => return Err(bad(format!("{label}: tensor {name} decoded to the wrong type"))),
        }
        found[k][field.index()] = true;
    }
    if let Some((k, field)) = first_missing(net, inline, &found) {
        return Err(bad(format!(
            "{}: {} is neither inline nor in the sidecar (tensor {})",
            layer_label(k, &net.layers[k]),
            field.json_path(),
            tensor_name(k, field)
        )));
    }
    let digest = format!("{:x}", hasher.finalize());
    if digest != t.sha256 {
        return Err(bad(format!(
            "its SHA-256 is {digest}, the description records {}: the sidecar was changed, or it belongs to another description",
            t.sha256
        )));
    }
    Ok(())
}
