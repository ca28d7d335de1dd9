//! Structured fuzzing of the two untrusted description formats: random
//! mutations of the real fixtures (the scikit-learn digits MLP and the conv
//! fixture as ONNX; the converted digits network as net.json), so that the
//! cases get past protobuf and JSON decoding into conversion, validation,
//! simulation and design generation. Every case must end in a value or an
//! error, never a panic; the kinds of error reached are counted and printed
//! (`cargo test --test fuzz -- --nocapture`).
//!
//! 10,000 cases in all (4,000 + 2,000 ONNX, 4,000 net.json); proptest's
//! `PROPTEST_CASES` does not apply, the counts are fixed here. A further
//! 1,000 cases mutate the bytes of a version 3 tensor sidecar
//! (`net.safetensors`), half of them with the JSON's size and checksum
//! made to agree so that the mutation reaches the header and data checks.

mod common;

use common::fixture;
use onnx_protobuf::{AttributeProto, Message, ModelProto, NodeProto, TensorProto};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{LazyLock, Mutex};
use ttfs_convert::{CalibrationData, ConvertError, Options};
use ttfs_ir::Network;

/// Error kinds reached, per test, for the histogram.
static KINDS: LazyLock<Mutex<BTreeMap<String, usize>>> = LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn count(kind: String) {
    *KINDS.lock().unwrap().entry(kind).or_default() += 1;
}

/// The shape of a message without its names and numbers, so that one kind
/// of refusal counts once whatever it names.
fn shape_of(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                if quoted {
                    out.push('…');
                }
            }
            _ if quoted => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
    out.split_whitespace().take(9).collect::<Vec<_>>().join(" ")
}

fn print_histogram(title: &str, cases: usize) {
    let kinds = KINDS.lock().unwrap();
    let total: usize = kinds.values().sum();
    let mut rows: Vec<_> = kinds.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(*r.1));
    println!("{title}: {total} outcomes of {cases} cases, {} kinds", rows.len());
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    for (kind, n) in &rows {
        *families.entry(kind.split([':', ';']).next().unwrap_or(kind)).or_default() += **n;
    }
    let mut families: Vec<_> = families.into_iter().collect();
    families.sort_by_key(|f| std::cmp::Reverse(f.1));
    println!("by family:");
    for (family, n) in families {
        println!("{n:>6}  {family}");
    }
    println!("by kind:");
    for (kind, n) in rows {
        println!("{n:>6}  {kind}");
    }
}

fn convert_kind(e: &ConvertError) -> String {
    let variant = match e {
        ConvertError::Io { .. } => "io",
        ConvertError::Malformed { .. } => "malformed",
        ConvertError::UnsupportedOp { .. } => "unsupported op",
        ConvertError::Unsupported { .. } => "unsupported use",
        ConvertError::Structure { .. } => "structure",
        ConvertError::NonFinite { .. } => "non-finite",
        ConvertError::Quantization { .. } => "quantization",
        ConvertError::Calibration(_) => "calibration",
        ConvertError::Option(_) => "option",
    };
    let message = match e {
        ConvertError::UnsupportedOp { op, .. } => op.clone(),
        ConvertError::Malformed { message, .. } => message.split(':').next().unwrap_or("").to_string(),
        other => other.to_string(),
    };
    format!("onnx/{variant}: {}", shape_of(&message))
}

// ---------------------------------------------------------------- ONNX

/// Values that break size arithmetic.
const DIMS: &[i64] = &[0, 1, 2, 3, 7, 10, 32, 64, 65, -1, 1 << 31, 1 << 58, 1 << 60, 1 << 62, i64::MAX];
/// Values that break quantization and finiteness.
const FLOATS: &[f32] =
    &[0.0, -0.0, 1.0, -1.0, 1e30, -1e30, 1e-43, 1e-38, f32::MAX, f32::MIN_POSITIVE, f32::NAN, f32::INFINITY];
const OPS: &[&str] = &[
    "Identity",
    "Relu",
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Reshape",
    "Transpose",
    "BatchNormalization",
    "Softmax",
    "Cast",
    "Dropout",
    "Tanh",
    "Constant",
    "Shape",
    "Concat",
];
const INT_ATTRS: &[&str] =
    &["axis", "transA", "transB", "group", "ceil_mode", "to", "count_include_pad", "training_mode"];
