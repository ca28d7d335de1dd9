//! Version 3 descriptions with a safetensors sidecar, on real files: round
//! trips (dense and conv with bias maps, α/J without integers, every weight
//! dtype), byte-identical saves, the size gain, and hostile sidecars, each
//! of which must end in an error that names the place (never a panic).

use std::path::{Path, PathBuf};
use ttfs_ir::bounds::{layer_widths, max_weight};
use ttfs_ir::sidecar::{self, TensorsRef};
use ttfs_ir::{
    Calibration, Conv2d, Dense, Fire, Flatten, Input, InputCode, Layer, LoadError, Network, NeuronModel, Params, Quant,
    Role, Source, Window,
};

/// A deterministic stream of values in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn int(&mut self, max: i64) -> i64 {
        (self.next() * (2 * max + 1) as f64) as i64 - max
    }
}

fn base(neuron: NeuronModel, shape: Vec<usize>, layers: Vec<Layer>) -> Network {
    Network {
        format: ttfs_ir::FORMAT.into(),
        version: ttfs_ir::VERSION,
        name: "t".into(),
        neuron,
        input: Input {
            data_shape: shape.clone(),
            data_permutation: (0..shape.len()).collect(),
            shape,
            range: [0.0, 1.0],
            feature_ranges: None,
            window: Window { t_min: 0.0, t_max: 1.0 },
            code: (neuron == NeuronModel::B1).then_some(InputCode { time_bits: 8, ticks: 255 }),
        },
        layers,
        calibration: Calibration {
            data: "d.npy".into(),
            samples: 1,
            margin: 0.5,
            clipped_inputs: 0,
            clipped_continuous: 0,
            clipped_discrete: None,
        },
        source: Source { model: "t".into(), producer: "test".into(), converter: "test".into() },
        notes: vec!["a converter note".into()],
    }
}

/// Integer parameters for `weights` (rows of `row_len`) whose register
/// widths are the worst-case ones.
fn quant(weights: Vec<i32>, row_len: usize, bias: Vec<i64>, map: Option<Vec<i64>>, bits: u32, hidden: bool) -> Quant {
    let fire = hidden.then_some(Fire { time_bits: 8, ticks: 255, beta: 1, activation_scale: 0.01 });
    let rows: Vec<Vec<i64>> = match &map {
        Some(m) => m.chunks(m.len() / bias.len()).map(<[i64]>::to_vec).collect(),
        None => bias.iter().map(|&b| vec![b]).collect(),
    };
    let widths = layer_widths(&weights, row_len, &rows, bits, 255, fire.as_ref()).unwrap();
    Quant { weight_bits: bits, potential_scale: 0.01, weights, bias, bias_map: map, fire, widths }
}

/// Window of hidden layer `n` (1-based): back to back from the input's.
fn window(n: usize) -> Window {
    Window { t_min: n as f64, t_max: n as f64 + 1.0 }
}

/// A b1 MLP with layer sizes `sizes` and `bits`-bit weights.
fn mlp(sizes: &[usize], bits: u32, seed: u64) -> Network {
    let mut rng = Lcg(seed);
    let last = sizes.len() - 2;
    let layers = sizes
        .windows(2)
        .enumerate()
        .map(|(k, io)| {
            let hidden = k != last;
            let w: Vec<i32> = (0..io[0] * io[1]).map(|_| rng.int(max_weight(bits)) as i32).collect();
            let b: Vec<i64> = (0..io[1]).map(|_| rng.int(1000)).collect();
            Layer::Dense(Dense {
                name: format!("fc{k}"),
                inputs: io[0],
                outputs: io[1],
                role: if hidden { Role::Hidden } else { Role::Output },
                params: Params {
                    // Not f32-representable, so an F32 detour would show.
                    weights: w.iter().map(|&x| f64::from(x) * 0.1 + 1e-12).collect(),
                    bias: b.iter().map(|&x| x as f64 / 3.0).collect(),
                    bias_map: None,
                    window: hidden.then(|| window(k + 1)),
                    x_max: hidden.then_some(0.5),
                    quant: Some(quant(w, io[0], b, None, bits, hidden)),
                },
            })
        })
        .collect();
    base(NeuronModel::B1, vec![sizes[0]], layers)
}

