//! The generated design: the files of DIR as a pure function of the network,
//! its plan and the cycle statistics. Templates (askama, in
//! `rtl-templates/top`) only wire the hand-written blocks of
//! `rtl-templates/lib`, which are embedded in the binary and copied as they are.

use crate::cycles::{CycleModel, CycleStats};
use crate::deref_to_view;
use crate::plan::{LayerPlan, Plan, WeightStore};
use crate::rom;
use crate::view::{TopView, file_text, view};
use crate::{stimulus, testbench};
use askama::Template;
use std::collections::BTreeMap;
use ttfs_ir::Network;

/// The hand-written blocks, copied into `rtl/` of every design.
const BLOCKS: &[(&str, &str)] = &[
    ("ttfs_block_serializer.v", include_str!("../../../rtl-templates/lib/ttfs_block_serializer.v")),
    ("ttfs_conv_layer.v", include_str!("../../../rtl-templates/lib/ttfs_conv_layer.v")),
    ("ttfs_dense_layer.v", include_str!("../../../rtl-templates/lib/ttfs_dense_layer.v")),
    ("ttfs_event_fifo.v", include_str!("../../../rtl-templates/lib/ttfs_event_fifo.v")),
    ("ttfs_fire.v", include_str!("../../../rtl-templates/lib/ttfs_fire.v")),
    ("ttfs_input_encoder.v", include_str!("../../../rtl-templates/lib/ttfs_input_encoder.v")),
    ("ttfs_mac_lanes.v", include_str!("../../../rtl-templates/lib/ttfs_mac_lanes.v")),
    ("ttfs_potential_ram.v", include_str!("../../../rtl-templates/lib/ttfs_potential_ram.v")),
    ("ttfs_readout.v", include_str!("../../../rtl-templates/lib/ttfs_readout.v")),
    ("ttfs_shift_add_mul.v", include_str!("../../../rtl-templates/lib/ttfs_shift_add_mul.v")),
    ("ttfs_spike_queue.v", include_str!("../../../rtl-templates/lib/ttfs_spike_queue.v")),
    ("ttfs_spi_flash_reader.v", include_str!("../../../rtl-templates/lib/ttfs_spi_flash_reader.v")),
    ("ttfs_weight_loader.v", include_str!("../../../rtl-templates/lib/ttfs_weight_loader.v")),
    ("ttfs_weight_rom.v", include_str!("../../../rtl-templates/lib/ttfs_weight_rom.v")),
    ("ttfs_weight_spram.v", include_str!("../../../rtl-templates/lib/ttfs_weight_spram.v")),
];

/// The board wrappers' blocks (designs for a board only).
const BOARD_BLOCKS: &[(&str, &str)] = &[
    ("ttfs_power_on_reset.v", include_str!("../../../rtl-templates/lib/ttfs_power_on_reset.v")),
    ("ttfs_result_sender.v", include_str!("../../../rtl-templates/lib/ttfs_result_sender.v")),
    ("ttfs_uart_framer.v", include_str!("../../../rtl-templates/lib/ttfs_uart_framer.v")),
    ("ttfs_uart_rx.v", include_str!("../../../rtl-templates/lib/ttfs_uart_rx.v")),
    ("ttfs_uart_tx.v", include_str!("../../../rtl-templates/lib/ttfs_uart_tx.v")),
];

/// Simulation models the iCE40 board benches use.
const BOARD_MODELS: &[(&str, &str)] = &[
    ("SB_PLL40_CORE.v", include_str!("../../../rtl-templates/sim/SB_PLL40_CORE.v")),
    ("SB_PLL40_PAD.v", include_str!("../../../rtl-templates/sim/SB_PLL40_PAD.v")),
    ("ttfs_spi_flash_model.v", include_str!("../../../rtl-templates/sim/ttfs_spi_flash_model.v")),
];

/// Blocks only designs with convolutions get.
const CONV_BLOCKS: &[&str] = &["ttfs_conv_layer.v"];

/// Simulation models the ECP5 board benches use (no SPRAM, no flash load).
const ECP5_BOARD_MODELS: &[(&str, &str)] = &[("EHXPLLL.v", include_str!("../../../rtl-templates/sim/EHXPLLL.v"))];

/// Blocks only designs with SPRAM weights get (the flash reader is for the
/// board wrapper that feeds the loaders).
const SPRAM_BLOCKS: &[&str] = &["ttfs_spi_flash_reader.v", "ttfs_weight_loader.v", "ttfs_weight_spram.v"];