const INTS_ATTRS: &[&str] = &["pads", "strides", "kernel_shape", "dilations", "perm"];

/// One structural change to a model. Indices are taken modulo the number of
/// nodes, tensors or attributes there are.
#[derive(Debug, Clone)]
enum Mutation {
    SetDim { tensor: usize, axis: usize, value: usize },
    ClearData { tensor: usize },
    SetValue { tensor: usize, index: usize, value: usize },
    ScaleTensor { tensor: usize, value: usize },
    SetDataType { tensor: usize, data_type: i32 },
    RawBytes { tensor: usize, bytes: Vec<u8> },
    DuplicateInitializer { tensor: usize },
    Rewire { node: usize, slot: usize, source: usize },
    SetOp { node: usize, op: usize },
    SetInt { node: usize, attr: usize, value: usize },
    SetInts { node: usize, attr: usize, values: Vec<usize> },
    DeleteNode { node: usize },
    DuplicateNode { node: usize },
    SwapNodes { a: usize, b: usize },
    SetInputDim { axis: usize, value: usize },
    AddOutput { source: usize },
    DropOutputs,
    RenameNode { node: usize, name: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = || 0usize..64;
    prop_oneof![
        (i(), i(), i()).prop_map(|(tensor, axis, value)| Mutation::SetDim { tensor, axis, value }),
        i().prop_map(|tensor| Mutation::ClearData { tensor }),
        (i(), 0usize..4096, i()).prop_map(|(tensor, index, value)| Mutation::SetValue { tensor, index, value }),
        (i(), i()).prop_map(|(tensor, value)| Mutation::ScaleTensor { tensor, value }),
        (i(), 0i32..18).prop_map(|(tensor, data_type)| Mutation::SetDataType { tensor, data_type }),
        (i(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(tensor, bytes)| Mutation::RawBytes { tensor, bytes }),
        i().prop_map(|tensor| Mutation::DuplicateInitializer { tensor }),
        (i(), 0usize..3, i()).prop_map(|(node, slot, source)| Mutation::Rewire { node, slot, source }),
        (i(), i()).prop_map(|(node, op)| Mutation::SetOp { node, op }),
        (i(), i(), i()).prop_map(|(node, attr, value)| Mutation::SetInt { node, attr, value }),
        (i(), i(), prop::collection::vec(i(), 0..6)).prop_map(|(node, attr, values)| Mutation::SetInts {
            node,
            attr,
            values
        }),
        i().prop_map(|node| Mutation::DeleteNode { node }),
        i().prop_map(|node| Mutation::DuplicateNode { node }),
        (i(), i()).prop_map(|(a, b)| Mutation::SwapNodes { a, b }),
        (i(), i()).prop_map(|(axis, value)| Mutation::SetInputDim { axis, value }),
        i().prop_map(|source| Mutation::AddOutput { source }),
        Just(Mutation::DropOutputs),
        (i(), "[a-z_\\n$(\"]{0,12}").prop_map(|(node, name)| Mutation::RenameNode { node, name }),
    ]
}

/// Every tensor name in the graph (initializers, node outputs, the input).
fn tensor_names(model: &ModelProto) -> Vec<String> {
    let g = model.graph.as_ref().unwrap();
    let mut names: Vec<String> = g.input.iter().map(|i| i.name.clone()).collect();
    names.extend(g.initializer.iter().map(|t| t.name.clone()));
    names.extend(g.node.iter().flat_map(|n| n.output.iter().cloned()));
    names.push("no_such_tensor".into());
    names
}

fn apply(model: &mut ModelProto, m: &Mutation) {
    let names = tensor_names(model);
    let g = model.graph.as_mut().unwrap();
    let (tensors, nodes) = (g.initializer.len().max(1), g.node.len().max(1));
    fn tensor(g: &mut onnx_protobuf::GraphProto, k: usize) -> Option<&mut TensorProto> {
        let n = g.initializer.len();
        (n > 0).then(move || &mut g.initializer[k % n])
    }
    fn node(g: &mut onnx_protobuf::GraphProto, k: usize) -> Option<&mut NodeProto> {
        let n = g.node.len();
        (n > 0).then(move || &mut g.node[k % n])
    }
    match m {
        Mutation::SetDim { tensor: t, axis, value } => {
            if let Some(t) = tensor(g, *t) {
                let value = DIMS[value % DIMS.len()];
                match t.dims.len() {
                    0 => t.dims.push(value),
                    n => t.dims[axis % n] = value,
                }
            }
        }
        Mutation::ClearData { tensor: t } => {
            if let Some(t) = tensor(g, *t) {
                t.float_data.clear();
                t.raw_data.clear();
                t.int64_data.clear();
            }
        }
        Mutation::SetValue { tensor: t, index, value } => {
            if let Some(t) = tensor(g, *t) {
                let n = t.float_data.len();
                if n > 0 {
                    t.float_data[index % n] = FLOATS[value % FLOATS.len()];
                }
            }
        }
        Mutation::ScaleTensor { tensor: t, value } => {
            if let Some(t) = tensor(g, *t) {
                let factor = FLOATS[value % FLOATS.len()];
                t.float_data.iter_mut().for_each(|v| *v *= factor);
            }
        }
        Mutation::SetDataType { tensor: t, data_type } => {
            if let Some(t) = tensor(g, *t) {
                t.data_type = *data_type;
            }
        }
        Mutation::RawBytes { tensor: t, bytes } => {
            if let Some(t) = tensor(g, *t) {
                t.float_data.clear();
                t.raw_data = bytes.clone();
            }
        }
        Mutation::DuplicateInitializer { tensor: t } => {
            let copy = g.initializer[t % tensors].clone();
            g.initializer.push(copy);
        }
        Mutation::Rewire { node: k, slot, source } => {
            let source = names[source % names.len()].clone();
            if let Some(n) = node(g, *k) {
                match n.input.len() {
                    0 => n.input.push(source),
                    len => n.input[slot % len] = source,
                }
            }
        }
        Mutation::SetOp { node: k, op } => {
            if let Some(n) = node(g, *k) {
                n.op_type = OPS[op % OPS.len()].into();
            }
        }
        Mutation::SetInt { node: k, attr, value } => {
            if let Some(n) = node(g, *k) {
                let name = INT_ATTRS[attr % INT_ATTRS.len()];
                let value = DIMS[value % DIMS.len()];
                set_attribute(n, name, |a| a.i = value);
            }
        }
        Mutation::SetInts { node: k, attr, values } => {
            if let Some(n) = node(g, *k) {
                let name = INTS_ATTRS[attr % INTS_ATTRS.len()];
                let values: Vec<i64> = values.iter().map(|v| DIMS[v % DIMS.len()]).collect();
                set_attribute(n, name, |a| a.ints = values.clone());
            }
        }
        Mutation::DeleteNode { node: k } => {
            g.node.remove(k % nodes);
        }
        Mutation::DuplicateNode { node: k } => {
            let copy = g.node[k % nodes].clone();
            g.node.insert(k % nodes, copy);
        }
        Mutation::SwapNodes { a, b } => g.node.swap(a % nodes, b % nodes),
        Mutation::SetInputDim { axis, value } => {
            if let Some(shape) =
                g.input.first_mut().and_then(|i| i.type_.as_mut()).and_then(|t| t.mut_tensor_type().shape.as_mut())
            {
                let n = shape.dim.len().max(1);
                if let Some(d) = shape.dim.get_mut(axis % n) {
                    d.set_dim_value(DIMS[value % DIMS.len()]);
                }
            }
        }
        Mutation::AddOutput { source } => {
            let mut output = g.output.first().cloned().unwrap_or_default();
            output.name = names[source % names.len()].clone();
            g.output.push(output);
        }
        Mutation::DropOutputs => g.output.clear(),
        Mutation::RenameNode { node: k, name } => {
            if let Some(n) = node(g, *k) {
                n.name = name.clone();
            }
        }
    }
}

fn set_attribute(node: &mut NodeProto, name: &str, set: impl Fn(&mut AttributeProto)) {
    match node.attribute.iter_mut().find(|a| a.name == name) {
        Some(a) => set(a),
        None => {
            let mut a = AttributeProto::new();
            a.name = name.into();
            set(&mut a);
            node.attribute.push(a);
        }
    }
}

/// A real model and its calibration samples.
struct Seed {
    model: ModelProto,
    calibration: Vec<f64>,
    count: usize,
}

fn seed(model: &str, calib: &str, count: usize) -> Seed {
    let bytes = std::fs::read(fixture(model)).unwrap();
    let mut data = ttfs_data::load_data(&fixture(calib)).unwrap();
    data.truncate(count);
    Seed { model: ModelProto::parse_from_bytes(&bytes).unwrap(), calibration: data.values, count: data.count }
}

static DIGITS: LazyLock<Seed> = LazyLock::new(|| seed("digits_mlp.onnx", "digits/train_images.csv.gz", 20));
static CONV: LazyLock<Seed> = LazyLock::new(|| seed("onnx/conv_pool.onnx", "onnx/conv_pool_input.npy", 8));

/// Imports and converts a mutated model; a converted network must validate
/// and simulate.
fn convert_mutated(seed: &Seed, mutations: &[Mutation]) {
    let mut model = seed.model.clone();
    for m in mutations {
        apply(&mut model, m);
    }
    let bytes = model.write_to_bytes().unwrap();
    let graph = match ttfs_convert::onnx::import(&bytes, Path::new("fuzz.onnx")) {
        Ok(g) => g,
        Err(e) => return count(convert_kind(&e)),
    };
    let sample_len: usize = graph.data_shape.iter().product();
    if sample_len * seed.count != seed.calibration.len() {
        return count("onnx/imported; input size differs from the data (refused by check_fits)".into());
    }
    let calib =
        CalibrationData { name: "fuzz".into(), values: &seed.calibration, count: seed.count, natural_range: None };
    match ttfs_convert::convert(&graph, &calib, &Options::default()) {
        Ok(net) => {
            Network::from_json(&net.to_json()).expect("a converted network validates");
            simulate(&net);
            count("onnx/converted".into());
        }
        Err(e) => count(convert_kind(&e)),
    }
}

fn simulate(net: &Network) {
    let model = ttfs_sim::Prepared::new(net);
    let sample_len: usize = net.input.shape.iter().product();
    let values: Vec<f64> = (0..2 * sample_len).map(|i| (i % 17) as f64 / 4.0).collect();
    let report =
        ttfs_sim::eval::evaluate(&model, ttfs_sim::eval::Samples { values: &values, sample_len, labels: None });
    assert_eq!(report.samples, 2);
}

// ---------------------------------------------------------------- net.json

static DIGITS_NET: LazyLock<serde_json::Value> = LazyLock::new(|| {
    let net = common::convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(300), &Default::default());
    serde_json::from_str(&net.to_json()).unwrap()
});

/// JSON pointers of every value in the description (array elements of long
/// arrays sampled at their ends and middle).
static POINTERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    fn walk(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{at}/{k}"), out);
                }
            }
            serde_json::Value::Array(items) => {
                let n = items.len();
                for i in [0, 1, n / 2, n.saturating_sub(1)].into_iter().filter(|&i| i < n) {
                    walk(&items[i], format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&DIGITS_NET, String::new(), &mut out);
    out.dedup();
    out
});