/// A conv layer with bias maps (float and integer), flatten, dense output.
fn conv_net() -> Network {
    let mut rng = Lcg(7);
    let (co, ci) = (2, 1);
    let w: Vec<i32> = (0..co * ci * 9).map(|_| rng.int(127) as i32).collect();
    let bias = vec![3, -4];
    let map: Vec<i64> = (0..co * 16).map(|_| rng.int(500)).collect();
    let conv = Conv2d {
        name: "conv1".into(),
        in_shape: [ci, 4, 4],
        out_channels: co,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        role: Role::Hidden,
        params: Params {
            weights: w.iter().map(|&x| f64::from(x) / 7.0).collect(),
            bias: vec![0.25, -0.5],
            bias_map: Some(map.iter().map(|&x| x as f64 / 9.0).collect()),
            window: Some(window(1)),
            x_max: Some(0.5),
            quant: Some(quant(w, ci * 9, bias, Some(map), 8, true)),
        },
    };
    let w2: Vec<i32> = (0..3 * 32).map(|_| rng.int(127) as i32).collect();
    let out = Dense {
        name: "fc".into(),
        inputs: 32,
        outputs: 3,
        role: Role::Output,
        params: Params {
            weights: w2.iter().map(|&x| f64::from(x) / 11.0).collect(),
            bias: vec![0.1, 0.2, 0.3],
            bias_map: None,
            window: None,
            x_max: None,
            quant: Some(quant(w2, 32, vec![1, 2, 3], None, 8, false)),
        },
    };
    let layers = vec![
        Layer::Conv2d(conv),
        Layer::Flatten(Flatten { name: "flat".into(), in_shape: [2, 4, 4] }),
        Layer::Dense(out),
    ];
    base(NeuronModel::B1, vec![1, 4, 4], layers)
}

/// An α/J network: float tensors only, hidden rows summing below 1.
fn alpha_net() -> Network {
    let hidden = Dense {
        name: "h".into(),
        inputs: 4,
        outputs: 3,
        role: Role::Hidden,
        params: Params {
            weights: (0..12).map(|i| 0.05 * f64::from(i % 4) - 0.01).collect(),
            bias: vec![0.1, 0.0, -0.1],
            bias_map: None,
            window: Some(window(1)),
            x_max: Some(0.4),
            quant: None,
        },
    };
    let out = Dense {
        name: "o".into(),
        inputs: 3,
        outputs: 2,
        role: Role::Output,
        params: Params {
            weights: vec![1.5, -2.0, 0.25, 3.0, 0.5, -0.125],
            bias: vec![0.0, 1.0],
            bias_map: None,
            window: None,
            x_max: None,
            quant: None,
        },
    };
    base(NeuronModel::Alpha, vec![4], vec![Layer::Dense(hidden), Layer::Dense(out)])
}

fn saved(net: &Network, dir: &Path) -> PathBuf {
    let json = dir.join("net.json");
    ttfs_ir::save(net, &json, false).expect("saves");
    json
}

