//! Everything in DIR besides the Verilog: `manifest.json`, the FuseSoC core,
//! pin and timing constraints, and the README on building DIR without ttfs.

use crate::cycles::{CycleModel, CycleStats};
use crate::manifest::{BoardInfo, Load, Manifest, Memory, Port, RecordsInfo};
use crate::plan::{Plan, SMALL_ROM_WORDS, WeightStore, bias_words, potential_words, potentials_in_ram};
use crate::target::{clock_mhz, spram_blocks};
use crate::view::{TopView, VERSION, file_text};
use askama::Template;
use std::collections::BTreeMap;
use ttfs_ir::Network;

fn ports(v: &TopView) -> Vec<Port> {
    let port = |name: &str, direction: &str, width: u64, description: &str| Port {
        name: name.into(),
        direction: direction.into(),
        width,
        description: description.into(),
    };
    vec![
        port("clk", "input", 1, "clock; every register is on its rising edge"),
        port("rst", "input", 1, "synchronous reset, active high"),
        port("ld_valid", "input", 1, "weight byte stream (power-up, SPRAM designs)"),
        port("ld_ready", "output", 1, "weight byte stream ready (0 when nothing is loaded)"),
        port("ld_data", "input", 8, "weight byte"),
        port("loaded", "output", 1, "weights loaded; pixels are accepted only after"),
        port("s_valid", "input", 1, "pixel stream valid"),
        port("s_ready", "output", 1, "pixel stream ready"),
        port("s_last", "input", 1, "the image's final pixel"),
        port("s_data", "input", u64::from(v.q0_bits), "pixel code q0 (unsigned)"),
        port("m_valid", "output", 1, "result valid"),
        port("m_ready", "input", 1, "result ready"),
        port("m_class", "output", u64::from(v.cls_bits), "class: first index of the largest logit"),
        port(
            "m_logits",
            "output",
            (v.classes as u64) * u64::from(v.logit_bits),
            "logits, signed, logit i at [i*logit_bits +: logit_bits]",
        ),
        port("error", "output", 1, "sticky: an image with the wrong number of pixels"),
    ]
}

/// The ports of a record design's top `<top>_records`: the pixel top's,
/// with the record stream in place of the pixel stream.
pub fn record_ports(v: &TopView, key_bits: u32) -> Vec<Port> {
    let mut list = Vec::new();
    for p in ports(v) {
        let port = |name: &str, direction: &str, width: u64, description: &str| Port {
            name: name.into(),
            direction: direction.into(),
            width,
            description: description.into(),
        };
        match p.name.as_str() {
            "s_last" => list.push(port("s_last", "input", 1, "the record's final pair")),
            "s_data" => {
                list.push(port("s_key", "input", u64::from(key_bits), "key index of the pair"));
                list.push(port("s_code", "input", 32, "the value's 32-bit token code (0: missing)"));
            }
            "s_valid" => list.push(port("s_valid", "input", 1, "pair stream valid")),
            "s_ready" => list.push(port("s_ready", "output", 1, "pair stream ready")),
            "loaded" => list.push(port("loaded", "output", 1, "weights loaded; pairs are accepted only after")),
            "error" => list.push(port("error", "output", 1, "sticky: a pair whose key is out of range or sent twice")),
            _ => list.push(p),
        }
    }
    list
}

