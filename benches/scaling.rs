//! How convert, sim and generate scale with the network: time and peak
//! memory for MLPs and CIFAR-sized VGGs from about 0.1 M to 50 M parameters,
//! each time as a ratio to a plain ndarray GEMM forward pass (f64, batched,
//! parallel over chunks of samples) over the same samples, measured in the
//! same run; then the growth exponent of each stage's time in parameters ×
//! samples (MLPs) or multiply-accumulates × samples (CNNs), fitted by least
//! squares on the log-log points.
//!
//! The networks are built in Rust as real ONNX files (`tests/common/
//! synthetic.rs`, seeded He-uniform weights), so nothing large is committed
//! and no Python runs. The MLPs (784-h-h-10) calibrate and simulate on the
//! first 1,000 MNIST test images (`SCALING_SAMPLES` to change); the VGGs
//! (the seeds' 15-layer CIFAR-10 shape, widths divided by 8, 4, 2 and 1)
//! on 100 seeded 3×32×32 byte images. Every stage runs in this process
//! through the same functions as the `ttfs` command; peak memory is the
//! resident-set high-water mark, reset before each stage
//! (`/proc/self/clear_refs`), reported next to the bytes of the tensors
//! (the float weights at f64 plus the integer weights).
//!
//! Each network is measured in a child process of its own, so that memory
//! the allocator keeps from one network does not count towards the next.
//!
//! Run: `cargo bench --bench scaling` (about 6 minutes on 2 cores;
//! `SCALING_MAX_PARAMS=3000000` for a quick pass). Results also go to
//! `target/scaling.json`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::synthetic::{Spec, images};
use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;
use ttfs_ir::{Layer, Network};

/// One measured stage.
#[derive(Clone, Copy, Debug, Default)]
struct Measure {
    seconds: f64,
    peak_bytes: u64,
}

/// Resets the resident-set high-water mark (Linux).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The resident-set high-water mark since the last reset, in bytes.
fn peak() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn measure<T>(f: impl FnOnce() -> T) -> (T, Measure) {
    reset_peak();
    let start = Instant::now();
    let out = f();
    let seconds = start.elapsed().as_secs_f64();
    (out, Measure { seconds, peak_bytes: peak() })
}

/// The float network as a batched f64 forward pass: dense layers as one
/// GEMM per chunk, convolutions as im2col and one GEMM, max-pooling direct.
struct Baseline<'a> {
    net: &'a Network,
}

const CHUNK: usize = 32;