fn message(e: &LoadError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Loads `json` under `catch_unwind` and returns the whole error chain.
fn refused(json: &Path) -> String {
    let result = std::panic::catch_unwind(|| ttfs_ir::load_with_notes(json)).expect("no panic");
    match result {
        Ok(_) => panic!("{} loaded", json.display()),
        Err(e) => message(&e),
    }
}

fn json_value(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_sidecar_round_trips_every_kind_of_network() {
    for (what, net) in [
        ("mlp 8-bit", mlp(&[12, 8, 5], 8, 1)),
        ("mlp 12-bit", mlp(&[12, 8, 5], 12, 2)),
        ("mlp 16-bit", mlp(&[6, 4, 3], 16, 3)),
        ("conv with bias maps", conv_net()),
        ("alpha", alpha_net()),
    ] {
        net.validate().unwrap_or_else(|e| panic!("{what}: {e}"));
        let dir = tempfile::tempdir().unwrap();
        let files = ttfs_ir::save(&net, &dir.path().join("net.json"), false).unwrap();
        assert_eq!(files.sidecar, dir.path().join("net.safetensors"));
        let loaded = ttfs_ir::load_with_notes(&files.json).unwrap_or_else(|e| panic!("{what}: {}", message(&e)));
        assert_eq!(loaded.network, net, "{what}");
        assert!(loaded.notes.is_empty(), "{what}: {:?}", loaded.notes);
        // The JSON holds no tensor, and names the sidecar with its size and hash.
        let json = std::fs::read_to_string(&files.json).unwrap();
        assert!(!json.contains("\"weights\"") && !json.contains("\"bias\": [") && !json.contains("bias_map"), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["version"], 3);
        let tensors: TensorsRef = serde_json::from_value(value["tensors"].clone()).unwrap();
        assert_eq!(tensors.file, "net.safetensors");
        assert_eq!(tensors.bytes, std::fs::metadata(&files.sidecar).unwrap().len());
        // The self-contained form still reads back too.
        assert_eq!(Network::from_json(&net.to_json()).unwrap(), net, "{what}");
    }
}

#[test]
fn weights_take_the_smallest_integer_dtype() {
    for (bits, dtype, size) in [(8, "I8", 1), (9, "I16", 2), (16, "I16", 2)] {
        let net = mlp(&[5, 4, 3], bits, 9);
        let (_, bytes) = sidecar::to_files(&net, "net.safetensors").unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
        let w = &header["layers.0.quant.weights"];
        assert_eq!(w["dtype"], dtype, "{bits} bits");
        assert_eq!(w["shape"], serde_json::json!([4, 5]));
        let [s, e] = [0, 1].map(|i| w["data_offsets"][i].as_u64().unwrap());
        assert_eq!(e - s, 20 * size);
        assert_eq!(header["layers.0.weights"]["dtype"], "F64");
        assert_eq!(header["layers.0.quant.bias"]["dtype"], "I64");
    }
    assert_eq!(sidecar::weight_dtype(17), safetensors::Dtype::I32);
}

#[test]
fn saving_is_deterministic_and_refuses_to_overwrite() {
    let net = conv_net();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ja, jb) = (saved(&net, a.path()), saved(&net, b.path()));
    assert_eq!(std::fs::read(&ja).unwrap(), std::fs::read(&jb).unwrap());
    assert_eq!(
        std::fs::read(a.path().join("net.safetensors")).unwrap(),
        std::fs::read(b.path().join("net.safetensors")).unwrap()
    );
    // In memory, the same bytes.
    let (json, bytes) = sidecar::to_files(&net, "net.safetensors").unwrap();
    assert_eq!(json.as_bytes(), std::fs::read(&ja).unwrap());
    assert_eq!(bytes, std::fs::read(a.path().join("net.safetensors")).unwrap());

    let e = ttfs_ir::save(&net, &ja, false).unwrap_err().to_string();
    assert!(e.contains("net.json exists") && e.contains("--force"), "{e}");
    std::fs::remove_file(&ja).unwrap();
    let e = ttfs_ir::save(&net, &ja, false).unwrap_err().to_string();
    assert!(e.contains("net.safetensors exists") && e.contains("--force"), "{e}");
    ttfs_ir::save(&net, &ja, true).unwrap();
    // No temporary file is left behind.
    let mut names: Vec<String> =
        std::fs::read_dir(a.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["net.json", "net.safetensors"]);
}

#[test]
fn the_sidecar_is_named_after_the_json() {
    assert_eq!(ttfs_ir::sidecar_path(Path::new("a/b/m.json")), Path::new("a/b/m.safetensors"));
    assert_eq!(ttfs_ir::sidecar_path(Path::new("m.JSON")), Path::new("m.safetensors"));
    assert_eq!(ttfs_ir::sidecar_path(Path::new("a/net")), Path::new("a/net.safetensors"));
    assert_eq!(ttfs_ir::sidecar_path(Path::new("x.after-fold.json")), Path::new("x.after-fold.safetensors"));
}

#[test]
fn a_large_network_costs_little_more_than_its_tensors() {
    // 400·300 + 300·10 = 123,000 weights.
    let net = mlp(&[400, 300, 10], 8, 5);
    let dir = tempfile::tempdir().unwrap();
    let files = ttfs_ir::save(&net, &dir.path().join("big.json"), false).unwrap();
    let tensor_bytes: u64 = net
        .layers
        .iter()
        .filter_map(|l| l.params())
        .map(|p| {
            let q = p.quant.as_ref().unwrap();
            8 * (p.weights.len() + p.bias.len()) as u64 + (q.weights.len() + 8 * q.bias.len()) as u64
        })
        .sum();
    let total = std::fs::metadata(&files.json).unwrap().len() + files.tensors.bytes;
    assert!(total as f64 <= 1.2 * tensor_bytes as f64, "{total} bytes for {tensor_bytes} bytes of tensors");
    assert_eq!(ttfs_ir::load(&files.json).unwrap(), net);
}

#[test]
fn older_versions_still_load_with_a_note_that_is_not_the_networks() {
    let net = mlp(&[6, 4, 3], 8, 4);
    let dir = tempfile::tempdir().unwrap();
    for version in [1, 2] {
        let mut value: serde_json::Value = serde_json::from_str(&net.to_json()).unwrap();
        value["version"] = version.into();
        let path = dir.path().join(format!("v{version}.json"));
        std::fs::write(&path, value.to_string()).unwrap();
        let loaded = ttfs_ir::load_with_notes(&path).unwrap();
        assert_eq!(loaded.network.version, version);
        assert_eq!(loaded.network.notes, net.notes, "the note is not persisted");
        assert_eq!(loaded.notes.len(), 1);
        assert!(loaded.notes[0].contains(&format!("version {version}")) && loaded.notes[0].contains("version 3"));
        // Saving it writes version 3.
        let files = ttfs_ir::save(&loaded.network, &dir.path().join(format!("up{version}.json")), false).unwrap();
        let again = ttfs_ir::load_with_notes(&files.json).unwrap();
        assert_eq!(again.network.version, 3);
        assert!(again.notes.is_empty());
        // A sidecar needs version 3.
        let mut old = json_value(&files.json);
        old["version"] = version.into();
        std::fs::write(&files.json, old.to_string()).unwrap();
        assert!(refused(&files.json).contains("a sidecar needs version 3"));
    }
}

/// A saved network in a fresh directory, for one hostile edit.
struct Case {
    _dir: tempfile::TempDir,
    json: PathBuf,
    sidecar: PathBuf,
}

fn case(net: &Network) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let json = saved(net, dir.path());
    let sidecar = dir.path().join("net.safetensors");
    Case { _dir: dir, json, sidecar }
}