fn memories(v: &TopView, plan: &Plan) -> Vec<Memory> {
    let mut list = Vec::new();
    // On an ASIC every inferred memory is logic: ROMs become gates, RAMs flip-flops.
    let asic = plan.target == crate::target::Target::Asic;
    let block_ram = |instance: String, holds: String, words: u64, width: u64, file: Option<String>| Memory {
        instance,
        holds,
        kind: if asic { "logic" } else { "block_ram" }.into(),
        words,
        width,
        bits: words * width,
        blocks: if asic { 0 } else { plan.target.memory_blocks(words, width) },
        file,
    };
    for (q, k) in v.queues.iter().zip(0..) {
        let words = 1u64 << q.addr_bits;
        let width = u64::from(1 + q.idx_bits + q.q_bits);
        list.push(block_ram(
            format!("u_queue{k}.u_fifo.mem"),
            format!("spike queue {k}: {}", q.role),
            words,
            width,
            None,
        ));
    }
    for (l, lp) in v.layers.iter().zip(&plan.layers) {
        let k = l.index;
        if matches!(lp.weight_store, WeightStore::Spram | WeightStore::RomMacro) {
            let spram = lp.weight_store == WeightStore::Spram;
            list.push(Memory {
                instance: format!("u_weights{k}"),
                holds: format!("weights of layer {k}"),
                kind: if spram { "spram" } else { "rom_macro" }.into(),
                words: lp.weight_words,
                width: lp.weight_word_bits,
                bits: lp.weight_words * lp.weight_word_bits,
                blocks: if spram { spram_blocks(lp.weight_words, lp.weight_word_bits) } else { 1 },
                file: (!spram).then(|| l.weight_file.clone()),
            });
        } else {
            list.push(block_ram(
                format!("u_weights{k}.mem"),
                format!("weights of layer {k}"),
                lp.weight_words,
                lp.weight_word_bits,
                Some(l.weight_file.clone()),
            ));
        }
        // The same word counts as the planner's (a convolution's are per
        // block and position).
        let bias_width = (lp.lanes as u64) * u64::from(lp.bias_bits);
        let bias = block_ram(
            format!("u_layer{k} (biases)"),
            format!("biases of layer {k}"),
            bias_words(lp),
            bias_width,
            Some(l.bias_file.clone()),
        );
        list.push(if bias_words(lp) >= SMALL_ROM_WORDS as u64 {
            bias
        } else {
            Memory { kind: "registers".into(), blocks: 0, ..bias }
        });
        let pot_width = (lp.lanes as u64) * u64::from(lp.potential_bits);
        let pot = block_ram(
            format!("u_layer{k} (potentials)"),
            format!("potentials of layer {k}"),
            potential_words(lp),
            pot_width,
            None,
        );
        list.push(if potentials_in_ram(lp) { pot } else { Memory { kind: "registers".into(), blocks: 0, ..pot } });
    }
    list
}

#[derive(Template)]
#[template(path = "README.md")]
struct ReadmeTemplate<'a> {
    v: &'a TopView,
    m: &'a Manifest,
    nextpnr: Option<(&'static str, &'static str)>,
    rtl: String,
    board: Option<crate::board::BoardView>,
    /// The bring-up section ([`crate::bringup::markdown`]), for a board.
    bring_up: String,
    /// The record front end of a file classifier's design.
    records: Option<&'a RecordsInfo>,
    /// An ECP5 target (YoWASP's tools, not the iCE40 flow).
    ecp5: bool,
    /// An ASIC target (no FPGA flow; OpenLane hand-off).
    asic: bool,
}

/// The FuseSoC core (`rtl-templates/top/design.core`).
#[derive(Template)]
#[template(path = "design.core")]
struct CoreTemplate<'a> {
    v: &'a TopView,
    m: &'a Manifest,
    /// The board whose wrapper gets a bitstream target.
    board: Option<crate::board::BoardView>,
    /// nextpnr-ice40's device flag and package.
    nextpnr: Option<(&'static str, &'static str)>,
    /// Multipliers in DSP blocks (`synth_ice40 -dsp`, the UP5K), as `ttfs synth` does.
    dsp: bool,
    /// An ECP5 target: FuseSoC's icestorm flow does not apply; `ttfs synth`
    /// (or the README's YoWASP commands) builds it.
    ecp5: bool,
    /// An ASIC target: no FPGA flow at all.
    asic: bool,
    /// Whether the design has simulation models (`sim/`, besides its benches).
    models: bool,
    stimulus_images: usize,
    stimulus_file: &'static str,
    expected_file: &'static str,
    /// The record front end of a file classifier's design.
    records: Option<&'a RecordsInfo>,
}

#[derive(Template)]
#[template(path = "timing.sdc")]
struct SdcTemplate<'a> {
    v: &'a TopView,
    period_ns: String,
    /// An ASIC target: input and output delays too, for OpenSTA.
    asic: bool,
    /// The I/O delays: a fifth of the period, ns.
    io_delay_ns: String,
}

