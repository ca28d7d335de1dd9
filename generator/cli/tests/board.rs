//! The board on the desk, without a board: `ttfs board-sim` serves the
//! Verilated board wrapper on a pseudo-terminal and `ttfs run` talks to it
//! through the binary (every digits test image at 1 Mbaud, 20 MNIST images
//! on the UP5K through the flash model at 115,200 baud: 0 mismatches);
//! serial peers that stay silent, answer garbage, drop bytes or run
//! another design, played by a thread on a real pseudo-terminal, end in
//! errors that name the port, the sample and the bytes seen; and `ttfs
//! prog` with no board attached fails with iceprog's own command and output.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use ttfs_tools::Tool;
use ttfs_tools::testing::{require, skip};

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel).display().to_string()
}

fn ttfs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ttfs")).args(args).output().expect("ttfs runs")
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Converts a fixture model and generates its design into `dir/hw`.
fn design(dir: &Path, model: &str, calib: &str, generate: &[&str]) -> PathBuf {
    let net = dir.join("net.json");
    let out = ttfs(&["convert", &fixture(model), "--calib", &fixture(calib), "-o", net.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let hw = dir.join("hw");
    let mut args = vec!["generate", net.to_str().unwrap(), "-o", hw.to_str().unwrap()];
    args.extend(generate);
    let out = ttfs(&args);
    assert!(out.status.success(), "{}", text(&out));
    hw
}

/// `ttfs board-sim DIR --count N --json` and `ttfs run DIR --port PATH`
/// on `count` samples; returns both JSON reports.
fn serve_and_run(hw: &Path, data: &str, labels: &str, count: usize) -> (Value, Value) {
    let count_text = count.to_string();
    let run =
        ["run", hw.to_str().unwrap(), "--data", &fixture(data), "--labels", &fixture(labels), "--count", &count_text];
    serve_and_call(hw, count, &run)
}

/// `ttfs board-sim DIR --count N --json` and the command `run` with
/// `--port PATH --json`; returns both JSON reports.
fn serve_and_call(hw: &Path, count: usize, run: &[&str]) -> (Value, Value) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_ttfs"))
        .args(["board-sim", hw.to_str().unwrap(), "--count", &count.to_string(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ttfs board-sim starts");
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let port = match lines.next() {
        Some(Ok(line)) => line,
        _ => {
            let mut err = String::new();
            sim.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("board-sim printed no path: {err}");
        }
    };
    assert!(port.starts_with("/dev/pts/"), "{port}");
    let mut args = run.to_vec();
    args.extend(["--port", &port, "--json"]);
    let out = ttfs(&args);
    let run_text = text(&out);
    if !out.status.success() {
        let _ = sim.kill();
        panic!("ttfs {} failed: {run_text}", run[0]);
    }
    let summary = lines.next().expect("board-sim prints its summary").unwrap();
    assert!(sim.wait().unwrap().success());
    (serde_json::from_slice(&out.stdout).unwrap(), serde_json::from_str(&summary).unwrap())
}

/// The design's worst-case latency at its generated PLL clock, seconds.
fn worst_latency_seconds(hw: &Path) -> f64 {
    let m: Value = serde_json::from_str(&std::fs::read_to_string(hw.join("manifest.json")).unwrap()).unwrap();
    m["cycle_model"]["latency_worst_case"].as_f64().unwrap() / (m["board"]["pll_mhz"].as_f64().unwrap() * 1e6)
}

fn tools() -> bool {
    require(Tool::Verilator).is_some() && require(Tool::Cxx).is_some()
}

/// Every digits test image through the simulated HX8K breakout at 1 Mbaud:
/// the replies equal the integer reference, the accuracy is the
/// reference's, and the simulated rate is what the wire allows.
#[test]
fn board_sim_answers_every_digit_like_the_reference() {
    if !tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hw = design(
        tmp.path(),
        "digits_mlp.onnx",
        "digits/train_images.csv.gz",
        &["--target", "ice40-hx8k", "--baud", "1000000"],
    );
    let started = Instant::now();
    let (run, sim) = serve_and_run(&hw, "digits/test_images.csv.gz", "digits/test_labels.csv.gz", 450);
    eprintln!("digits: {run}\n{sim}\n{:.1} s", started.elapsed().as_secs_f64());
    for key in ["samples", "accuracy", "mismatched_outputs", "images_per_second", "latency_ms_mean"] {
        assert!(run.get(key).is_some(), "no {key} in {run}");
    }
    assert_eq!(run["samples"], 450);
    assert_eq!(run["mismatched_outputs"], 0, "{run}");
    assert_eq!(run["accuracy"], run["accuracy_reference"]);
    assert!((run["accuracy"].as_f64().unwrap() - 0.9733).abs() < 1e-4, "{run}");
    assert_eq!(run["simulated"], true);
    assert_eq!(run["baud"], 1_000_000);
    assert_eq!(sim["replies"], 450);
    assert_eq!(sim["frame_errors"], 0);
    assert_eq!(sim["fault"], false);
    // 65 bytes out, 32 back, 10 bits each at 1 Mbaud: 970 µs on the wire;
    // the accelerator's latency (at most its worst case at 48 MHz) comes on top.
    let wire = 970e-6;
    let worst = worst_latency_seconds(&hw);
    let rate = sim["simulated_images_per_second"].as_f64().unwrap();
    assert!(rate < 1.0 / wire && rate > 1.0 / (wire + worst + 40e-6), "{rate} images/s simulated");
}

/// A file classifier's record design on the simulated iCEBreaker: `ttfs
/// files run` frames 12 deb-files test records (missing values left out),
/// the records wrapper's framer and on-chip encoder take them, and every
/// reply equals the model's integer network; `ttfs run`, which sends
/// pixel frames, refuses the design and names `ttfs files run`.
#[test]
fn board_sim_answers_file_records_like_the_model() {
    if !tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../files/data/deb_files.csv.gz");
    let data = data.to_str().unwrap();
    let model = tmp.path().join("model.json");
    let model = model.to_str().unwrap();
    let out = ttfs(&[
        "files",
        "train",
        "--data",
        data,
        "--label",
        "label",
        "--exclude",
        "package,version,section,priority,mtime",
        "--neurons-per-key",
        "4",
        "--ticks",
        "8",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "-o",
        model,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let hw = tmp.path().join("hw");
    let out = ttfs(&["files", "generate", model, "-o", hw.to_str().unwrap(), "--lanes-per-layer", "1,1"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ttfs(&["run", hw.to_str().unwrap(), "--port", "/dev/null", "--data", data]);
    assert!(!out.status.success() && text(&out).contains("ttfs files run"), "{}", text(&out));

    let run = ["files", "run", model, hw.to_str().unwrap(), "--data", data, "--test-fraction", "0.25", "--count", "12"];
    let (run, sim) = serve_and_call(&hw, 12, &run);
    eprintln!("records: {run}\n{sim}");
    assert_eq!(run["samples"], 12);
    assert_eq!(run["unit"], "record");
    assert_eq!(run["mismatched_outputs"], 0, "{run}");
    assert_eq!(run["accuracy"], run["accuracy_reference"]);
    assert_eq!(sim["replies"], 12);
    assert_eq!((&sim["frame_errors"], &sim["fault"]), (&Value::from(0), &Value::from(false)), "{sim}");
}

/// 20 MNIST images through the simulated iCEBreaker at 115,200 baud: the
/// SPRAM weights come from the flash model at power-up, the replies equal
/// the reference.
#[test]
fn board_sim_loads_spram_weights_from_flash_and_answers_mnist() {
    if !tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hw = design(tmp.path(), "mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", &["--target", "ice40-up5k"]);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(hw.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["board"]["flash_offset"], 0x10_0000, "an SPRAM design");
    assert_eq!(manifest["board"]["baud"], 115_200);
    let (run, sim) = serve_and_run(&hw, "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", 20);
    eprintln!("mnist: {run}\n{sim}");
    assert_eq!(run["samples"], 20);
    assert_eq!(run["mismatched_outputs"], 0, "{run}");
    assert_eq!(run["accuracy"], run["accuracy_reference"]);
    // The weight load (100,352 bytes over SPI at half the clock) comes first.
    assert!(sim["power_up_cycles"].as_u64().unwrap() > 100_352 * 16, "{sim}");
    // 785 + 32 bytes of 10 bits at 208 cycles per bit and 24 MHz (115,385
    // baud): 70.8 ms on the wire, then the accelerator's latency.
    let wire = 8170.0 * 208.0 / 24e6;
    let worst = worst_latency_seconds(&hw);
    let rate = sim["simulated_images_per_second"].as_f64().unwrap();
    assert!(rate < 1.0 / wire && rate > 1.0 / (wire + worst + 1e-3), "{rate} images/s simulated");
}

/// A fake board on a real pseudo-terminal: answers each 65-byte frame with
/// what `reply(k)` says for the k-th frame, until the test ends.
fn fake_board(reply: impl Fn(usize) -> Vec<u8> + Send + 'static) -> (String, std::thread::JoinHandle<()>) {
    let (mut master, slave) = serialport::TTYPort::pair().expect("a pseudo-terminal");
    let port = serialport::SerialPort::name(&slave).unwrap();
    let handle = std::thread::spawn(move || {
        let _slave = slave; // kept open while the peer runs
        let _ = serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(100));
        let (mut frame, mut k, mut quiet) = (Vec::new(), 0, Instant::now());
        let mut buffer = [0u8; 256];
        while quiet.elapsed() < Duration::from_secs(1) {
            if let Ok(n) = master.read(&mut buffer) {
                quiet = Instant::now();
                frame.extend_from_slice(&buffer[..n]);
                while frame.len() >= 65 {
                    frame.drain(..65);
                    let _ = master.write_all(&reply(k));
                    k += 1;
                }
            }
        }
    });
    (port, handle)
}

/// The digits design's reply (0x5A, class, 10 logits of 3 bytes) with
/// `logits` logits instead.
fn reply_with(logits: usize) -> Vec<u8> {
    let mut r = vec![0x5A, 1];
    r.extend(std::iter::repeat_n(0u8, 3 * logits));
    r
}

#[test]
fn bad_serial_peers_end_in_errors_naming_port_sample_and_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let hw = design(tmp.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", &["--target", "ice40-hx8k"]);
    let run = |port: &str| {
        ttfs_board::run::run(&ttfs_board::run::Args {
            dir: hw.clone(),
            port: port.to_string(),
            data: fixture("digits/test_images.csv.gz").into(),
            labels: None,
            count: Some(5),
            timeout: Some(0.5),
        })
        .map(|r| r.mismatched_outputs)
        .map_err(|e| format!("{e:#}"))
    };
    // Silent.
    let (port, peer) = fake_board(|_| Vec::new());
    let e = run(&port).unwrap_err();
    assert!(e.contains(&port) && e.contains("sample 0") && e.contains("bytes seen: none"), "{e}");
    peer.join().unwrap();
    // Garbage: the right length, the wrong header.
    let (port, peer) = fake_board(|_| vec![0x11; 32]);
    let e = run(&port).unwrap_err();
    assert!(e.contains(&port) && e.contains("sample 0") && e.contains("garbage") && e.contains("11 11 11"), "{e}");
    peer.join().unwrap();
    // Bytes dropped: the second reply is short, by a different amount each time.
    let (port, peer) = fake_board(|k| if k == 0 { reply_with(10) } else { reply_with(10)[..20 + k].to_vec() });
    let e = run(&port).unwrap_err();
    assert!(e.contains(&port) && e.contains("sample 1") && e.contains("21 of 32 bytes") && e.contains("5A 01"), "{e}");
    assert!(!e.contains("different design"), "{e}");
    peer.join().unwrap();
    // Another design, more logits: named from the first reply.
    let (port, peer) = fake_board(|_| reply_with(11));
    let e = run(&port).unwrap_err();
    assert!(e.contains(&port) && e.contains("different design: its reply has 11 logits"), "{e}");
    peer.join().unwrap();
    // Another design, fewer logits: two short replies of one length.
    let (port, peer) = fake_board(|_| reply_with(9));
    let e = run(&port).unwrap_err();
    assert!(e.contains("different design: its reply has 9 logits") && e.contains("where this design has 10"), "{e}");
    peer.join().unwrap();
    // Wrong answers are counted, not errors: a fixed reply of the right shape.
    let (port, peer) = fake_board(|_| reply_with(10));
    assert!(run(&port).unwrap() > 0);
    peer.join().unwrap();
}

/// With no board attached, `ttfs prog` fails with iceprog's own command
/// and output. (The image is a stand-in that starts like a bitstream: with
/// no board, iceprog stops before writing anything; a test machine with a
/// board attached skips this.)
#[test]
fn prog_without_a_board_fails_with_the_programmer_s_command_and_output() {
    let Some(iceprog) = require(Tool::Iceprog) else { return };
    if Command::new(&iceprog).arg("-t").output().is_ok_and(|o| o.status.success()) {
        skip("an iCE40 board is attached (iceprog -t found it): this test needs none");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hw = design(tmp.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", &["--target", "ice40-hx8k"]);
    // Before `ttfs synth`, there is nothing to program, and prog says so.
    let out = ttfs(&["prog", hw.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("ttfs synth"), "{}", text(&out));
    std::fs::create_dir_all(hw.join("build")).unwrap();
    let image = hw.join("build/ttfs_digits_mlp_hx8k_breakout.bin");
    std::fs::write(&image, [0xFF, 0x00, 0x00, 0xFF, 0x7E, 0xAA, 0x99, 0x7E]).unwrap();
    let out = ttfs(&["prog", hw.to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains(&format!("{} {}", iceprog.display(), image.display())), "the command line: {t}");
    assert!(t.contains("Can't find iCE FTDI USB device"), "iceprog's own output: {t}");
}

/// A hand-edited wrapper that runs a command is refused before anything is
/// compiled, as `ttfs cosim` refuses it.
#[test]
fn board_sim_refuses_verilog_that_runs_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let hw = design(tmp.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", &["--target", "ice40-hx8k"]);
    let wrapper = hw.join("rtl/ttfs_digits_mlp_hx8k_breakout.v");
    let marker = tmp.path().join("ran");
    let edited = std::fs::read_to_string(&wrapper)
        .unwrap()
        .replace("endmodule", &format!("    initial $system(\"touch {}\");\nendmodule", marker.display()));
    std::fs::write(&wrapper, edited).unwrap();
    let out = ttfs(&["board-sim", hw.to_str().unwrap(), "--count", "1"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("$system") && t.contains("--trust-design to simulate the board"), "{t}");
    assert!(!marker.exists());
}