/// Rewrites the sidecar as `header` + `data` and the JSON's `tensors` to match,
/// so that only what the header says is wrong.
fn rewrite(c: &Case, header: &serde_json::Value, data: &[u8]) {
    let mut text = header.to_string().into_bytes();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend(&text);
    bytes.extend(data);
    write_consistent(c, &bytes);
}

/// Writes `bytes` as the sidecar with a matching size and hash in the JSON.
fn write_consistent(c: &Case, bytes: &[u8]) {
    use sha2::Digest as _;
    std::fs::write(&c.sidecar, bytes).unwrap();
    let mut value = json_value(&c.json);
    value["tensors"]["bytes"] = bytes.len().into();
    value["tensors"]["sha256"] = format!("{:x}", sha2::Sha256::digest(bytes)).into();
    std::fs::write(&c.json, value.to_string()).unwrap();
}

/// The sidecar's header and data.
fn parts(c: &Case) -> (serde_json::Value, Vec<u8>) {
    let bytes = std::fs::read(&c.sidecar).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (serde_json::from_slice(&bytes[8..8 + n]).unwrap(), bytes[8 + n..].to_vec())
}

fn assert_names(error: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(error.contains(f), "{error:?} should name {f:?}");
    }
}

#[test]
fn a_missing_truncated_or_changed_sidecar_is_refused_naming_both_files() {
    let net = mlp(&[12, 8, 5], 8, 1);
    let both = |c: &Case| [c.json.display().to_string(), c.sidecar.display().to_string()];

    let c = case(&net);
    std::fs::remove_file(&c.sidecar).unwrap();
    let e = refused(&c.json);
    assert_names(&e, &[&both(&c)[0], &both(&c)[1], "cannot open"]);

    let c = case(&net);
    let bytes = std::fs::read(&c.sidecar).unwrap();
    std::fs::write(&c.sidecar, &bytes[..bytes.len() - 3]).unwrap();
    let e = refused(&c.json);
    assert_names(&e, &[&both(&c)[0], &both(&c)[1], "truncated"]);

    let c = case(&net);
    let mut bytes = std::fs::read(&c.sidecar).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&c.sidecar, &bytes).unwrap();
    let e = refused(&c.json);
    assert_names(&e, &[&both(&c)[0], &both(&c)[1], "SHA-256"]);

    // Truncated to inside the header length, with the JSON agreeing.
    let c = case(&net);
    write_consistent(&c, &[1, 2, 3]);
    assert_names(&refused(&c.json), &["fewer than the 8"]);

    // The same network loaded from a string cannot find its sidecar.
    let c = case(&net);
    let e = Network::from_json(&std::fs::read_to_string(&c.json).unwrap()).unwrap_err().to_string();
    assert_names(&e, &["tensors", "net.safetensors", "load the description from its file"]);
}