/// The OpenLane 2 configuration of an ASIC design (`config.json`): the
/// design, its Verilog, clock and SDC, and one placeholder per ROM macro.
fn openlane_config(top: &str, rtl: &[String], period_ns: f64, macros: &[crate::manifest::MemoryMacro]) -> String {
    let mut config = serde_json::Map::new();
    config.insert("DESIGN_NAME".into(), top.into());
    config.insert("VERILOG_FILES".into(), rtl.iter().map(|f| format!("dir::{f}")).collect::<Vec<_>>().into());
    config.insert("CLOCK_PORT".into(), "clk".into());
    config.insert("CLOCK_PERIOD".into(), serde_json::json!(period_ns));
    let sdc = format!("dir::constraints/{top}.sdc");
    config.insert("PNR_SDC_FILE".into(), sdc.clone().into());
    config.insert("SIGNOFF_SDC_FILE".into(), sdc.into());
    if !macros.is_empty() {
        let instances: serde_json::Map<String, serde_json::Value> = macros
            .iter()
            .map(|m| (m.instance.clone(), serde_json::json!({ "location": null, "orientation": "N" })))
            .collect();
        config.insert(
            "MACROS".into(),
            serde_json::json!({
                "ttfs_rom_macro": {
                    "gds": ["dir::macros/ttfs_rom_macro.gds"],
                    "lef": ["dir::macros/ttfs_rom_macro.lef"],
                    "nl": ["dir::sim/ttfs_rom_macro.v"],
                    "instances": instances
                }
            }),
        );
    }
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(config)).expect("the config serializes");
    text.push('\n');
    text
}