/// Behavioural models of the iCE40 primitives, for Verilator and Icarus.
const SPRAM_MODEL: (&str, &str) = ("SB_SPRAM256KA.v", include_str!("../../../rtl-templates/sim/SB_SPRAM256KA.v"));
/// The behavioural model of the ASIC ROM macro placeholder.
pub const ROM_MACRO_MODEL: (&str, &str) =
    ("ttfs_rom_macro.v", include_str!("../../../rtl-templates/sim/ttfs_rom_macro.v"));

/// The network description in DIR.
pub const NET_JSON: &str = "net.json";
/// Its tensor sidecar, named by it ([`ttfs_ir::sidecar_path`] of [`NET_JSON`]).
pub const NET_SIDECAR: &str = "net.safetensors";

/// A generated design: relative path → contents.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// Top module name.
    pub top: String,
    /// Files of DIR, by relative path (`/`-separated).
    pub files: BTreeMap<String, Vec<u8>>,
}

/// The top module (`rtl-templates/top/top.v`); fields are the view's, and
/// the layers come rendered, each by its kind's template ([`crate::emit`]).
#[derive(Template)]
#[template(path = "top.v")]
struct TopTemplate<'a> {
    v: &'a TopView,
    layer_fragments: Vec<String>,
    /// The key-value record front end instead of the pixel stream.
    records: Option<&'a RecordsFront>,
}

pub use crate::view::RecordsFront;

/// The block of the record front end.
pub const RECORDS_ENCODER: (&str, &str) =
    ("ttfs_files_encoder.v", include_str!("../../../rtl-templates/lib/ttfs_files_encoder.v"));

pub use crate::board::{RECORD_FRAME_HEADER, RECORD_PAIR_BYTES, RECORDS_FRONT_LOGIC_CELLS};
pub use crate::stimulus::{RECORDS_EXPECTED_FILE, RECORDS_FILE};

/// A record's beats as the record bench reads them: `{last, key, code}`
/// with the key in `key_bits` bits, as hex lines.
pub fn record_beats_hex(records: &[Vec<(u32, u32)>], key_bits: u32) -> String {
    let mut text = String::new();
    for pairs in records {
        for (i, &(key, code)) in pairs.iter().enumerate() {
            let last = u128::from(i + 1 == pairs.len());
            let beat = (last << (key_bits + 32)) | (u128::from(key) << 32) | u128::from(code);
            text.push_str(&format!("{beat:X}\n"));
        }
    }
    text
}

/// Reads [`record_beats_hex`]'s text back into records (a record ends at a
/// beat with `last` set; a trailing record without one is kept). Lines
/// that are not hex numbers are skipped: the bench would refuse them.
pub fn read_record_beats(text: &str, key_bits: u32) -> Vec<Vec<(u32, u32)>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    for line in text.lines() {
        let Ok(beat) = u128::from_str_radix(line.trim(), 16) else { continue };
        let key = ((beat >> 32) & ((1u128 << key_bits) - 1)) as u32;
        record.push((key, beat as u32));
        if (beat >> (key_bits + 32)) & 1 == 1 {
            records.push(std::mem::take(&mut record));
        }
    }
    if !record.is_empty() {
        records.push(record);
    }
    records
}

/// The files of the record front end, to add to a design of `net`: the
/// top module `<top>_records` (the design's pipeline behind
/// `ttfs_files_encoder`), the encoder block, and the bench
/// `sim/<top>_records_tb.v` with its default stimulus: `records` (each a
/// record's (key, code) pairs in the order sent, at least one pair) whose
/// reference input codes are `codes` (`plan.inputs` per record; the bench
/// checks every result against the integer network on them). The network's
/// input must be the front end's K·M·T channels.
pub fn render_records(
    net: &Network,
    plan: &Plan,
    front: &RecordsFront,
    records: &[Vec<(u32, u32)>],
    codes: &[i64],
) -> BTreeMap<String, Vec<u8>> {
    let mut v = view(net, plan);
    // The encoder's pipeline and its K·M events come before the layers'
    // cycles (about 16 cycles per key, see ttfs_files_encoder.v).
    v.timeout_per_image += 32 * front.keys as u64 + 200;
    let mut files = BTreeMap::new();
    let top = TopTemplate { v: &v, layer_fragments: crate::emit::layer_fragments(&v), records: Some(front) }
        .render()
        .expect("the top template renders");
    files.insert(format!("rtl/{}_records.v", v.top), file_text(top));
    files.insert(format!("rtl/{}", RECORDS_ENCODER.0), RECORDS_ENCODER.1.as_bytes().to_vec());
    let tb = TbTemplate {
        v: &v,
        records: Some(front),
        suffix: "_records",
        tb_images: records.len(),
        tb_images_file: RECORDS_FILE,
        tb_expected_file: RECORDS_EXPECTED_FILE,
    }
    .render()
    .expect("the test bench template renders");
    files.insert(format!("sim/{}_records_tb.v", v.top), file_text(tb));
    files.insert(RECORDS_FILE.into(), record_beats_hex(records, front.key_bits).into_bytes());
    files.insert(
        RECORDS_EXPECTED_FILE.into(),
        stimulus::expected_hex(net, codes, v.cls_bits, v.logit_bits).into_bytes(),
    );
    files
}