#[derive(Debug, Clone)]
enum Edit {
    Number(usize),
    Truncate,
    Extend,
    Remove,
    Null,
    Text(String),
}

fn numbers() -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(2),
        json!(7),
        json!(17),
        json!(64),
        json!(255),
        json!(4_294_967_295u64),
        json!(1u64 << 53),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(0.5),
        json!(-0.5),
        json!(1e-308),
        json!(1e308),
        json!(-1e308),
    ]
}

fn edit() -> impl Strategy<Value = (usize, Edit)> {
    (
        0usize..10_000,
        prop_oneof![
            (0usize..18).prop_map(Edit::Number),
            Just(Edit::Truncate),
            Just(Edit::Extend),
            Just(Edit::Remove),
            Just(Edit::Null),
            "[a-z0-9 $\\n\"]{0,8}".prop_map(Edit::Text),
        ],
    )
}

fn apply_edit(doc: &mut serde_json::Value, pointer: &str, edit: &Edit) {
    let Some(target) = doc.pointer_mut(pointer) else { return };
    match edit {
        Edit::Number(k) => *target = numbers()[*k].clone(),
        Edit::Truncate => {
            if let serde_json::Value::Array(a) = target {
                a.truncate(a.len() / 2);
            }
        }
        Edit::Extend => {
            if let serde_json::Value::Array(a) = target
                && let Some(last) = a.last().cloned()
            {
                a.push(last);
            }
        }
        Edit::Remove => {
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            if let Some(serde_json::Value::Object(map)) = doc.pointer_mut(parent) {
                map.remove(key);
            }
        }
        Edit::Null => *target = serde_json::Value::Null,
        Edit::Text(t) => *target = t.clone().into(),
    }
}

