//! The hostile-input corpus (`tests/hostile/`, written by its
//! `make_corpus.py`, plus inputs too large to commit that are built here):
//! every family of bad input a fuzz campaign found, run through the `ttfs`
//! binary under a memory and a time bound, and through the library under
//! `catch_unwind`. Each must end in a clean error (exit code 1, one message
//! naming the file and the place in it) or, for odd-but-valid input, in the
//! right answer: never a panic, a signal, a hang or a blow-up.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space allowed to one `ttfs` run (KiB for `ulimit -v`): enough
/// for every legitimate case here, far less than any blow-up needs.
const MEMORY_KIB: u64 = 2 * 1024 * 1024;
/// Wall time allowed to one run.
const TIME_LIMIT: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus(name: &str) -> String {
    repo().join("tests/hostile").join(name).display().to_string()
}

fn fixture(name: &str) -> String {
    repo().join("tests/fixtures").join(name).display().to_string()
}

/// How one run ended.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `ttfs args` under [`MEMORY_KIB`] and [`TIME_LIMIT`].
fn ttfs_bounded(args: &[String]) -> Outcome {
    let script = format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\"");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_ttfs"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > TIME_LIMIT {
            child.kill().ok();
            panic!("ttfs {args:?} ran longer than {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts a clean refusal: exit code 1 (not a panic's 101, not a signal)
/// and an error that holds every fragment.
fn refused(args: &[String], fragments: &[&str]) {
    let out = ttfs_bounded(args);
    assert_eq!(out.code, Some(1), "ttfs {args:?} must fail cleanly\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("panicked"), "ttfs {args:?} panicked:\n{}", out.stderr);
    for f in fragments {
        assert!(out.stderr.contains(f), "ttfs {args:?}: the error lacks {f:?}:\n{}", out.stderr);
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The digits network, converted from the real fixture into `dir`.
fn digits_net(dir: &Path) -> PathBuf {
    digits_net_with(dir, "digits.json", &[])
}

/// The digits network converted into `dir/name` with `options` added.
fn digits_net_with(dir: &Path, name: &str, options: &[&str]) -> PathBuf {
    let net = dir.join(name);
    let mut args = strings(&[
        "convert",
        &fixture("digits_mlp.onnx"),
        "--calib",
        &fixture("digits/train_images.csv.gz"),
        "--calib-count",
        "300",
        "-o",
        net.to_str().unwrap(),
    ]);
    args.extend(strings(options));
    let out = ttfs_bounded(&args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    net
}

/// (corpus file, calibration data, what the error must say).
const MODELS: &[(&str, &str, &[&str])] = &[
    (
        "matmul_dims_wrap.onnx",
        "digits",
        &["matmul_dims_wrap.onnx", "tensor 'coefficient'", "[16, 1152921504606846976]"],
    ),
    ("gemm_dims_wrap.onnx", "digits", &["gemm_dims_wrap.onnx", "tensor 'coefficient'", "than can be counted"]),
    (
        "gemm_transb_dims_wrap.onnx",
        "digits",
        &["gemm_transb_dims_wrap.onnx", "tensor 'coefficient'", "than can be counted"],
    ),
    ("input_shape_overflow.onnx", "digits", &["input_shape_overflow.onnx", "input 'X'", "the product overflows"]),
    ("input_billion.onnx", "digits", &["input_billion.onnx", "input 'X'", "at most 268435456 (2^28)"]),
    ("conv_pads_huge.onnx", "conv", &["conv_pads_huge.onnx", "node 'conv1' (op Conv)", "output shape"]),
    ("bias_1e30.onnx", "digits", &["bias_1e30.onnx", "layer 'MatMul' cannot be quantized at 8 weight bits", "64 bits"]),
    ("weights_1e-43.onnx", "digits", &["weights_1e-43.onnx", "layer 'MatMul' cannot be quantized", "64 bits"]),
    (
        "duplicate_initializer.onnx",
        "digits",
        &["duplicate_initializer.onnx", "initializer 'coefficient' is defined twice"],
    ),
    ("cycle.onnx", "digits", &["cycle.onnx", "node 'Add' reads tensor 'next_activations' before node 'Relu'", "cycle"]),
    ("dangling_input.onnx", "digits", &["dangling_input.onnx", "node 'MatMul1' reads tensor 'coefficient_missing'"]),
    ("output_off_chain.onnx", "digits", &["output_off_chain.onnx", "graph output 'mul_result' is not reached"]),
];

fn calibration(kind: &str) -> String {
    match kind {
        "digits" => fixture("digits/train_images.csv.gz"),
        _ => fixture("onnx/conv_pool_input.npy"),
    }
}

#[test]
fn hostile_models_are_refused_by_the_binary_and_the_library() {
    let dir = tempfile::tempdir().unwrap();
    for (name, calib, fragments) in MODELS {
        let output = dir.path().join(format!("{name}.json"));
        refused(
            &strings(&[
                "convert",
                &corpus(name),
                "--calib",
                &calibration(calib),
                "--calib-count",
                "50",
                "-o",
                output.to_str().unwrap(),
            ]),
            fragments,
        );
        assert!(!output.exists(), "{name}: a refused conversion left {} behind", output.display());
        // The library says the same, without panicking.
        let args = ttfs_convert::stage::Args {
            model: corpus(name).into(),
            calib: calibration(calib).into(),
            calib_count: Some(50),
            output: output.clone(),
            options: Default::default(),
            dump_after: Vec::new(),
            force: false,
        };
        let result = std::panic::catch_unwind(|| ttfs_convert::stage::run(&args));
        let error = format!("{:#}", result.expect("no panic").expect_err("refused"));
        assert!(error.contains(fragments[1]), "{name}: library error {error}");
    }
}

/// A graph of 60,000 Identity nodes between the input and the first layer
/// (every walk over it must be linear) converts to the same network as the
/// model without them.
#[test]
fn a_long_chain_of_identities_converts_quickly() {
    use onnx_protobuf::{Message, ModelProto, NodeProto};
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("digits_mlp.onnx")).unwrap();
    let mut model = ModelProto::parse_from_bytes(&bytes).unwrap();
    let graph = model.graph.as_mut().unwrap();
    let first = graph.node.iter().position(|n| n.op_type == "MatMul").unwrap();
    let data = graph.node[first].input[0].clone();
    let mut chain = Vec::new();
    let mut previous = data.clone();
    for k in 0..60_000 {
        let mut node = NodeProto::new();
        node.op_type = "Identity".into();
        node.name = format!("id{k}");
        node.input.push(previous.clone());
        previous = format!("{data}_id{k}");
        node.output.push(previous.clone());
        chain.push(node);
    }
    graph.node[first].input[0] = previous;
    for (k, node) in chain.into_iter().enumerate() {
        graph.node.insert(first + k, node);
    }
    let long = dir.path().join("identities.onnx");
    std::fs::write(&long, model.write_to_bytes().unwrap()).unwrap();
    let convert = |model: &str, out: &str| {
        let out = dir.path().join(out);
        let run = ttfs_bounded(&strings(&[
            "convert",
            model,
            "--calib",
            &calibration("digits"),
            "--calib-count",
            "50",
            "-o",
            out.to_str().unwrap(),
        ]));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let mut net: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
        net["name"] = "x".into();
        net["source"]["model"] = "x".into();
        // The sidecars are named after the outputs; their size and hash must agree.
        net["tensors"]["file"] = "x".into();
        net
    };
    assert_eq!(convert(long.to_str().unwrap(), "long.json"), convert(&fixture("digits_mlp.onnx"), "short.json"));
}

/// (JSON pointer into the digits description, new value, what the error must say).
fn net_json_cases() -> Vec<(&'static str, serde_json::Value, Vec<&'static str>)> {
    use serde_json::json;
    vec![
        (
            "/layers/0/params/quant/widths/potential",
            json!(4_294_967_295u64),
            vec!["layers[0] (MatMul).params.quant.widths.potential", "1 to 64 bits"],
        ),
        ("/layers/0/params/quant/bias/0", json!(i64::MAX), vec!["layers[0] (MatMul).params.quant", "64-bit"]),
        ("/layers/0/params/quant/fire/beta", json!(i64::MAX), vec!["layers[0] (MatMul).params.quant.fire"]),
        (
            "/layers/0/params/window/t_max",
            json!(1e308),
            vec!["layers[0] (MatMul).params.quant.fire.activation_scale", "cover the window"],
        ),
        ("/layers/0/outputs", json!(0), vec!["layers[0] (MatMul)", "no values"]),
        (
            "/layers/0/params/quant/widths/max_abs_potential",
            json!(i64::MAX),
            vec!["layers[0] (MatMul).params.quant.widths", "must fit"],
        ),
        ("/layers/1/inputs", json!(u64::MAX), vec!["layers[1]", "expects a flat input"]),
    ]
}

#[test]
fn hostile_network_descriptions_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let net = digits_net(dir.path());
    // The self-contained form (every tensor inline), so that the pointers
    // reach into the tensors too.
    let good: serde_json::Value = serde_json::from_str(&ttfs_ir::load(&net).unwrap().to_json()).unwrap();
    for (k, (pointer, value, fragments)) in net_json_cases().into_iter().enumerate() {
        let mut bad = good.clone();
        *bad.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} exists")) = value;
        let path = dir.path().join(format!("bad{k}.json"));
        std::fs::write(&path, bad.to_string()).unwrap();
        let mut expected = vec![path.to_str().unwrap()];
        expected.extend(&fragments);
        for command in ["sim", "generate"] {
            let args = match command {
                "sim" => strings(&["sim", path.to_str().unwrap(), "--data", &corpus("digits_20.csv")]),
                _ => strings(&["generate", path.to_str().unwrap(), "-o", dir.path().join("hw").to_str().unwrap()]),
            };
            refused(&args, &expected);
        }
        let parsed = std::panic::catch_unwind(|| ttfs_ir::Network::from_json(&bad.to_string()));
        assert!(parsed.expect("no panic").is_err(), "{pointer}");
    }
}

/// A copy of the digits description (`digits.json` and its sidecar) in
/// `dir` under `name`, with `edit` applied to the sidecar's bytes and to the
/// JSON.
fn sidecar_case(
    dir: &Path,
    good: &Path,
    name: &str,
    edit: impl FnOnce(&mut Vec<u8>, &mut serde_json::Value),
) -> (PathBuf, PathBuf) {
    let json = dir.join(format!("{name}.json"));
    let sidecar = ttfs_ir::sidecar_path(&json);
    let mut bytes = std::fs::read(ttfs_ir::sidecar_path(good)).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(good).unwrap()).unwrap();
    value["tensors"]["file"] = sidecar.file_name().unwrap().to_str().unwrap().into();
    edit(&mut bytes, &mut value);
    std::fs::write(&sidecar, &bytes).unwrap();
    std::fs::write(&json, value.to_string()).unwrap();
    (json, sidecar)
}

/// The sidecar's size and SHA-256 written into the JSON, so that only the
/// edit under test is wrong.
fn agree(bytes: &[u8], value: &mut serde_json::Value) {
    use sha2::Digest as _;
    value["tensors"]["bytes"] = bytes.len().into();
    value["tensors"]["sha256"] = format!("{:x}", sha2::Sha256::digest(bytes)).into();
}

/// Hostile tensor sidecars (version 3): each is refused by `ttfs sim`,
/// `ttfs inspect` and the library with a message naming the files and the
/// place, under the memory and time bounds.
#[test]
fn hostile_sidecars_are_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = digits_net(dir.path());
    let header_len = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    type Edit = Box<dyn FnOnce(&mut Vec<u8>, &mut serde_json::Value)>;
    // (name, edit, the error names the sidecar too, what it must say)
    let cases: Vec<(&str, Edit, bool, &str)> = vec![
        ("missing", Box::new(|b, _| b.clear()), true, "SHA-256"),
        ("truncated", Box::new(|b, _| b.truncate(b.len() / 2)), true, "truncated"),
        (
            "changed",
            Box::new(|b, _| {
                let last = b.len() - 1;
                b[last] ^= 0x40;
            }),
            true,
            "SHA-256",
        ),
        (
            "header-past-end",
            Box::new(|b, v| {
                b[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
                agree(b, v);
            }),
            true,
            "runs past the end",
        ),
        (
            "offsets-overlap",
            Box::new(move |b, v| {
                let n = header_len(b);
                let text = String::from_utf8(b[8..8 + n].to_vec()).unwrap();
                let header: serde_json::Value = serde_json::from_str(&text).unwrap();
                let first = header["layers.0.weights"]["data_offsets"].to_string();
                let second = header["layers.1.weights"]["data_offsets"].to_string();
                let edited = text.replacen(&second, &first, 1);
                let mut out = (edited.len() as u64).to_le_bytes().to_vec();
                out.extend(edited.as_bytes());
                out.extend(&b[8 + n..]);
                *b = out;
                agree(b, v);
            }),
            true,
            "not a valid safetensors header",
        ),
        (
            "wrong-dtype",
            Box::new(move |b, v| {
                let n = header_len(b);
                let text = String::from_utf8(b[8..8 + n].to_vec()).unwrap();
                // F64 → I64 keeps every length and offset.
                let edited = text.replacen("\"F64\"", "\"I64\"", 1);
                b[8..8 + n].copy_from_slice(edited.as_bytes());
                agree(b, v);
            }),
            true,
            "has dtype I64",
        ),
        ("escape", Box::new(|_, v| v["tensors"]["file"] = "../digits.safetensors".into()), false, "tensors.file"),
        ("absolute", Box::new(|_, v| v["tensors"]["file"] = "/etc/passwd".into()), false, "plain file name"),
        (
            "both",
            Box::new(|_, v| v["layers"][0]["params"]["bias"] = serde_json::json!(vec![0.0; 32])),
            true,
            "given both inline and in the sidecar",
        ),
    ];
    for (name, edit, names_sidecar, fragment) in cases {
        let (json, sidecar) = sidecar_case(dir.path(), &good, name, edit);
        if name == "missing" {
            std::fs::remove_file(&sidecar).unwrap();
        }
        let mut expected = vec![json.to_str().unwrap(), fragment];
        if names_sidecar {
            expected.push(sidecar.to_str().unwrap());
        }
        let expected = if name == "missing" { vec![expected[0], expected[2], "cannot open"] } else { expected };
        refused(&strings(&["sim", json.to_str().unwrap(), "--data", &corpus("digits_20.csv")]), &expected);
        refused(&strings(&["inspect", json.to_str().unwrap()]), &expected);
        let loaded = std::panic::catch_unwind(|| ttfs_ir::load(&json));
        assert!(loaded.expect("no panic").is_err(), "{name}");
    }
}

/// Convolution pads that wrap a 64-bit sum are refused in net.json too.
#[test]
fn conv_pads_that_wrap_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("conv.json");
    let run = ttfs_bounded(&strings(&[
        "convert",
        &fixture("onnx/conv_pool.onnx"),
        "--calib",
        &calibration("conv"),
        "-o",
        net.to_str().unwrap(),
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    json["layers"][0]["pads"] = serde_json::json!([u64::MAX, 1, 2, 1]);
    let bad = dir.path().join("pads.json");
    std::fs::write(&bad, json.to_string()).unwrap();
    refused(
        &strings(&["sim", bad.to_str().unwrap(), "--data", &calibration("conv")]),
        // Named by the sidecar's check of the bias map's shape, which needs
        // the layer's output shape: "layer 'conv1' (index 0): …".
        &[bad.to_str().unwrap(), "conv1", "does not fit"],
    );
}

#[test]
fn data_files_that_do_not_line_up_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = digits_net(dir.path());
    let net = net.to_str().unwrap();
    // A typo in the first data row is not a header.
    refused(
        &strings(&["sim", net, "--data", &corpus("first_row_typo.csv")]),
        &["first_row_typo.csv", "line 1", "column 6"],
    );
    // One label too many: the rows and the labels do not line up.
    refused(
        &strings(&["sim", net, "--data", &corpus("digits_20.csv"), "--labels", &corpus("labels_one_too_many.csv")]),
        &["labels_one_too_many.csv", "21 labels", "20 samples"],
    );
    // With --count the data were cut on purpose: extra labels are fine.
    let out = ttfs_bounded(&strings(&[
        "sim",
        net,
        "--data",
        &corpus("digits_20.csv"),
        "--labels",
        &corpus("labels_one_too_many.csv"),
        "--count",
        "10",
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    refused(&strings(&["sim", net, "--data", &corpus("digits_20.csv"), "--count", "0"]), &["--count 0"]);
}

/// A small gzip file that declares millions of samples (a consistent IDX
/// file of zeros) is read only as far as `--count` needs.
#[test]
fn a_gzip_bomb_is_read_only_as_far_as_count() {
    let dir = tempfile::tempdir().unwrap();
    let net = digits_net(dir.path());
    let bomb = dir.path().join("bomb-idx3-ubyte.gz");
    let samples: u32 = 5_000_000; // 320 MB of pixels, 2.5 GB as f64
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&bomb).unwrap(), flate2::Compression::best());
    gz.write_all(&[0, 0, 0x08, 3]).unwrap();
    for d in [samples, 8, 8] {
        gz.write_all(&d.to_be_bytes()).unwrap();
    }
    let zeros = vec![0u8; 1 << 20];
    let mut left = u64::from(samples) * 64;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        gz.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let out =
        ttfs_bounded(&strings(&["sim", net.to_str().unwrap(), "--data", bomb.to_str().unwrap(), "--count", "10"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let samples = out.stdout.lines().find(|l| l.starts_with("samples")).unwrap_or_default();
    assert!(samples.ends_with(" 10"), "{}", out.stdout);
}

#[test]
fn cosim_options_that_would_check_nothing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = digits_net(dir.path());
    let net = net.to_str().unwrap();
    let data = corpus("digits_20.csv");
    refused(&strings(&["cosim", net, "--data", &data, "--count", "0"]), &["--count 0"]);
    refused(&strings(&["cosim", net, "--data", &data, "--trace", dir.path().to_str().unwrap()]), &["--trace"]);
    refused(&strings(&["cosim", net, "--data", &data, "--trace", "/dev/full"]), &["/dev/full"]);
}

/// An integer network that loses accuracy against the float one says so,
/// and one that does not stays quiet.
#[test]
fn lost_accuracy_is_said_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let coarse = digits_net_with(dir.path(), "coarse.json", &["--time-bits", "3", "--weight-bits", "3"]);
    let data = fixture("digits/test_images.csv.gz");
    let out = ttfs_bounded(&strings(&["sim", coarse.to_str().unwrap(), "--data", &data]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("warning: the integer network picks another class than the float ReLU network on"),
        "{}",
        out.stdout
    );
    // With labels the accuracy drop is named, and --strict makes it an error.
    let labels = fixture("digits/test_labels.csv.gz");
    let coarse_args = strings(&["sim", coarse.to_str().unwrap(), "--data", &data, "--labels", &labels]);
    let out = ttfs_bounded(&coarse_args);
    assert!(out.stdout.contains("points below the float network's"), "{}", out.stdout);
    let mut strict = coarse_args.clone();
    strict.push("--strict".into());
    refused(&strict, &["--strict", "points below the float network"]);
    let fine = digits_net(dir.path());
    let out =
        ttfs_bounded(&strings(&["sim", fine.to_str().unwrap(), "--data", &data, "--labels", &labels, "--strict"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains("warning"), "{}", out.stdout);
}

/// Data on another scale than the calibration data (bytes 0..255 into a
/// model calibrated on pixels in [0, 1]) are named feature by feature,
/// and `--strict` refuses them.
#[test]
fn data_off_the_calibrated_ranges_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("torch.json");
    let out = ttfs_bounded(&strings(&[
        "convert",
        &fixture("users/torch_mlp_script.onnx"),
        "--calib",
        &fixture("users/torch_mlp_ref_input.npy"),
        "-o",
        net.to_str().unwrap(),
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let bytes = strings(&[
        "sim",
        net.to_str().unwrap(),
        "--data",
        &fixture("mnist/t10k-images-idx3-ubyte.gz"),
        "--count",
        "50",
    ]);
    let out = ttfs_bounded(&bytes);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let warning = out.stdout.lines().find(|l| l.contains("outside the ranges the network was calibrated on"));
    let warning = warning.unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(warning.contains("bytes 0..255") && warning.contains("feature ") && warning.contains("more"), "{warning}");
    assert!(warning.contains("these data span [0, 255]"), "{warning}");
    let mut strict = bytes.clone();
    strict.push("--strict".into());
    refused(&strict, &["--strict", "outside the ranges the network was calibrated on"]);
    // The same images as floats in [0, 1] stay quiet.
    let out = ttfs_bounded(&strings(&[
        "sim",
        net.to_str().unwrap(),
        "--data",
        &fixture("users/torch_mlp_ref_input.npy"),
        "--strict",
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains("warning"), "{}", out.stdout);
}
