//! The report of `ttfs flow`: one [`Report`] rendered as GitHub markdown
//! ([`markdown`]) or as one self-contained HTML5 page with inline SVG plots
//! ([`html`]).
//!
//! Rendering is pure and deterministic: no clock, no hash-map order, numbers
//! at fixed precision, so the same report gives the same bytes and a report
//! can be diffed or checked into a repository. The HTML page loads nothing
//! (no script, font, image or link), so it can be mailed or archived as it is.

use askama::Template;
use serde::Serialize;
use std::fmt::Write;

/// Everything one report shows; all text is already formatted for people.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Heading, e.g. "digits_mlp on the ice40-hx8k".
    pub title: String,
    /// The tool that wrote it, e.g. "ttfs-hdl 0.1.0" (no timestamp, so the
    /// output depends on the input only).
    pub generator: String,
    /// Pipeline stages, in order.
    pub stages: Vec<Stage>,
    /// The summary table (key figures).
    pub figures: Vec<Figure>,
    /// Spike counts per layer.
    pub layers: Vec<LayerSpikes>,
    /// The spike raster of one sample.
    pub raster: Option<Raster>,
    /// Device utilisation.
    pub resources: Vec<Resource>,
    /// Each layer in hardware: bits, widths, lanes, cycles, logic.
    pub hardware: Vec<HardwareLayer>,
    /// Label against predicted class on the evaluation data.
    pub confusion: Option<Confusion>,
    /// How to take the design to its board (markdown, from
    /// `ttfs_hw::bringup`), when there is a board design.
    pub bring_up: Option<String>,
    /// Free text lines, e.g. warnings ("timing FAILED at 24 MHz"); those
    /// starting with "Warning:" are shown as warnings.
    pub notes: Vec<String>,
}

/// One dense layer as the hardware builds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HardwareLayer {
    /// Layer name.
    pub name: String,
    /// Inputs.
    pub inputs: usize,
    /// Neurons.
    pub outputs: usize,
    /// Weight bits.
    pub weight_bits: u32,
    /// Output time bits (hidden layers; `None`: the output layer's logits).
    pub time_bits: Option<u32>,
    /// Potential register bits.
    pub potential_bits: u32,
    /// Neurons processed in parallel.
    pub lanes: usize,
    /// Blocks of lanes.
    pub blocks: usize,
    /// Where the weights live ("block RAM", "SPRAM").
    pub weights_in: String,
    /// Busy cycles per sample, mean over the evaluation data.
    pub cycles_mean: Option<f64>,
    /// Busy cycles per sample when every input and neuron spikes.
    pub cycles_worst: u64,
    /// Pre-synthesis estimate of the layer's logic cells.
    pub logic_cells_estimate: u64,
}

/// How often each label was given each class.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Confusion {
    /// Which network's classes ("integer network (the hardware's arithmetic)").
    pub source: String,
    /// `counts[label][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

/// One pipeline stage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stage {
    /// Its name, e.g. "convert".
    pub name: String,
    /// How it ended.
    pub status: StageStatus,
    /// Wall-clock time, seconds.
    pub seconds: f64,
    /// One line on what it did or why it failed.
    pub summary: String,
}

/// How a stage ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageStatus {
    /// It ran and succeeded.
    Ok,
    /// It ran and failed.
    Failed,
    /// It did not run.
    Skipped,
}

impl StageStatus {
    /// Lower-case name, as serialized ("ok", "failed", "skipped").
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Ok => "ok",
            StageStatus::Failed => "failed",
            StageStatus::Skipped => "skipped",
        }
    }
}

/// One row of the summary table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figure {
    /// What it is, e.g. "accuracy (integer SNN)".
    pub name: String,
    /// The value, formatted, e.g. "97.33 %".
    pub value: String,
    /// The same value as numbers, for programs reading `flow.json` (one
    /// per part of "a / b" values; a percentage as a fraction, 0.9733);
    /// empty when not measured.
    pub numbers: Vec<f64>,
    /// The unit of `numbers` ("fraction", "MHz", "µs", "cycles", ...; empty
    /// for counts).
    pub unit: String,
    /// Context, e.g. "450 test digits".
    pub note: String,
}

/// Spike counts of one layer, per sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerSpikes {
    /// Layer name.
    pub name: String,
    /// Neurons in the layer.
    pub neurons: usize,
    /// Mean spikes per sample in the whole layer.
    pub mean_spikes: f64,
    /// Most spikes of the layer in any one sample.
    pub max_spikes: usize,
}

/// The spikes of one sample, layer by layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Raster {
    /// Index of the sample in the data set.
    pub sample: usize,
    /// Its label, if the data set has labels.
    pub label: Option<usize>,
    /// The class the network chose.
    pub predicted: usize,
    /// Panels, in network order.
    pub layers: Vec<RasterLayer>,
}