/// The test bench (`rtl-templates/top/tb.v`).
#[derive(Template)]
#[template(path = "tb.v")]
struct TbTemplate<'a> {
    v: &'a TopView,
    /// The record front end (the bench of `<top>_records`), or `None`.
    records: Option<&'a RecordsFront>,
    /// `_records` or empty: the module under test is `<top><suffix>`.
    suffix: &'static str,
    /// Images of the default stimulus ([`crate::stimulus`]).
    tb_images: usize,
    tb_images_file: &'static str,
    tb_expected_file: &'static str,
}

deref_to_view!(TopTemplate, TbTemplate);

/// The weight bytes of the SPRAM layers, in the loaders' order: each word
/// least significant byte first (`ttfs_weight_loader`'s stream format).
pub fn load_stream(net: &Network, plan: &Plan) -> Vec<u8> {
    let mut bytes = Vec::new();
    for lp in &plan.layers {
        if lp.weight_store != WeightStore::Spram {
            continue;
        }
        for word in weight_words(net, lp) {
            bytes.extend(rom::pack_bytes(&word, lp.lanes, lp.weight_bits));
        }
    }
    bytes
}

fn quant_of<'a>(net: &'a Network, lp: &LayerPlan) -> &'a ttfs_ir::Quant {
    net.layers[lp.layer].params().and_then(|p| p.quant.as_ref()).expect("b1 layers are quantized")
}

/// A layer's weight memory, word by word in address order.
fn weight_words(net: &Network, lp: &LayerPlan) -> Vec<Vec<i64>> {
    let quant = quant_of(net, lp);
    match lp.conv() {
        Some(c) => rom::conv_weight_words(&quant.weights, c, lp.lanes),
        None => rom::weight_words(&quant.weights, lp.inputs, lp.outputs, lp.lanes),
    }
}

/// A layer's bias memory image.
fn bias_image(net: &Network, lp: &LayerPlan) -> String {
    let quant = quant_of(net, lp);
    match (lp.conv(), &quant.bias_map) {
        (Some(c), Some(map)) => rom::words_image(&rom::conv_bias_map_words(map, c, lp.lanes), lp.lanes, lp.bias_bits),
        _ => rom::bias_image(&quant.bias, lp.lanes, lp.bias_bits),
    }
}

/// Renders every file of the design. Deterministic: the same inputs give
/// byte-identical files (no dates, no absolute paths, sorted maps).
pub fn render(net: &Network, plan: &Plan, model: &CycleModel, stats: Option<&CycleStats>) -> Design {
    let v = view(net, plan);
    let mut files = render_pixel_files(net, plan, &v);
    crate::collateral::add(&mut files, net, plan, &v, (model, stats), None);
    Design { top: v.top, files }
}

/// A file classifier's record design: the pixel design's files
/// ([`render`]), the record files ([`render_records`]: the top
/// `<top>_records`, the encoder, the bench and its stimulus `records`
/// whose input codes are `codes`), the records board wrapper in the pixel
/// wrapper's place ([`crate::board::render_records_board`]; no wrapper when
/// the keys do not fit its framing), and collateral (manifest, README,
/// FuseSoC core) that describes both tops. `cycles`: cycles per record, when
/// measured. Deterministic, like [`render`].
#[allow(clippy::too_many_arguments)]
pub fn render_records_design(
    net: &Network,
    plan: &Plan,
    model: &CycleModel,
    front: &RecordsFront,
    records: &[Vec<(u32, u32)>],
    codes: &[i64],
    cycles: Option<crate::manifest::RecordCycles>,
) -> Design {
    let v = view(net, plan);
    let mut files = render_pixel_files(net, plan, &v);
    files.extend(render_records(net, plan, front, records, codes));
    let board = crate::board::render_records_board(net, plan, front);
    // The pixel wrapper and its bench send pixel frames: they go, replaced
    // by the records wrapper when there is one.
    if let Some(b) = crate::board::board(plan.target, &v) {
        let module = crate::board::module_name(&v, &b);
        files.remove(&format!("rtl/{module}.v"));
        files.remove(&format!("sim/{module}_tb.v"));
    }
    let framed = board.is_some();
    if let Some(board) = board {
        files.extend(board.files);
    }
    let info = crate::manifest::RecordsInfo {
        top: format!("{}_records", v.top),
        ports: crate::collateral::record_ports(&v, front.key_bits),
        front: front.clone(),
        test_bench: format!("sim/{}_records_tb.v", v.top),
        frame_header: framed.then_some(RECORD_FRAME_HEADER),
        pair_bytes: RECORD_PAIR_BYTES,
        cycles,
    };
    crate::collateral::add(&mut files, net, plan, &v, (model, None), Some(&info));
    Design { top: v.top, files }
}