#[test]
fn a_header_length_that_lies_is_refused_before_allocating() {
    let net = mlp(&[12, 8, 5], 8, 1);
    for (n, fragment) in [(1u64 << 40, "runs past the end"), (u64::MAX, "runs past the end")] {
        let c = case(&net);
        let mut bytes = std::fs::read(&c.sidecar).unwrap();
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        write_consistent(&c, &bytes);
        assert_names(&refused(&c.json), &[fragment]);
    }
    // Longer than the limit, and within the (sparse, huge) file.
    let c = case(&net);
    let size = sidecar::MAX_HEADER_BYTES + 4096;
    let file = std::fs::File::create(&c.sidecar).unwrap();
    file.set_len(size).unwrap();
    drop(file);
    let mut f = std::fs::OpenOptions::new().write(true).open(&c.sidecar).unwrap();
    std::io::Write::write_all(&mut f, &(sidecar::MAX_HEADER_BYTES + 8).to_le_bytes()).unwrap();
    drop(f);
    let mut value = json_value(&c.json);
    value["tensors"]["bytes"] = size.into();
    std::fs::write(&c.json, value.to_string()).unwrap();
    assert_names(&refused(&c.json), &["exceeds the limit"]);
}

#[test]
fn hostile_headers_are_refused_naming_the_tensor_or_layer() {
    let net = mlp(&[12, 8, 5], 8, 1);
    type Edit = Box<dyn Fn(&mut serde_json::Value, &mut Vec<u8>)>;
    let cases: Vec<(&str, Edit, Vec<&str>)> = vec![
        (
            "offsets past the data",
            Box::new(|h, _| {
                let end = h["layers.1.quant.weights"]["data_offsets"][1].as_u64().unwrap();
                h["layers.1.quant.weights"]["data_offsets"] = serde_json::json!([end - 40, end + 1000]);
            }),
            vec!["header"],
        ),
        (
            "overlapping offsets",
            Box::new(|h, _| {
                let w = h["layers.0.weights"]["data_offsets"].clone();
                h["layers.1.weights"]["data_offsets"] = w;
            }),
            vec!["not a valid safetensors header", "offset"],
        ),
        ("data after the last tensor", Box::new(|_, d| d.extend([0u8; 16])), vec!["offsets end at byte"]),
        (
            "wrong dtype",
            Box::new(|h, _| h["layers.0.weights"]["dtype"] = "I64".into()),
            vec!["layer 'fc0' (index 0)", "layers.0.weights has dtype I64", "F64"],
        ),
        (
            "float integers",
            Box::new(|h, _| {
                h["layers.0.quant.bias"]["dtype"] = "F64".into();
            }),
            vec!["layer 'fc0' (index 0)", "layers.0.quant.bias has dtype F64"],
        ),
        (
            "shape that disagrees with the layer",
            Box::new(|h, _| h["layers.0.weights"]["shape"] = serde_json::json!([12, 8])),
            vec!["layer 'fc0' (index 0): sidecar tensor layers.0.weights has shape [12, 8], the layer needs [8, 12]"],
        ),
        (
            "extra unknown tensor",
            Box::new(|h, d| {
                let end = d.len();
                h["extra"] = serde_json::json!({"dtype": "I8", "shape": [2], "data_offsets": [end, end + 2]});
                d.extend([1, 2]);
            }),
            vec!["\"extra\"", "none of layers.<k>"],
        ),
        (
            "tensor of a layer that does not exist",
            Box::new(|h, d| {
                let end = d.len();
                h["layers.9.bias"] = serde_json::json!({"dtype": "F64", "shape": [1], "data_offsets": [end, end + 8]});
                d.extend([0; 8]);
            }),
            vec!["layers.9.bias", "2 layers"],
        ),
        (
            "bias map on a dense layer",
            Box::new(|h, d| {
                let end = d.len();
                h["layers.0.bias_map"] =
                    serde_json::json!({"dtype": "F64", "shape": [8], "data_offsets": [end, end + 64]});
                d.extend([0; 64]);
            }),
            vec!["layer 'fc0' (index 0)", "a dense layer has no bias map"],
        ),
        (
            "missing tensor",
            Box::new(|h, d| {
                // Drop the last tensor (by offset) and its data.
                let (name, start) = h
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v["data_offsets"][0].as_u64().unwrap()))
                    .max_by_key(|(_, s)| *s)
                    .unwrap();
                h.as_object_mut().unwrap().remove(&name);
                d.truncate(start as usize);
            }),
            vec!["is neither inline nor in the sidecar"],
        ),
        (
            "integer weights out of range for their bits",
            Box::new(|h, d| {
                let s = h["layers.0.quant.weights"]["data_offsets"][0].as_u64().unwrap() as usize;
                d[s] = 0x80; // −128 in I8
            }),
            vec!["layers[0] (fc0).params.quant.weights[0]", "does not fit 8 bits"],
        ),
        ("not JSON", Box::new(|h, _| *h = serde_json::json!("just a string")), vec!["not a valid safetensors header"]),
    ];
    for (what, edit, fragments) in cases {
        let c = case(&net);
        let (mut header, mut data) = parts(&c);
        edit(&mut header, &mut data);
        rewrite(&c, &header, &data);
        let e = refused(&c.json);
        assert_names(&e, &[&c.json.display().to_string()]);
        // Validation's errors (on values read) name the JSON and the place;
        // the sidecar's own errors name both files.
        if !fragments[0].starts_with("layers[") {
            assert_names(&e, &[&c.sidecar.display().to_string()]);
        }
        for f in &fragments {
            assert!(e.contains(f), "{what}: {e:?} should say {f:?}");
        }
    }
}