fn check_description(edits: &[(usize, Edit)]) {
    let mut doc = DIGITS_NET.clone();
    for (k, e) in edits {
        let pointer = POINTERS[k % POINTERS.len()].clone();
        apply_edit(&mut doc, &pointer, e);
    }
    match Network::from_json(&doc.to_string()) {
        Ok(net) => {
            simulate(&net);
            match ttfs_hw::stage::build(&net, ttfs_hw::target::Target::Ice40Up5k, &[], None) {
                Ok(_) => count("net.json/valid; simulated and generated".into()),
                Err(e) => count(format!("net.json/valid; generate refused: {}", shape_of(&format!("{e:#}")))),
            }
        }
        Err(e) => {
            let kind = match &e {
                ttfs_ir::IrError::Parse(m) => format!("parse: {}", shape_of(m.split(" at line").next().unwrap_or(m))),
                ttfs_ir::IrError::Format { .. } => "format".into(),
                ttfs_ir::IrError::Version { .. } => "version".into(),
                ttfs_ir::IrError::Invalid { message, .. } => format!("invalid: {}", shape_of(message)),
            };
            count(format!("net.json/{kind}"));
        }
    }
}

// ---------------------------------------------------------- net.safetensors

/// The converted digits network as the two files `ttfs_ir::save` writes.
static DIGITS_FILES: LazyLock<(String, Vec<u8>)> = LazyLock::new(|| {
    let net = common::convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(300), &Default::default());
    ttfs_ir::sidecar::to_files(&net, "net.safetensors").unwrap()
});