/// The spikes of one layer for one sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RasterLayer {
    /// Layer name.
    pub name: String,
    /// Neurons in the layer.
    pub neurons: usize,
    /// Length of the layer's time window, ticks.
    pub ticks: u32,
    /// `(neuron, tick)` of every spike, tick in `0..ticks`.
    pub spikes: Vec<(usize, u32)>,
}

/// Use of one kind of device resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Resource {
    /// What, e.g. "logic cells".
    pub name: String,
    /// Used by the placed design.
    pub used: u64,
    /// On the device.
    pub available: u64,
    /// The generator's estimate before synthesis, if it made one.
    pub estimate: Option<u64>,
}

/// The report as GitHub markdown, ending in a newline.
pub fn markdown(r: &Report) -> String {
    let page = MarkdownPage {
        title: md_escape(&r.title),
        generator: md_escape(&r.generator),
        sections: sections(r, md_escape, false),
        notes: notes(r, md_escape),
    };
    let mut text = page.render().expect("rendering into a String cannot fail");
    if let Some(bring_up) = &r.bring_up {
        text = format!(
            "{}

{BRING_UP_INTRO}

{}",
            text.trim_end(),
            demote(bring_up)
        );
    }
    finish(text)
}

/// What the report says before the design's bring-up section.
const BRING_UP_INTRO: &str = "The design directory is `hw/`; run the commands below from there \
     (its README.md holds the same section).";