#[test]
fn wider_integer_dtypes_load_when_their_values_fit() {
    let net = mlp(&[12, 8, 5], 8, 1);
    // quant.weights as I64: fits, loads; one value beyond i32: refused.
    let c = case(&net);
    let (mut header, data) = parts(&c);
    let mut out = Vec::new();
    let mut offset = 0usize;
    let mut names: Vec<(String, u64)> =
        header.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v["data_offsets"][0].as_u64().unwrap())).collect();
    names.sort_by_key(|(_, s)| *s);
    for (name, _) in &names {
        let info = header[name].clone();
        let [s, e] = [0, 1].map(|i| info["data_offsets"][i].as_u64().unwrap() as usize);
        let bytes: Vec<u8> = if name == "layers.0.quant.weights" {
            header[name]["dtype"] = "I32".into();
            data[s..e].iter().flat_map(|&b| i32::from(b as i8).to_le_bytes()).collect()
        } else {
            data[s..e].to_vec()
        };
        header[name]["data_offsets"] = serde_json::json!([offset, offset + bytes.len()]);
        offset += bytes.len();
        out.extend(bytes);
    }
    rewrite(&c, &header, &out);
    assert_eq!(ttfs_ir::load(&c.json).unwrap(), net);

    let c = case(&net);
    let (mut header, mut data) = parts(&c);
    let (s, e) = {
        let o = &header["layers.1.quant.bias"]["data_offsets"];
        (o[0].as_u64().unwrap() as usize, o[1].as_u64().unwrap() as usize)
    };
    // quant.bias is I64 already: an i64::MAX bias is carried, then refused by
    // validation (its potential does not fit 64 bits), never wrapped.
    data[s..s + 8].copy_from_slice(&i64::MAX.to_le_bytes());
    header["layers.1.quant.bias"]["data_offsets"] = serde_json::json!([s, e]);
    rewrite(&c, &header, &data);
    assert_names(&refused(&c.json), &["layers[1] (fc1).params.quant", "64-bit"]);
}

#[test]
fn the_sidecar_name_must_stay_beside_the_json() {
    let net = mlp(&[12, 8, 5], 8, 1);
    for name in ["../net.safetensors", "/etc/passwd", "sub/net.safetensors", "..", "", "a\\b"] {
        let c = case(&net);
        let mut value = json_value(&c.json);
        value["tensors"]["file"] = name.into();
        std::fs::write(&c.json, value.to_string()).unwrap();
        let e = refused(&c.json);
        assert_names(&e, &[&c.json.display().to_string(), "tensors.file", "plain file name"]);
    }
    for (field, value, fragment) in [
        ("sha256", serde_json::json!("abc"), "tensors.sha256"),
        ("bytes", serde_json::json!(-1), "tensors"),
        ("extra", serde_json::json!(1), "unknown field"),
    ] {
        let c = case(&net);
        let mut v = json_value(&c.json);
        v["tensors"][field] = value;
        std::fs::write(&c.json, v.to_string()).unwrap();
        assert_names(&refused(&c.json), &[fragment]);
    }
}