/// One mutation of the sidecar's bytes: positions are taken modulo the
/// length (or, with `in_header`, modulo the length prefix and header, where
/// most checks live).
#[derive(Debug, Clone)]
enum ByteEdit {
    Set { in_header: bool, at: usize, byte: u8 },
    Truncate(usize),
    Append(Vec<u8>),
    Splice { at: usize, text: String },
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<bool>(), 0usize..1 << 20, any::<u8>()).prop_map(|(in_header, at, byte)| ByteEdit::Set {
            in_header,
            at,
            byte
        }),
        (0usize..1 << 20).prop_map(ByteEdit::Truncate),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(ByteEdit::Append),
        (0usize..1 << 20, "[a-zA-Z0-9_.,:\\[\\]{}\" -]{1,12}").prop_map(|(at, text)| ByteEdit::Splice { at, text }),
    ]
}

fn apply_byte_edit(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    let header_end = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .map_or(bytes.len(), |n| (n as usize).saturating_add(8).min(bytes.len()));
    match edit {
        ByteEdit::Set { in_header, at, byte } => {
            let span = if *in_header { header_end } else { bytes.len() };
            if span > 0 {
                bytes[at % span] = *byte;
            }
        }
        ByteEdit::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
        ByteEdit::Append(more) => bytes.extend(more),
        ByteEdit::Splice { at, text } => {
            // Overwrite inside the header text (after the length prefix).
            if header_end > 8 {
                let start = 8 + at % (header_end - 8);
                for (i, b) in text.bytes().enumerate().take(header_end - start) {
                    bytes[start + i] = b;
                }
            }
        }
    }
}