/// The Verilog, memory images and network files of a pixel design, with
/// its board wrapper: everything but the collateral.
fn render_pixel_files(net: &Network, plan: &Plan, v: &TopView) -> BTreeMap<String, Vec<u8>> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let uses_spram = !v.loaders.is_empty();
    let uses_conv = plan.layers.iter().any(|l| l.conv().is_some());
    for (name, text) in BLOCKS {
        if (uses_spram || !SPRAM_BLOCKS.contains(name)) && (uses_conv || !CONV_BLOCKS.contains(name)) {
            files.insert(format!("rtl/{name}"), text.as_bytes().to_vec());
        }
    }
    if uses_spram {
        files.insert(format!("sim/{}", SPRAM_MODEL.0), SPRAM_MODEL.1.as_bytes().to_vec());
    }
    if plan.layers.iter().any(|l| l.weight_store == WeightStore::RomMacro) {
        files.insert(format!("sim/{}", ROM_MACRO_MODEL.0), ROM_MACRO_MODEL.1.as_bytes().to_vec());
    }
    let top = TopTemplate { v, layer_fragments: crate::emit::layer_fragments(v), records: None }
        .render()
        .expect("the top template renders");
    files.insert(format!("rtl/{}.v", v.top), file_text(top));
    let tb = TbTemplate {
        v,
        records: None,
        suffix: "",
        tb_images: stimulus::IMAGES,
        tb_images_file: stimulus::IMAGES_FILE,
        tb_expected_file: stimulus::EXPECTED_FILE,
    }
    .render()
    .expect("the test bench template renders");
    files.insert(format!("sim/{}_tb.v", v.top), file_text(tb));
    // The bench's default stimulus, so that it runs (and checks) with no argument.
    let images = stimulus::images(net);
    files.insert(stimulus::IMAGES_FILE.into(), testbench::stimulus_hex(&images).into_bytes());
    files.insert(
        stimulus::EXPECTED_FILE.into(),
        stimulus::expected_hex(net, &images, v.cls_bits, v.logit_bits).into_bytes(),
    );
    for (layer, lp) in v.layers.iter().zip(&plan.layers) {
        if layer.spram.is_none() {
            let image = match lp.conv() {
                Some(_) => rom::words_image(&weight_words(net, lp), lp.lanes, lp.weight_bits),
                None => rom::weight_image(&quant_of(net, lp).weights, lp.inputs, lp.outputs, lp.lanes, lp.weight_bits),
            };
            files.insert(layer.weight_file.clone(), image.into_bytes());
        }
        files.insert(layer.bias_file.clone(), bias_image(net, lp).into_bytes());
    }
    if uses_spram {
        let stream = load_stream(net, plan);
        let hex: String = stream.iter().map(|b| format!("{b:02X}\n")).collect();
        files.insert("mem/weights_spram.hex".into(), hex.into_bytes());
        files.insert("mem/weights_spram.bin".into(), stream);
    }
    if crate::board::add(&mut files, plan.target, v).is_some() {
        for (name, text) in BOARD_BLOCKS {
            files.insert(format!("rtl/{name}"), text.as_bytes().to_vec());
        }
        let models = match plan.target.family() {
            crate::target::Family::Ecp5 => ECP5_BOARD_MODELS,
            _ => BOARD_MODELS,
        };
        for (name, text) in models {
            files.insert(format!("sim/{name}"), text.as_bytes().to_vec());
        }
        // The flash reader comes with SPRAM designs; a board always needs it then.
    }
    // The network itself, so that DIR alone is enough for `ttfs cosim DIR`:
    // the description and its tensor sidecar, as `ttfs convert` writes them.
    let (json, sidecar) =
        ttfs_ir::sidecar::to_files(net, NET_SIDECAR).expect("a validated network's tensors fit their layers");
    files.insert(NET_JSON.into(), json.into_bytes());
    files.insert(NET_SIDECAR.into(), sidecar);
    files
}