impl Baseline<'_> {
    /// Logits of every sample (rows of `x`, canonical layout, encoded).
    fn forward(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let chunks: Vec<Array2<f64>> =
            x.axis_chunks_iter(Axis(0), CHUNK).collect::<Vec<_>>().into_par_iter().map(|c| self.chunk(c)).collect();
        ndarray::concatenate(Axis(0), &chunks.iter().map(|c| c.view()).collect::<Vec<_>>()).expect("same widths")
    }

    fn chunk(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut a = x.to_owned();
        let last = self.net.layers.len() - 1;
        for (k, layer) in self.net.layers.iter().enumerate() {
            a = match layer {
                Layer::Dense(d) => {
                    let w = ArrayView2::from_shape((d.outputs, d.inputs), &d.params.weights).expect("shape");
                    let mut z = a.dot(&w.t());
                    z += &ndarray::ArrayView1::from(&d.params.bias);
                    z
                }
                Layer::Conv2d(c) => {
                    let [ci, h, w] = c.in_shape;
                    let [kh, kw] = c.kernel;
                    let (oh, ow) = (
                        ttfs_ir::conv_out_dim(h, kh, c.stride[0], c.pads[0], c.pads[2]).expect("geometry"),
                        ttfs_ir::conv_out_dim(w, kw, c.stride[1], c.pads[1], c.pads[3]).expect("geometry"),
                    );
                    let n = a.nrows();
                    let taps = ci * kh * kw;
                    let mut cols = Array2::<f64>::zeros((n * oh * ow, taps));
                    for s_ in 0..n {
                        let img = a.row(s_);
                        for y in 0..oh {
                            for x_ in 0..ow {
                                let mut row = cols.row_mut((s_ * oh + y) * ow + x_);
                                for ch in 0..ci {
                                    for dy in 0..kh {
                                        let iy = (y * c.stride[0] + dy) as isize - c.pads[0] as isize;
                                        for dx in 0..kw {
                                            let ix = (x_ * c.stride[1] + dx) as isize - c.pads[1] as isize;
                                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                                row[(ch * kh + dy) * kw + dx] =
                                                    img[(ch * h + iy as usize) * w + ix as usize];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    let wm = ArrayView2::from_shape((c.out_channels, taps), &c.params.weights).expect("shape");
                    let z = cols.dot(&wm.t()); // (n·oh·ow) × co
                    let mut out = Array2::<f64>::zeros((n, c.out_channels * oh * ow));
                    for s_ in 0..n {
                        for p in 0..oh * ow {
                            for o in 0..c.out_channels {
                                let bias = match &c.params.bias_map {
                                    Some(m) => m[o * oh * ow + p],
                                    None => c.params.bias[o],
                                };
                                out[[s_, o * oh * ow + p]] = z[[s_ * oh * ow + p, o]] + bias;
                            }
                        }
                    }
                    out
                }
                Layer::MaxPool(p) => {
                    let [ch, h, w] = p.in_shape;
                    let (oh, ow) = (
                        ttfs_ir::conv_out_dim(h, p.kernel[0], p.stride[0], p.pads[0], p.pads[2]).expect("geometry"),
                        ttfs_ir::conv_out_dim(w, p.kernel[1], p.stride[1], p.pads[1], p.pads[3]).expect("geometry"),
                    );
                    let mut out = Array2::<f64>::zeros((a.nrows(), ch * oh * ow));
                    for (src, mut dst) in a.outer_iter().zip(out.outer_iter_mut()) {
                        for c_ in 0..ch {
                            for y in 0..oh {
                                for x_ in 0..ow {
                                    let mut m = f64::NEG_INFINITY;
                                    for dy in 0..p.kernel[0] {
                                        for dx in 0..p.kernel[1] {
                                            let iy = (y * p.stride[0] + dy) as isize - p.pads[0] as isize;
                                            let ix = (x_ * p.stride[1] + dx) as isize - p.pads[1] as isize;
                                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                                m = m.max(src[(c_ * h + iy as usize) * w + ix as usize]);
                                            }
                                        }
                                    }
                                    dst[(c_ * oh + y) * ow + x_] = m;
                                }
                            }
                        }
                    }
                    out
                }
                Layer::Flatten(_) => a,
            };
            if k != last && layer.params().is_some() {
                a.mapv_inplace(|v| v.max(0.0));
            }
        }
        a
    }
}

/// Bytes of the network's tensors: float weights and biases at f64, integer
/// weights at the smallest of 1, 2 or 4 bytes holding them, integer biases at 8.
fn tensor_bytes(net: &Network) -> u64 {
    net.layers
        .iter()
        .filter_map(|l| l.params())
        .map(|p| {
            let float = 8 * (p.weights.len() + p.bias.len() + p.bias_map.as_ref().map_or(0, Vec::len));
            let int = p.quant.as_ref().map_or(0, |q| {
                let per = match q.weight_bits {
                    0..=8 => 1,
                    9..=16 => 2,
                    _ => 4,
                };
                per * q.weights.len() + 8 * (q.bias.len() + q.bias_map.as_ref().map_or(0, Vec::len))
            });
            (float + int) as u64
        })
        .sum()
}

/// Bytes of the description on disk: the JSON and its tensor sidecar.
fn description_bytes(json: &Path) -> u64 {
    [json.to_path_buf(), json.with_extension("safetensors")]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Least-squares slope of log(y) on log(x).
fn exponent(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, y)| (x.ln(), y.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let cov: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    cov / var
}

struct Row {
    name: String,
    params: usize,
    macs: usize,
    samples: usize,
    gemm: f64,
    convert: Measure,
    sim: Measure,
    generate: Option<Measure>,
    tensor_bytes: u64,
    file_bytes: u64,
    checked: String,
}

fn row_json(r: &Row) -> String {
    let m = |m: &Measure| json!([m.seconds, m.peak_bytes]);
    json!({
        "name": r.name, "params": r.params, "macs": r.macs, "samples": r.samples, "gemm": r.gemm,
        "convert": m(&r.convert), "sim": m(&r.sim), "generate": r.generate.as_ref().map(m),
        "tensor_bytes": r.tensor_bytes, "file_bytes": r.file_bytes, "checked": r.checked,
    })
    .to_string()
}

fn row_from_json(line: &str) -> Row {
    let v: serde_json::Value = serde_json::from_str(line).expect("the child's result is JSON");
    let m = |v: &serde_json::Value| Measure {
        seconds: v[0].as_f64().expect("seconds"),
        peak_bytes: v[1].as_u64().expect("bytes"),
    };
    Row {
        name: v["name"].as_str().expect("name").to_string(),
        params: v["params"].as_u64().expect("params") as usize,
        macs: v["macs"].as_u64().expect("macs") as usize,
        samples: v["samples"].as_u64().expect("samples") as usize,
        gemm: v["gemm"].as_f64().expect("gemm"),
        convert: m(&v["convert"]),
        sim: m(&v["sim"]),
        generate: (!v["generate"].is_null()).then(|| m(&v["generate"])),
        tensor_bytes: v["tensor_bytes"].as_u64().expect("bytes"),
        file_bytes: v["file_bytes"].as_u64().expect("bytes"),
        checked: v["checked"].as_str().expect("checked").to_string(),
    }
}

fn run_one(spec: &Spec, data: &Path, samples: usize, dir: &Path) -> Row {
    let model = dir.join(format!("{}.onnx", spec.name));
    std::fs::write(&model, spec.onnx(7)).expect("write the model");
    let net_path = dir.join(format!("{}.json", spec.name));
    let (_, convert) = measure(|| {
        ttfs_convert::stage::run(&ttfs_convert::stage::Args {
            model: model.clone(),
            calib: data.to_path_buf(),
            calib_count: Some(samples),
            output: net_path.clone(),
            options: ttfs_convert::Options::default(),
            dump_after: Vec::new(),
            force: true,
        })
        .expect("convert")
    });
    let (report, sim) = measure(|| {
        ttfs_flow::sim_stage::run(&ttfs_flow::sim_stage::Args {
            network: net_path.clone(),
            data: data.to_path_buf(),
            labels: None,
            count: Some(samples),
            exhaustive: false,
        })
        .expect("sim")
    });
    let net = ttfs_ir::load(&net_path).expect("load");
    let generate = net.layers.iter().all(|l| matches!(l, Layer::Dense(_))).then(|| {
        let out = dir.join(format!("{}_hw", spec.name));
        measure(|| {
            ttfs_hw::stage::run(&ttfs_hw::stage::Args {
                network: net_path.clone(),
                output: out.clone(),
                target: ttfs_hw::target::Target::Generic,
                lanes: ttfs_hw::planner::Lanes::Fixed(Vec::new()),
                calib: None,
                calib_count: None,
                force: true,
                requantize: None,
                baud: ttfs_hw::board::BAUD,
            })
            .expect("generate")
        })
        .1
    });

    // The baseline: the same samples, encoded, through the float network.
    let (values, count) = common::canonical_samples_from(&net, data, Some(samples));
    let width: usize = net.input.shape.iter().product();
    let x0: Vec<f64> = values.chunks(width).flat_map(|raw| ttfs_sim::encode::continuous(&net, raw).0).collect();
    let x = Array2::from_shape_vec((count, width), x0).expect("samples");
    let baseline = Baseline { net: &net };
    // The fastest of three runs: the yardstick is the GEMM at its best.
    let mut gemm = f64::INFINITY;
    let mut logits = Array2::zeros((0, 0));
    for _ in 0..3 {
        let start = Instant::now();
        logits = baseline.forward(x.view());
        gemm = gemm.min(start.elapsed().as_secs_f64());
    }
    assert_eq!(logits.shape(), [count, net.classes()]);
    let _ = logits.slice(s![.., 0]).sum();

    Row {
        name: spec.name.clone(),
        params: spec.parameters(),
        macs: spec.macs(),
        samples: count,
        gemm,
        convert,
        sim,
        generate,
        tensor_bytes: tensor_bytes(&net),
        file_bytes: description_bytes(&net_path),
        checked: format!(
            "continuous max rel err {:.1e}, {} clipped, discrete mismatches {}",
            report.max_rel_error_continuous,
            report.clipped_activations,
            report.discrete_closed_form_mismatches.map_or("-".into(), |m| m.to_string())
        ),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let max_params: usize = std::env::var("SCALING_MAX_PARAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let mlp_samples: usize = std::env::var("SCALING_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temporary directory");
    // SCALING_KEEP=DIR keeps the models and descriptions there (for profiling).
    let kept = std::env::var_os("SCALING_KEEP").map(PathBuf::from);
    let work = kept.clone().unwrap_or_else(|| dir.path().to_path_buf());
    let mnist = common::fixture("mnist/t10k-images-idx3-ubyte.gz");
    let cifar_like = work.join("images_3x32x32.npy");
    let cnn_samples = 100;
    let pixels = images(&[3, 32, 32], cnn_samples, 11);
    let array = ndarray::Array4::from_shape_vec((cnn_samples, 3, 32, 32), pixels).expect("images");
    if !cifar_like.exists() {
        ndarray_npy::write_npy(&cifar_like, &array).expect("write the images");
    }

    let mut specs: Vec<(Spec, PathBuf, usize)> = Vec::new();
    for h in [112, 256, 512, 1024, 2048, 4096, 6656] {
        specs.push((Spec::mlp(&[784, h, h, 10]), mnist.clone(), mlp_samples));
    }
    for divide in [8, 4, 2, 1] {
        specs.push((Spec::cifar_vgg(divide), cifar_like.clone(), cnn_samples));
    }
    specs.retain(|(s, _, _)| s.parameters() <= max_params);

    // A child process measures one network (SCALING_CHILD=index): memory
    // the allocator kept from an earlier network would otherwise count
    // towards the next one's peak.
    if let Some(index) = std::env::var("SCALING_CHILD").ok().and_then(|v| v.parse::<usize>().ok()) {
        let (spec, data, samples) = &specs[index];
        println!("{}", row_json(&run_one(spec, data, *samples, &work)));
        return;
    }

    let mut rows = Vec::new();
    for (index, (spec, _, samples)) in specs.iter().enumerate() {
        eprintln!("{} ({:.2} M parameters, {samples} samples) …", spec.name, spec.parameters() as f64 / 1e6);
        let child = std::process::Command::new(std::env::current_exe().expect("this benchmark's path"))
            .args(std::env::args().skip(1))
            .env("SCALING_CHILD", index.to_string())
            .env("SCALING_KEEP", &work)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("the measuring process runs");
        assert!(child.status.success(), "measuring {} failed", spec.name);
        let line = String::from_utf8_lossy(&child.stdout);
        let row = row_from_json(line.lines().last().expect("one result line"));
        let ratio = |m: &Measure| m.seconds / row.gemm;
        eprintln!(
            "  GEMM {:.3} s; convert {:.2} s ({:.1}×), sim {:.2} s ({:.1}×), generate {}; peak {:.0}/{:.0}/{} MB; \
             tensors {:.1} MB, description {:.1} MB; {}",
            row.gemm,
            row.convert.seconds,
            ratio(&row.convert),
            row.sim.seconds,
            ratio(&row.sim),
            row.generate.map_or("-".into(), |g| format!("{:.2} s ({:.1}×)", g.seconds, ratio(&g))),
            row.convert.peak_bytes as f64 / 1e6,
            row.sim.peak_bytes as f64 / 1e6,
            row.generate.map_or("-".into(), |g| format!("{:.0}", g.peak_bytes as f64 / 1e6)),
            row.tensor_bytes as f64 / 1e6,
            row.file_bytes as f64 / 1e6,
            row.checked
        );
        if kept.is_none() {
            let _ = std::fs::remove_dir_all(work.join(format!("{}_hw", spec.name)));
        }
        rows.push(row);
    }

    println!(
        "\n| network | parameters | samples | GEMM s | convert s (×GEMM) | sim s (×GEMM) | generate s (×GEMM) | \
         peak MB convert/sim/generate | tensors MB | description MB (×tensors) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let cell = |m: &Measure| format!("{:.2} ({:.1}×)", m.seconds, m.seconds / r.gemm);
        println!(
            "| {} | {:.2} M | {} | {:.3} | {} | {} | {} | {:.0} / {:.0} / {} | {:.1} | {:.1} ({:.2}×) |",
            r.name,
            r.params as f64 / 1e6,
            r.samples,
            r.gemm,
            cell(&r.convert),
            cell(&r.sim),
            r.generate.as_ref().map_or("n/a".into(), cell),
            r.convert.peak_bytes as f64 / 1e6,
            r.sim.peak_bytes as f64 / 1e6,
            r.generate.map_or("n/a".into(), |g| format!("{:.0}", g.peak_bytes as f64 / 1e6)),
            r.tensor_bytes as f64 / 1e6,
            r.file_bytes as f64 / 1e6,
            r.file_bytes as f64 / r.tensor_bytes.max(1) as f64
        );
    }
    let fit = |family: &str, work: &dyn Fn(&Row) -> f64, stage: &dyn Fn(&Row) -> Option<f64>| {
        let points: Vec<(f64, f64)> =
            rows.iter().filter(|r| r.name.starts_with(family)).filter_map(|r| stage(r).map(|t| (work(r), t))).collect();
        (points.len() >= 3).then(|| exponent(&points))
    };
    let mut exponents = serde_json::Map::new();
    for (family, work) in [
        ("mlp", &(|r: &Row| (r.params * r.samples) as f64) as &dyn Fn(&Row) -> f64),
        ("cifar_vgg", &|r: &Row| (r.macs * r.samples) as f64),
    ] {
        for (stage, pick) in [
            ("gemm", &(|r: &Row| Some(r.gemm)) as &dyn Fn(&Row) -> Option<f64>),
            ("convert", &|r: &Row| Some(r.convert.seconds)),
            ("sim", &|r: &Row| Some(r.sim.seconds)),
            ("generate", &|r: &Row| r.generate.map(|g| g.seconds)),
        ] {
            if let Some(e) = fit(family, work, pick) {
                println!("growth exponent, {family} {stage}: {e:.2}");
                exponents.insert(format!("{family}_{stage}"), json!(e));
            }
        }
    }
    let table: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "network": r.name, "parameters": r.params, "macs": r.macs, "samples": r.samples,
                "gemm_s": r.gemm, "convert_s": r.convert.seconds, "sim_s": r.sim.seconds,
                "generate_s": r.generate.map(|g| g.seconds),
                "convert_peak_bytes": r.convert.peak_bytes, "sim_peak_bytes": r.sim.peak_bytes,
                "generate_peak_bytes": r.generate.map(|g| g.peak_bytes),
                "tensor_bytes": r.tensor_bytes, "description_bytes": r.file_bytes, "checked": r.checked,
            })
        })
        .collect();
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/scaling.json");
    let _ =
        std::fs::write(&out, serde_json::to_string_pretty(&json!({"rows": table, "exponents": exponents})).unwrap());
    println!("written {}", out.display());
}