/// Writes the mutated sidecar and its JSON into `dir` and loads them.
fn check_sidecar(dir: &Path, edits: &[ByteEdit], agree: bool, counts: &Mutex<BTreeMap<String, usize>>) {
    use sha2::Digest as _;
    let (json, sidecar) = &*DIGITS_FILES;
    let mut bytes = sidecar.clone();
    for e in edits {
        apply_byte_edit(&mut bytes, e);
    }
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
    if agree {
        value["tensors"]["bytes"] = bytes.len().into();
        value["tensors"]["sha256"] = format!("{:x}", sha2::Sha256::digest(&bytes)).into();
    }
    std::fs::write(dir.join("net.safetensors"), &bytes).unwrap();
    std::fs::write(dir.join("net.json"), value.to_string()).unwrap();
    // Hashes shaped by `shape_of` are runs of `#` and letters: left out, so
    // that one kind of refusal counts once.
    let shape = |m: &str| -> String {
        let shaped = shape_of(m);
        shaped.split_whitespace().filter(|w| w.matches('#').count() < 3).take(7).collect::<Vec<_>>().join(" ")
    };
    let kind = match ttfs_ir::load_with_notes(&dir.join("net.json")) {
        Ok(loaded) => {
            simulate(&loaded.network);
            "loaded".to_string()
        }
        Err(ttfs_ir::LoadError::Sidecar { source, .. }) => format!("sidecar: {}", shape(&source.to_string())),
        Err(ttfs_ir::LoadError::Invalid { source, .. }) => format!("invalid: {}", shape(&source.to_string())),
        Err(e) => format!("other: {}", shape(&e.to_string())),
    };
    *counts.lock().unwrap().entry(kind).or_default() += 1;
}

/// 1,000 mutated sidecars (500 with the JSON's size and hash made to
/// agree): none may panic, and the agreeing ones reach the header checks.
#[test]
fn a_thousand_mutated_sidecars_end_in_a_value_or_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let counts = Mutex::new(BTreeMap::new());
    for agree in [false, true] {
        fuzz(500, prop::collection::vec(byte_edit(), 1..4), |e| check_sidecar(dir.path(), e, agree, &counts));
    }
    let counts = counts.into_inner().unwrap();
    println!("sidecar fuzz: {} kinds", counts.len());
    for (kind, n) in &counts {
        println!("{n:6}  {kind}");
    }
    assert_eq!(counts.values().sum::<usize>(), 1000);
    for reached in ["sidecar: it holds", "sidecar: its SHA", "sidecar: its header"] {
        assert!(counts.keys().any(|k| k.starts_with(reached)), "no case reached {reached}: {counts:#?}");
    }
}

/// Runs `cases` cases of `strategy` through `check`, panicking with the
/// (shrunk) input on the first panic.
fn fuzz<S: Strategy>(cases: u32, strategy: S, check: impl Fn(&S::Value)) {
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |v| {
        check(&v);
        Ok(())
    }) {
        panic!("fuzz case failed: {e}");
    }
}

/// 10,000 cases: 4,000 mutated digits models, 2,000 mutated conv models,
/// 4,000 mutated network descriptions. None may panic.
#[test]
fn ten_thousand_mutated_inputs_end_in_a_value_or_an_error() {
    fuzz(4000, prop::collection::vec(mutation(), 1..4), |m| convert_mutated(&DIGITS, m));
    fuzz(2000, prop::collection::vec(mutation(), 1..4), |m| convert_mutated(&CONV, m));
    fuzz(4000, prop::collection::vec(edit(), 1..4), |e| check_description(e));
    print_histogram("fuzz", 10_000);
    let kinds = KINDS.lock().unwrap();
    assert_eq!(kinds.values().sum::<usize>(), 10_000, "every case counted once");
    // The mutations reach past decoding: conversions that succeed, and
    // refusals of several kinds in conversion and validation.
    for reached in ["onnx/converted", "onnx/structure", "onnx/unsupported", "net.json/invalid", "net.json/valid"] {
        assert!(kinds.keys().any(|k| k.starts_with(reached)), "no case reached {reached}: {kinds:#?}");
    }
}