/// Markdown headings one level down (the report's sections are `##`).
fn demote(markdown: &str) -> String {
    markdown
        .lines()
        .map(|l| if l.starts_with('#') { format!("#{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Markdown as HTML, with any raw HTML in it shown as text (the section is
/// generated, but it quotes names from the model).
fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// The report as one self-contained HTML5 page, ending in a newline.
pub fn html(r: &Report) -> String {
    // Cell text goes through askama's HTML escaper, so it is passed as it is.
    let page = HtmlPage {
        title: &r.title,
        generator: &r.generator,
        sections: sections(r, str::to_string, true),
        notes: notes(r, str::to_string),
        bring_up: r.bring_up.as_ref().map(|b| markdown_to_html(&format!("{BRING_UP_INTRO}\n\n{}", demote(b)))),
    };
    finish(page.render().expect("rendering into a String cannot fail"))
}

#[derive(Template)]
#[template(path = "report.md")]
struct MarkdownPage {
    title: String,
    generator: String,
    sections: Vec<Section>,
    notes: Vec<Note>,
}

/// A note, with the "Warning:" that marks a warning taken off its text.
struct Note {
    text: String,
    warning: bool,
}

fn notes(r: &Report, cell: fn(&str) -> String) -> Vec<Note> {
    r.notes
        .iter()
        .map(|n| match n.strip_prefix("Warning:") {
            Some(rest) => Note { text: cell(rest.trim_start()), warning: true },
            None => Note { text: cell(n), warning: false },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "report.html")]
struct HtmlPage<'a> {
    title: &'a str,
    generator: &'a str,
    sections: Vec<Section>,
    notes: Vec<Note>,
    /// HTML, user text already escaped.
    bring_up: Option<String>,
}

/// A part of the report: a table, a plot (HTML only) or both.
struct Section {
    heading: String,
    /// Nothing to show: the page says "no data" instead.
    empty: bool,
    table: Option<Table>,
    /// SVG markup, user text already escaped.
    plot: Option<String>,
    caption: String,
}

struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
}

struct Column {
    name: String,
    /// HTML class of the header cell.
    class: &'static str,
    /// Markdown alignment rule.
    rule: &'static str,
}

struct Cell {
    text: String,
    /// HTML class: alignment or colour ("num", "ok", "failed", "over", …).
    class: &'static str,
}

fn text(s: String) -> Cell {
    Cell { text: s, class: "" }
}

fn num(s: String) -> Cell {
    Cell { text: s, class: "num" }
}

/// Columns from names; those starting with `>` hold numbers (right-aligned).
fn columns(names: &[&'static str]) -> Vec<Column> {
    let column = |n: &'static str| match n.strip_prefix('>') {
        Some(name) => Column { name: name.to_string(), class: "num", rule: "---:" },
        None => Column { name: n.to_string(), class: "", rule: "---" },
    };
    names.iter().map(|&n| column(n)).collect()
}

/// The report's sections in page order; `cell` escapes user text for the
/// output format, `plots` builds the SVG plots.
fn sections(r: &Report, cell: fn(&str) -> String, plots: bool) -> Vec<Section> {
    let section = |heading: &str, rows: Vec<Vec<Cell>>, names: &[&'static str]| Section {
        heading: heading.to_string(),
        empty: rows.is_empty(),
        table: Some(Table { columns: columns(names), rows }),
        plot: None,
        caption: String::new(),
    };
    let stages = r.stages.iter().map(|s| {
        let status = Cell { text: s.status.as_str().to_string(), class: s.status.as_str() };
        vec![text(cell(&s.name)), status, num(fixed(s.seconds, 1)), text(cell(&s.summary))]
    });
    let figures = r.figures.iter().map(|f| vec![text(cell(&f.name)), num(cell(&f.value)), text(cell(&f.note))]);
    let layers = r.layers.iter().map(|l| {
        let per = if l.neurons == 0 { "–".to_string() } else { fixed(per_neuron(l), 3) };
        vec![
            text(cell(&l.name)),
            num(l.neurons.to_string()),
            num(fixed(l.mean_spikes, 2)),
            num(per),
            num(l.max_spikes.to_string()),
        ]
    });
    let resources = r.resources.iter().map(|res| {
        let pct = percent(res.used, res.available);
        let used = Cell {
            text: pct.map_or("–".to_string(), |p| fixed(p, 1)),
            class: if res.used > res.available { "num over" } else { "num" },
        };
        let deviation = match res.estimate {
            Some(e) if e > 0 => signed((res.used as f64 - e as f64) / e as f64 * 100.0, 1),
            _ => "–".to_string(),
        };
        let estimate = res.estimate.map_or("–".to_string(), |e| e.to_string());
        vec![
            text(cell(&res.name)),
            num(res.used.to_string()),
            num(res.available.to_string()),
            used,
            num(estimate),
            num(deviation),
        ]
    });

    let mut spikes = section(
        "Spikes per layer",
        layers.collect(),
        &["layer", ">neurons", ">mean spikes/sample", ">spikes/neuron", ">max spikes/sample"],
    );
    if plots && !r.layers.is_empty() {
        spikes.plot = Some(spikes_svg(&r.layers));
        spikes.caption =
            "Mean spikes per neuron and sample in each layer; a TTFS neuron fires at most once.".to_string();
    }
    let mut device = section(
        "Device resources",
        resources.collect(),
        &["resource", ">used", ">available", ">% used", ">estimate", ">deviation %"],
    );
    if plots && !r.resources.is_empty() {
        device.plot = Some(resources_svg(&r.resources));
        device.caption =
            "Used share of each resource (red: over 100 %, bar clipped); black mark: pre-synthesis estimate."
                .to_string();
    }
    let hardware = r.hardware.iter().map(|l| {
        vec![
            text(cell(&l.name)),
            num(format!("{} → {}", l.inputs, l.outputs)),
            num(l.weight_bits.to_string()),
            num(l.time_bits.map_or("logits".to_string(), |b| b.to_string())),
            num(l.potential_bits.to_string()),
            num(format!("{} × {}", l.lanes, l.blocks)),
            text(cell(&l.weights_in)),
            num(l.cycles_mean.map_or("–".to_string(), |c| fixed(c, 1))),
            num(l.cycles_worst.to_string()),
            num(l.logic_cells_estimate.to_string()),
        ]
    });
    let mut per_layer = section(
        "Hardware per layer",
        hardware.collect(),
        &[
            "layer",
            ">inputs → neurons",
            ">weight bits",
            ">time bits",
            ">potential bits",
            ">lanes × blocks",
            "weights in",
            ">cycles, mean",
            ">cycles, worst",
            ">logic cells (estimate)",
        ],
    );
    per_layer.caption = "Each layer's busy cycles per sample: blocks × (input spikes + 1) + output spikes + 1; \
         the slowest layer (or the input, one value per cycle) sets the rate of back-to-back samples."
        .to_string();
    vec![
        section("Pipeline", stages.collect(), &["stage", "status", ">seconds", "summary"]),
        section("Key figures", figures.collect(), &["figure", ">value", "note"]),
        glossary(),
        confusion_section(r.confusion.as_ref(), cell, plots),
        spikes,
        raster_section(r.raster.as_ref(), cell, plots),
        per_layer,
        device,
    ]
}

/// What the report's words mean.
fn glossary() -> Section {
    let rows = GLOSSARY.iter().map(|(term, meaning)| vec![text(term.to_string()), text(meaning.to_string())]);
    Section {
        heading: "Glossary".to_string(),
        empty: false,
        table: Some(Table { columns: columns(&["term", "meaning"]), rows: rows.collect() }),
        plot: None,
        caption: String::new(),
    }
}

/// The report's terms, for a reader new to spiking networks or FPGAs.
const GLOSSARY: [(&str, &str); 10] = [
    (
        "ReLU network",
        "the model as trained: floating point, after folding normalisation and batch-norm into the weights",
    ),
    (
        "continuous TTFS",
        "the time-to-first-spike network in continuous time (f64): each value is one spike, earlier for larger values; \
         equal to the ReLU network up to rounding",
    ),
    (
        "discrete TTFS",
        "the same network on integer ticks with integer weights (the time and weight bits of the conversion): \
         exactly what the hardware computes",
    ),
    (
        "hardware",
        "the generated Verilog, simulated by Verilator (co-simulation) and built for the device: every spike and logit \
         is compared with the discrete network",
    ),
    (
        "spike",
        "a neuron's one event per sample: a value q of a layer with T ticks is sent at tick T − q (q = 0 sends none)",
    ),
    (
        "lanes × blocks",
        "neurons computed in parallel, and how many groups of them a layer steps through per input spike",
    ),
    (
        "cycles",
        "clock cycles; latency is from a sample's first input value to its result, streaming is between results",
    ),
    (
        "logic cells",
        "the iCE40's LUT4 + flip-flop cells; block RAM and SPRAM hold weights, potentials and spike queues",
    ),
    ("LUT4s", "the ECP5's look-up tables, two to a slice beside two flip-flops (what its logic is counted in)"),
    ("Fmax", "the fastest clock the placed and routed design meets; the board's PLL runs at or below it"),
];

fn confusion_section(confusion: Option<&Confusion>, cell: fn(&str) -> String, plots: bool) -> Section {
    let heading = "Confusion matrix".to_string();
    let Some(c) = confusion.filter(|c| !c.counts.is_empty()) else {
        let table = Some(Table { columns: columns(&["label"]), rows: Vec::new() });
        return Section { heading, empty: true, table, plot: None, caption: String::new() };
    };
    let classes = c.counts.len();
    let mut cols = columns(&["label \\ predicted"]);
    cols.extend((0..classes).map(|k| Column { name: k.to_string(), class: "num", rule: "---:" }));
    cols.extend(columns(&[">samples", ">recall %"]));
    let rows = c.counts.iter().enumerate().map(|(label, row)| {
        let total: usize = row.iter().sum();
        let mut cells = vec![text(label.to_string())];
        cells.extend(row.iter().enumerate().map(|(k, &n)| Cell {
            text: n.to_string(),
            class: if k == label {
                "num ok"
            } else if n > 0 {
                "num over"
            } else {
                "num"
            },
        }));
        cells.push(num(total.to_string()));
        cells.push(num(if total == 0 {
            "–".to_string()
        } else {
            fixed(100.0 * row[label] as f64 / total as f64, 1)
        }));
        cells
    });
    Section {
        heading,
        empty: false,
        table: Some(Table { columns: cols, rows: rows.collect() }),
        plot: plots.then(|| confusion_svg(c)),
        caption: format!("Rows: the label; columns: the class of the {}.", cell(&c.source)),
    }
}

fn raster_section(raster: Option<&Raster>, cell: fn(&str) -> String, plots: bool) -> Section {
    let columns = || columns(&["layer", ">neurons", ">ticks", ">spikes", ">first spike tick"]);
    let Some(r) = raster.filter(|r| !r.layers.is_empty()) else {
        let table = Some(Table { columns: columns(), rows: Vec::new() });
        return Section { heading: "Spike raster".to_string(), empty: true, table, plot: None, caption: String::new() };
    };
    let label = r.label.map_or("none".to_string(), |l| l.to_string());
    let what = format!("sample {}, label {label}, predicted {}", r.sample, r.predicted);
    let rows = r.layers.iter().map(|l| {
        let first = in_range(l).map(|(_, t)| t).min().map_or("–".to_string(), |t| t.to_string());
        vec![
            text(cell(&l.name)),
            num(l.neurons.to_string()),
            num(l.ticks.to_string()),
            num(in_range(l).count().to_string()),
            num(first),
        ]
    });
    Section {
        heading: format!("Spike raster: {what}"),
        empty: false,
        table: Some(Table { columns: columns(), rows: rows.collect() }),
        plot: plots.then(|| raster_svg(r)),
        caption: format!("Spikes of {what} (x: tick, y: neuron)."),
    }
}

/// Mean spikes per neuron and sample (0 for a layer without neurons).
fn per_neuron(l: &LayerSpikes) -> f64 {
    if l.neurons == 0 { 0.0 } else { l.mean_spikes / l.neurons as f64 }
}

/// `used` in percent of `available`; `None` when nothing is available.
fn percent(used: u64, available: u64) -> Option<f64> {
    (available > 0).then(|| used as f64 / available as f64 * 100.0)
}

/// The spikes of a layer that fall inside its panel; others are dropped
/// rather than drawn outside the plot or counted in the table.
fn in_range(l: &RasterLayer) -> impl Iterator<Item = (usize, u32)> + '_ {
    l.spikes.iter().copied().filter(|&(n, t)| n < l.neurons && t < l.ticks)
}

/// Askama drops the template's final newline; files should end in one.
fn finish(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Markdown inline text: pipes would split table cells and line breaks would
/// end rows or bullets.
fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Text for HTML or SVG markup (text and attribute values), which is
/// inserted into a page unescaped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `x` with `d` decimals, "–" when not finite, and without the minus sign of
/// values that round to zero (so "-0.0" never appears).
fn fixed(x: f64, d: usize) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let s = format!("{x:.d$}");
    if s.bytes().all(|b| matches!(b, b'-' | b'0' | b'.')) { s.trim_start_matches('-').to_string() } else { s }
}

/// [`fixed`] with an explicit sign.
fn signed(x: f64, d: usize) -> String {
    let s = fixed(x, d);
    if s.starts_with('-') || s == "–" { s } else { format!("+{s}") }
}

/// A coordinate for SVG: at most 2 decimals, no trailing zeros.
fn n(x: f64) -> String {
    let s = if x.is_finite() { fixed(x, 2) } else { "0".to_string() };
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A round axis for values in `0..=max`: its end and its tick step (1, 2 or
/// 5 times a power of ten, about four steps).
fn axis(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = mag * [1.0, 2.0, 5.0, 10.0].into_iter().find(|&m| raw <= m * mag * 1.000_001).unwrap_or(10.0);
    (step * (max / step - 1e-9).ceil(), step)
}

const WIDTH: f64 = 880.0;
const BLUE: &str = "#4a7ab5";
const RED: &str = "#c0392b";
const GREY: &str = "#888";

fn svg_open(svg: &mut String, height: f64, label: &str) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}" font-family="sans-serif" font-size="12">"#,
        w = n(WIDTH),
        h = n(height),
        label = xml_escape(label)
    );
    svg.push('\n');
}

/// A text element; `attrs` is markup, `s` is escaped.
fn svg_text(svg: &mut String, x: f64, y: f64, attrs: &str, s: &str) {
    let sep = if attrs.is_empty() { "" } else { " " };
    let _ = writeln!(svg, r#"<text x="{}" y="{}"{sep}{attrs}>{}</text>"#, n(x), n(y), xml_escape(s));
}

fn svg_rect(svg: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str) {
    let _ = writeln!(svg, r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"/>"#, n(x), n(y), n(w), n(h));
}

fn svg_line(svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
    let _ = writeln!(
        svg,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}"/>"#,
        n(x1),
        n(y1),
        n(x2),
        n(y2),
        n(width)
    );
}

/// Vertical grid lines with labels below, at `0, step, …, end` over `x0..x1`.
fn grid(svg: &mut String, (x0, x1): (f64, f64), (y0, y1): (f64, f64), (end, step): (f64, f64), unit: &str) {
    let count = (end / step).round() as usize;
    for k in 0..=count {
        let v = k as f64 * step;
        let x = x0 + v / end * (x1 - x0);
        svg_line(svg, (x, y0), (x, y1), "#ddd", 1.0);
        svg_text(svg, x, y1 + 14.0, r##"text-anchor="middle" fill="#555""##, &format!("{}{unit}", n(v)));
    }
}

/// Horizontal bars of spikes per neuron, one per layer.
fn spikes_svg(layers: &[LayerSpikes]) -> String {
    let (x0, x1, row, top) = (170.0, 800.0, 24.0, 10.0);
    let values: Vec<f64> = layers.iter().map(per_neuron).collect();
    // A TTFS neuron fires at most once, so the axis always reaches 1.
    let (end, step) = axis(values.iter().copied().filter(|v| v.is_finite()).fold(1.0, f64::max));
    let bottom = top + row * layers.len() as f64;
    let mut svg = String::new();
    svg_open(&mut svg, bottom + 40.0, "spikes per neuron and sample, by layer");
    grid(&mut svg, (x0, x1), (top, bottom), (end, step), "");
    for (i, (l, &v)) in layers.iter().zip(&values).enumerate() {
        let y = top + row * i as f64;
        let w = (v.max(0.0) / end * (x1 - x0)).min(x1 - x0);
        svg_text(&mut svg, x0 - 8.0, y + 16.0, r#"text-anchor="end""#, &l.name);
        svg_rect(&mut svg, x0, y + 4.0, w, row - 8.0, BLUE);
        svg_text(&mut svg, x0 + w + 6.0, y + 16.0, "", &fixed(v, 3));
    }
    svg_text(&mut svg, (x0 + x1) / 2.0, bottom + 34.0, r#"text-anchor="middle""#, "spikes per neuron and sample");
    svg.push_str("</svg>");
    svg
}

/// One panel per layer, stacked: a mark per spike at (tick, neuron).
fn raster_svg(r: &Raster) -> String {
    let (x0, x1, gap) = (60.0, 860.0, 44.0);
    // Small layers get a readable band per neuron, large ones stay bounded.
    let heights: Vec<f64> = r.layers.iter().map(|l| (l.neurons as f64 * 2.0).clamp(40.0, 160.0)).collect();
    let total = heights.iter().map(|h| h + gap).sum::<f64>() + 24.0;
    let mut svg = String::new();
    svg_open(&mut svg, total, &format!("spike raster of sample {}", r.sample));
    let mut y = 0.0;
    for (l, &h) in r.layers.iter().zip(&heights) {
        let top = y + 22.0;
        let (ticks, neurons) = (l.ticks.max(1) as f64, l.neurons.max(1) as f64);
        let title = format!("{}: {} neurons, {} ticks, spikes: {}", l.name, l.neurons, l.ticks, in_range(l).count());
        svg_text(&mut svg, x0, y + 16.0, r#"font-weight="bold""#, &title);
        let _ = writeln!(
            svg,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#fafafa" stroke="#bbb"/>"##,
            n(x0),
            n(top),
            n(x1 - x0),
            n(h)
        );
        // Tick labels on round values; a window is a whole number of ticks.
        let (_, step) = axis(ticks);
        let step = step.max(1.0);
        let count = (ticks / step).floor() as usize;
        for k in 0..=count {
            let x = x0 + k as f64 * step / ticks * (x1 - x0);
            svg_line(&mut svg, (x, top + h), (x, top + h + 4.0), "#555", 1.0);
            svg_text(&mut svg, x, top + h + 16.0, r##"text-anchor="middle" fill="#555""##, &n(k as f64 * step));
        }
        svg_text(&mut svg, x0 - 6.0, top + 10.0, r##"text-anchor="end" fill="#555""##, "0");
        svg_text(
            &mut svg,
            x0 - 6.0,
            top + h,
            r##"text-anchor="end" fill="#555""##,
            &l.neurons.saturating_sub(1).to_string(),
        );
        let mw = ((x1 - x0) / ticks).clamp(2.0, 6.0);
        let mh = (h / neurons * 0.8).clamp(2.0, 4.0);
        for (neuron, tick) in in_range(l) {
            let x = x0 + (tick as f64 + 0.5) / ticks * (x1 - x0) - mw / 2.0;
            let my = top + (neuron as f64 + 0.5) / neurons * h - mh / 2.0;
            svg_rect(&mut svg, x, my, mw, mh, "#222");
        }
        y = top + h + gap - 22.0;
    }
    svg_text(&mut svg, (x0 + x1) / 2.0, total - 8.0, r#"text-anchor="middle""#, "tick (y: neuron index)");
    svg.push_str("</svg>");
    svg
}

/// The confusion matrix as a heat map: darker cells hold more samples of
/// their label (each row scaled to its own total).
fn confusion_svg(c: &Confusion) -> String {
    let classes = c.counts.len();
    let cell = (520.0 / classes as f64).clamp(8.0, 48.0);
    let (x0, y0) = (120.0, 40.0);
    let side = cell * classes as f64;
    let mut svg = String::new();
    svg_open(&mut svg, y0 + side + 50.0, "confusion matrix, label against predicted class");
    svg_text(&mut svg, x0 + side / 2.0, 16.0, r#"text-anchor="middle""#, "predicted class");
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">label</text>"#,
        n(x0 - 50.0),
        n(y0 + side / 2.0),
        n(x0 - 50.0),
        n(y0 + side / 2.0)
    );
    let labelled = classes <= 30;
    for (label, row) in c.counts.iter().enumerate() {
        let total = row.iter().sum::<usize>().max(1) as f64;
        let y = y0 + label as f64 * cell;
        if labelled {
            svg_text(
                &mut svg,
                x0 - 6.0,
                y + cell / 2.0 + 4.0,
                r##"text-anchor="end" fill="#555""##,
                &label.to_string(),
            );
        }
        for (k, &count) in row.iter().enumerate() {
            let x = x0 + k as f64 * cell;
            let share = count as f64 / total;
            // Correct classes in blue, confusions in red, darker for more.
            let (r, g, b) = if k == label { (74.0, 122.0, 181.0) } else { (192.0, 57.0, 43.0) };
            let mix = |c: f64| (255.0 - share * (255.0 - c)).round() as u8;
            let fill = format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b));
            let _ = writeln!(
                svg,
                r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="#fff"/>"##,
                n(x),
                n(y),
                n(cell),
                n(cell)
            );
            if labelled && count > 0 && cell >= 20.0 {
                let ink = if share > 0.5 { "#fff" } else { "#222" };
                svg_text(
                    &mut svg,
                    x + cell / 2.0,
                    y + cell / 2.0 + 4.0,
                    &format!(r#"text-anchor="middle" fill="{ink}""#),
                    &count.to_string(),
                );
            }
        }
    }
    if labelled {
        for k in 0..classes {
            let x = x0 + (k as f64 + 0.5) * cell;
            svg_text(&mut svg, x, y0 - 6.0, r##"text-anchor="middle" fill="#555""##, &k.to_string());
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of used / available, 0–100 %, with the estimate marked.
fn resources_svg(resources: &[Resource]) -> String {
    let (x0, x1, row, top) = (170.0, 760.0, 26.0, 10.0);
    let bottom = top + row * resources.len() as f64;
    let mut svg = String::new();
    svg_open(&mut svg, bottom + 44.0, "device resources used, percent of available");
    grid(&mut svg, (x0, x1), (top, bottom), (100.0, 25.0), " %");
    svg_text(&mut svg, (x0 + x1) / 2.0, bottom + 38.0, r#"text-anchor="middle""#, "share of the device used");
    let x = |pct: f64| x0 + pct.clamp(0.0, 100.0) / 100.0 * (x1 - x0);
    for (i, res) in resources.iter().enumerate() {
        let y = top + row * i as f64;
        svg_text(&mut svg, x0 - 8.0, y + 17.0, r#"text-anchor="end""#, &res.name);
        svg_rect(&mut svg, x0, y + 5.0, x1 - x0, row - 10.0, "#eee");
        let Some(pct) = percent(res.used, res.available) else {
            svg_text(&mut svg, x1 + 8.0, y + 17.0, &format!(r#"fill="{GREY}""#), "n/a");
            continue;
        };
        let over = pct > 100.0;
        svg_rect(&mut svg, x0, y + 5.0, x(pct) - x0, row - 10.0, if over { RED } else { BLUE });
        let attrs = if over { format!(r#"fill="{RED}" font-weight="bold""#) } else { String::new() };
        svg_text(&mut svg, x1 + 8.0, y + 17.0, &attrs, &format!("{} %", fixed(pct, 1)));
        if let Some(e) = res.estimate {
            let ex = x(e as f64 / res.available as f64 * 100.0);
            svg_line(&mut svg, (ex, y + 2.0), (ex, y + row - 2.0), "#000", 2.0);
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let stage =
            |name: &str, status, seconds| Stage { name: name.into(), status, seconds, summary: format!("{name} done") };
        let layer = |name: &str, neurons, mean_spikes, max_spikes| LayerSpikes {
            name: name.into(),
            neurons,
            mean_spikes,
            max_spikes,
        };
        let resource =
            |name: &str, used, available, estimate| Resource { name: name.into(), used, available, estimate };
        Report {
            title: "digits_mlp on the ice40-hx8k".into(),
            generator: "ttfs-hdl 0.1.0".into(),
            stages: vec![
                stage("convert", StageStatus::Ok, 0.42),
                stage("synth", StageStatus::Failed, 12.25),
                stage("cosim", StageStatus::Skipped, 0.0),
            ],
            figures: vec![Figure {
                name: "accuracy".into(),
                value: "97.33 %".into(),
                numbers: vec![0.9733],
                unit: "fraction".into(),
                note: "a | b".into(),
            }],
            layers: vec![layer("input", 64, 40.0, 64), layer("hidden", 32, 12.5, 20), layer("output", 10, 1.0, 1)],
            raster: Some(Raster {
                sample: 3,
                label: Some(7),
                predicted: 7,
                layers: vec![
                    RasterLayer {
                        name: "hidden".into(),
                        neurons: 32,
                        ticks: 256,
                        spikes: vec![(0, 5), (31, 255), (7, 100)],
                    },
                    RasterLayer { name: "out<put>".into(), neurons: 10, ticks: 40, spikes: vec![(7, 12), (99, 1)] },
                ],
            }),
            resources: vec![
                resource("logic cells", 3866, 7680, Some(3500)),
                resource("block RAM", 40, 32, Some(30)),
                resource("PLL", 1, 2, None),
                resource("I/O", 3, 0, None),
            ],
            notes: vec![
                "timing FAILED at 24 MHz <script>alert(1)</script> a|b".into(),
                "Warning: the integer network's accuracy is lower".into(),
            ],
            hardware: vec![HardwareLayer {
                name: "hidden".into(),
                inputs: 64,
                outputs: 32,
                weight_bits: 8,
                time_bits: Some(8),
                potential_bits: 20,
                lanes: 11,
                blocks: 3,
                weights_in: "block RAM".into(),
                cycles_mean: Some(120.5),
                cycles_worst: 200,
                logic_cells_estimate: 1234,
            }],
            bring_up: Some(
                "## Bring-up on the board\n\nSend `0xA5` <b>then</b> the codes.\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"
                    .into(),
            ),
            confusion: Some(Confusion {
                source: "integer network".into(),
                counts: vec![vec![5, 1, 0], vec![0, 7, 0], vec![2, 0, 9]],
            }),
        }
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let h = html(&sample());
        assert_eq!(h.matches("<svg").count(), 4);
        // Each plot closes before the next one opens.
        assert!(h.split("<svg").skip(1).all(|rest| rest.matches("</svg>").count() == 1));
        assert!(!h.contains("<script"));
        assert!(h.contains("&lt;script&gt;") || h.contains("&#60;script&#62;"));
        assert!(h.contains("out&lt;put&gt;"), "SVG text is escaped");
        let xmlns = r#"xmlns="http://www.w3.org/2000/svg""#;
        assert_eq!(h.matches("http").count(), h.matches(xmlns).count());
        assert!(h.contains(&format!(r#"fill="{RED}" font-weight="bold">125.0 %</text>"#)), "over 100 % in red");
        assert!(h.contains("sample 3, label 7, predicted 7"));
        assert!(!h.contains("no data"));
        // Warnings stand out; the glossary, the per-layer table and the
        // confusion matrix (a cell per label and class, with recall) are there.
        assert!(h.contains(r#"<li class="failed">Warning: the integer network"#), "{h}");
        assert!(h.contains("<h2>Glossary</h2>") && h.contains("discrete TTFS"));
        assert!(h.contains("<td class=\"num\">11 × 3</td>") && h.contains("<td class=\"num\">1234</td>"));
        assert!(h.contains("<td class=\"num ok\">7</td>") && h.contains("<td class=\"num over\">2</td>"));
        assert!(h.contains(">predicted class</text>") && h.contains(">label</text>"));
        // The bring-up section, as HTML, one level below the report's title,
        // with raw HTML in it shown as text.
        assert!(h.contains("<h3>Bring-up on the board</h3>") && h.contains("<code>0xA5</code>"), "{h}");
        assert!(h.contains("&lt;b&gt;then") && !h.contains("<b>then"), "{h}");
        assert!(h.contains("<table>") && h.contains("<td>2</td>"));
    }

    #[test]
    fn markdown_tables() {
        let m = markdown(&sample());
        assert!(m.contains(r"a \| b"));
        assert!(!m.contains("a | b"));
        assert!(m.contains("| convert | ok | 0.4 | convert done |"));
        assert!(m.contains("| input | 64 | 40.00 | 0.625 | 64 |"));
        assert!(m.contains("| logic cells | 3866 | 7680 | 50.3 | 3500 | +10.5 |"));
        assert!(m.contains("| I/O | 3 | 0 | – | – | – |"));
        assert!(m.contains("- **Warning:** the integer network's accuracy is lower"));
        assert!(m.contains("| hidden | 64 → 32 | 8 | 8 | 20 | 11 × 3 | block RAM | 120.5 | 200 | 1234 |"), "{m}");
        assert!(m.contains("| 2 | 2 | 0 | 9 | 11 | 81.8 |"), "{m}");
        assert!(m.contains("\n### Bring-up on the board\n") && m.contains("The design directory is `hw/`"), "{m}");
        assert!(m.ends_with('\n') && !m.ends_with("\n\n"));
    }

    #[test]
    fn deterministic() {
        let r = sample();
        assert_eq!(html(&r), html(&r.clone()));
        assert_eq!(markdown(&r), markdown(&r.clone()));
    }

    #[test]
    fn empty_report() {
        let r = Report { title: "empty".into(), ..Report::default() };
        let (h, m) = (html(&r), markdown(&r));
        assert!(h.contains("no data") && m.contains("no data"));
        assert_eq!(h.matches("<svg").count(), 0);
        let raster = Report { raster: Some(Raster { sample: 0, label: None, predicted: 0, layers: vec![] }), ..r };
        assert_eq!(html(&raster).matches("<svg").count(), 0);
    }

    #[test]
    fn numbers() {
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(signed(0.0, 1), "+0.0");
        assert_eq!(n(12.5), "12.5");
        assert_eq!(n(-0.001), "0");
        assert_eq!(axis(1.0), (1.0, 0.5));
        assert_eq!(axis(256.0), (300.0, 100.0));
        assert_eq!(xml_escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