/// Adds the collateral files to `files` (which holds the Verilog and
/// memory images already); `records` for a file classifier's design (its
/// record files are in `files`).
pub fn add(
    files: &mut BTreeMap<String, Vec<u8>>,
    net: &Network,
    plan: &Plan,
    v: &TopView,
    cycles: (&CycleModel, Option<&CycleStats>),
    records: Option<&RecordsInfo>,
) {
    let (model, stats) = cycles;
    let clock = clock_mhz(plan.target);
    let period_ns = format!("{:.3}", 1000.0 / clock);
    let asic = plan.target == crate::target::Target::Asic;
    let io_delay_ns = format!("{:.3}", 200.0 / clock);
    let sdc = SdcTemplate { v, period_ns, asic, io_delay_ns }.render().expect("the SDC template renders");
    files.insert(format!("constraints/{}.sdc", v.top), file_text(sdc.clone()));
    // Vivado reads the same create_clock line.
    files.insert(format!("constraints/{}.xdc", v.top), file_text(sdc));
    // The family's pin files: LPFs for the ECP5, PCFs otherwise.
    let lpf = plan.target.family() == crate::target::Family::Ecp5;
    // An ASIC has no board: no pin files.
    for (name, text) in crate::board::PIN_FILES.iter().filter(|(name, _)| name.ends_with(".lpf") == lpf && !asic) {
        files.insert(format!("constraints/{name}"), text.as_bytes().to_vec());
    }

    let mut by_role: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files.keys() {
        let role = match path.split('/').next() {
            Some("rtl") => "rtl",
            Some("sim") if path.ends_with("_tb.v") => "test_bench",
            Some("sim") => "simulation_models",
            Some("mem")
                if [
                    crate::stimulus::IMAGES_FILE,
                    crate::stimulus::EXPECTED_FILE,
                    crate::stimulus::RECORDS_FILE,
                    crate::stimulus::RECORDS_EXPECTED_FILE,
                ]
                .contains(&path.as_str()) =>
            {
                "test_stimulus"
            }
            Some("mem") => "memory_images",
            Some("constraints") => "constraints",
            _ => continue,
        };
        by_role.entry(role.to_string()).or_default().push(path.clone());
    }
    // The top goes last among the RTL sources (after the blocks it uses).
    let top_file = format!("rtl/{}.v", v.top);
    if let Some(rtl) = by_role.get_mut("rtl") {
        rtl.retain(|p| *p != top_file);
        rtl.push(top_file);
    }
    let memories = memories(v, plan);
    let mut memory_bits: BTreeMap<String, u64> = BTreeMap::new();
    for m in &memories {
        *memory_bits.entry(m.kind.clone()).or_default() += m.bits;
    }
    let load = (!v.loaders.is_empty()).then(|| Load {
        bytes: v.load_bytes,
        file: "mem/weights_spram.bin".into(),
        hex_file: "mem/weights_spram.hex".into(),
        order: v.loaders.iter().map(|k| format!("u_weights{k}")).collect(),
        word_format: "words in address order, each ceil(width/8) bytes, least significant byte first".into(),
    });
    // A record design whose keys do not fit the UART framing has no board.
    let board = crate::board::board(plan.target, v)
        .filter(|_| records.is_none_or(|r| r.front.key_bits <= crate::board::MAX_RECORD_KEY_BITS));
    let memory_macros: Vec<crate::manifest::MemoryMacro> = memories
        .iter()
        .filter(|m| m.kind == "rom_macro")
        .map(|m| crate::manifest::MemoryMacro {
            instance: m.instance.clone(),
            module: "ttfs_rom_macro".into(),
            holds: m.holds.clone(),
            words: m.words,
            width: m.width,
            bits: m.bits,
            ports: "clk; rd_en, rd_addr in; rd_data out, registered: valid one clock edge after rd_en".into(),
            file: m.file.clone().unwrap_or_default(),
        })
        .collect();
    let manifest = Manifest {
        format: crate::manifest::FORMAT.into(),
        version: crate::manifest::VERSION,
        generator: format!("ttfs-hdl {VERSION}"),
        network: net.name.clone(),
        target: plan.target,
        top: v.top.clone(),
        clock_mhz: clock,
        clock: [("clock", "clk"), ("reset", "rst"), ("reset_kind", "synchronous, active high")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ports: ports(v),
        files: by_role,
        layers: plan.layers.clone(),
        queues: v.queues.clone(),
        memories,
        memory_bits,
        load,
        resources_needed: plan.needs,
        resources_available: plan.target.resources(),
        cycle_model: model.clone(),
        cycle_stats: stats.cloned(),
        memory_macros,
        records: records.cloned(),
        board: board.as_ref().map(|b| BoardInfo {
            name: b.name.into(),
            title: b.title.into(),
            module: crate::board::module_name(v, b),
            pcf: b.pcf.into(),
            baud: b.baud,
            clks_per_bit: b.clks_per_bit,
            pll_mhz: b.pll.mhz,
            frame_bytes: records
                .map_or(crate::board::frame_bytes(v), |r| crate::board::record_frame_bytes(r.front.keys)),
            reply_bytes: crate::board::reply_bytes(v),
            logit_bytes: b.logit_bytes,
            flash_offset: (!v.loaders.is_empty()).then_some(b.flash_offset),
        }),
    };
    let rtl = manifest.files.get("rtl").map(|f| f.join(" ")).unwrap_or_default();
    if asic {
        let rtl_files = manifest.files.get("rtl").cloned().unwrap_or_default();
        files.insert(
            "config.json".into(),
            openlane_config(&v.top, &rtl_files, 1000.0 / clock, &manifest.memory_macros).into_bytes(),
        );
    }
    let readme = ReadmeTemplate {
        v,
        m: &manifest,
        nextpnr: plan.target.nextpnr_device(),
        rtl,
        bring_up: board.as_ref().map(|b| crate::bringup::markdown(net, plan, v, b, records)).unwrap_or_default(),
        board,
        records,
        ecp5: plan.target.family() == crate::target::Family::Ecp5,
        asic,
    }
    .render()
    .expect("renders");
    let core = CoreTemplate {
        v,
        m: &manifest,
        board: manifest.board.as_ref().and(crate::board::board(plan.target, v)),
        nextpnr: plan.target.nextpnr_device(),
        dsp: plan.target == crate::target::Target::Ice40Up5k,
        ecp5: plan.target.family() == crate::target::Family::Ecp5,
        asic,
        models: manifest.files.contains_key("simulation_models"),
        stimulus_images: crate::stimulus::IMAGES,
        stimulus_file: crate::stimulus::IMAGES_FILE,
        expected_file: crate::stimulus::EXPECTED_FILE,
        records,
    }
    .render()
    .expect("the core template renders");
    files.insert("README.md".into(), file_text(readme));
    files.insert(format!("{}.core", v.top), file_text(core));
    let mut json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    json.push('\n');
    files.insert("manifest.json".into(), json.into_bytes());
}