#[test]
fn a_tensor_inline_and_in_the_sidecar_or_in_neither_is_refused() {
    let net = mlp(&[12, 8, 5], 8, 1);
    let inline: serde_json::Value = serde_json::from_str(&net.to_json()).unwrap();
    let c = case(&net);
    let mut value = json_value(&c.json);
    value["layers"][1]["params"]["quant"]["bias"] = inline["layers"][1]["params"]["quant"]["bias"].clone();
    std::fs::write(&c.json, value.to_string()).unwrap();
    assert_names(
        &refused(&c.json),
        &["layer 'fc1' (index 1)", "params.quant.bias is given both inline and in the sidecar", "layers.1.quant.bias"],
    );

    // Without a sidecar, every tensor must be inline.
    let dir = tempfile::tempdir().unwrap();
    let mut value = inline.clone();
    value["layers"][0]["params"].as_object_mut().unwrap().remove("bias");
    let path = dir.path().join("inline.json");
    std::fs::write(&path, value.to_string()).unwrap();
    assert_names(&refused(&path), &["layers[0] (fc0).params.bias", "is missing"]);

    // Part inline, part in the sidecar: fine.
    let c = case(&net);
    let (mut header, data) = parts(&c);
    let o = header["layers.0.quant.bias"]["data_offsets"].clone();
    let [s, e] = [0, 1].map(|i| o[i].as_u64().unwrap() as usize);
    header.as_object_mut().unwrap().remove("layers.0.quant.bias");
    let mut rest = data[..s].to_vec();
    rest.extend(&data[e..]);
    for (_, info) in header.as_object_mut().unwrap() {
        let [a, b] = [0, 1].map(|i| info["data_offsets"][i].as_u64().unwrap() as usize);
        if a >= e {
            info["data_offsets"] = serde_json::json!([a - (e - s), b - (e - s)]);
        }
    }
    rewrite(&c, &header, &rest);
    let mut value = json_value(&c.json);
    value["layers"][0]["params"]["quant"]["bias"] = inline["layers"][0]["params"]["quant"]["bias"].clone();
    std::fs::write(&c.json, value.to_string()).unwrap();
    assert_eq!(ttfs_ir::load(&c.json).unwrap(), net);
}

#[test]
fn a_sidecar_that_is_a_directory_is_refused() {
    let net = mlp(&[12, 8, 5], 8, 1);
    let c = case(&net);
    std::fs::remove_file(&c.sidecar).unwrap();
    std::fs::create_dir(&c.sidecar).unwrap();
    let e = refused(&c.json);
    assert!(e.contains(&c.sidecar.display().to_string()), "{e}");
}

#[test]
fn a_tensor_beyond_the_size_limits_is_refused_before_it_is_read() {
    // A layer of 32,769 × 32,768 weights (just over 2^30) whose sidecar
    // really is that large (a sparse file): refused by the limit, not after
    // reading a gigabyte.
    let net = mlp(&[12, 8, 5], 8, 1);
    let c = case(&net);
    let (rows, cols) = (32_769usize, 32_768usize);
    let n = rows * cols;
    let header = serde_json::json!({
        "layers.0.quant.weights": {"dtype": "I8", "shape": [rows, cols], "data_offsets": [0, n]}
    });
    let mut text = header.to_string().into_bytes();
    text.resize(text.len().next_multiple_of(8), b' ');
    let size = (8 + text.len() + n) as u64;
    let mut file = std::fs::File::create(&c.sidecar).unwrap();
    std::io::Write::write_all(&mut file, &(text.len() as u64).to_le_bytes()).unwrap();
    std::io::Write::write_all(&mut file, &text).unwrap();
    file.set_len(size).unwrap();
    drop(file);
    let mut value = json_value(&c.json);
    value["tensors"]["bytes"] = size.into();
    value["layers"][0]["inputs"] = cols.into();
    value["layers"][0]["outputs"] = rows.into();
    std::fs::write(&c.json, value.to_string()).unwrap();
    assert_names(&refused(&c.json), &["layer 'fc0' (index 0)", "layers.0.quant.weights", "values allowed"]);
}
