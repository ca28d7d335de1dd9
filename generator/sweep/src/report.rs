//! The sweep's report, `DIR/report.html`: the Pareto fronts of accuracy
//! against logic cells and against µs per inference (inline SVG), and the
//! table of every configuration with the command that rebuilds it.
//!
//! A point's cost is the placed design's figure when synthesis ran (logic
//! cells, µs at the routed clock), else the plan's (the pre-synthesis
//! estimate, the cycle model at the target's clock); the report says which.
//! Rendering is pure: no clock, fixed precision, every string escaped, so
//! the same results give the same bytes and the page loads nothing.

use crate::run::PointResult;
use serde::Serialize;
use std::fmt::Write as _;

/// The report's file in DIR.
pub const REPORT_FILE: &str = "report.html";

/// A cost a front is drawn against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cost {
    /// Logic cells (placed, else estimated).
    LogicCells,
    /// µs per inference (routed clock, else the cycle model at the target's clock).
    Microseconds,
}

impl Cost {
    /// A point's cost as measured: the placed design's, else the plan's.
    pub fn of(self, r: &PointResult) -> Option<f64> {
        self.placed(r).or_else(|| self.planned(r))
    }

    /// The placed design's figure (synthesis ran).
    pub fn placed(self, r: &PointResult) -> Option<f64> {
        let f = &r.figures;
        match self {
            Cost::LogicCells => f.logic_cells.map(|n| n as f64),
            Cost::Microseconds => f.latency_us,
        }
    }

    /// The plan's figure (the estimate, the cycle model at the target's clock).
    pub fn planned(self, r: &PointResult) -> Option<f64> {
        let f = &r.figures;
        match self {
            Cost::LogicCells => f.estimated_logic_cells.map(|n| n as f64),
            Cost::Microseconds => f.model_latency_us,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Cost::LogicCells => "logic cells",
            Cost::Microseconds => "µs per inference",
        }
    }
}

/// A cost of each point of a sweep on one scale for plans and placed
/// designs: a placed design costs its placed figure; a configuration only
/// planned costs its plan's figure times its calibration, the median ratio
/// of placed to planned figure among the placed designs of its device and
/// lanes setting (grid keys `target` and `lanes`), else of its device, else
/// one. The estimate and the target's nominal clock err by device and by
/// lanes (an ECP5's logic at 2 lanes can be twice the estimate, an iCE40
/// closes timing above its nominal clock), and without this a plan would
/// win a front only because its figure is a plan's.
#[derive(Clone, Debug)]
pub struct Costs {
    cost: Cost,
    by_lanes: std::collections::BTreeMap<String, f64>,
    by_target: std::collections::BTreeMap<String, f64>,
}

/// The group of a point's device and lanes setting (`ecp5-25f lanes=2`;
/// the device alone when the grid has no `lanes`).
fn lanes_group(r: &PointResult) -> String {
    match r.config.get("lanes") {
        Some(lanes) => format!("{} lanes={lanes}", target_of(r)).trim_start().to_string(),
        None => target_of(r).to_string(),
    }
}

impl Costs {
    /// The calibrations of `results`' groups for `cost`.
    pub fn new(results: &[PointResult], cost: Cost) -> Costs {
        let median_by = |group: &dyn Fn(&PointResult) -> String| {
            let mut ratios: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
            for r in results.iter().filter(|r| r.status == "ok") {
                if let (Some(placed), Some(planned)) = (cost.placed(r), cost.planned(r))
                    && planned > 0.0
                    && placed.is_finite()
                    && placed > 0.0
                {
                    ratios.entry(group(r)).or_default().push(placed / planned);
                }
            }
            ratios
                .into_iter()
                .map(|(key, mut v)| {
                    v.sort_by(f64::total_cmp);
                    (key, v[v.len() / 2])
                })
                .collect()
        };
        Costs { cost, by_lanes: median_by(&lanes_group), by_target: median_by(&|r| target_of(r).to_string()) }
    }

    /// The calibration of `r`'s plan.
    pub fn ratio_of(&self, r: &PointResult) -> f64 {
        self.by_lanes.get(&lanes_group(r)).or_else(|| self.by_target.get(target_of(r))).copied().unwrap_or(1.0)
    }

    /// The calibration of each device and lanes setting with a placed
    /// design, for the report.
    pub fn ratios(&self) -> &std::collections::BTreeMap<String, f64> {
        &self.by_lanes
    }

    /// A point's cost on the common scale.
    pub fn of(&self, r: &PointResult) -> Option<f64> {
        self.cost.placed(r).or_else(|| Some(self.cost.planned(r)? * self.ratio_of(r)))
    }
}

/// Constraints a point must meet to take part in the fronts (`ttfs sweep
/// --budget PCT --rate N --min-accuracy PCT`). Each is checked against the
/// placed design's figure where synthesis ran, else the plan's; a point
/// without the figure a constraint needs does not meet it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Constraints {
    /// At most this percentage of the device's logic cells.
    pub budget_percent: Option<f64>,
    /// At least this many inferences per second, streaming.
    pub rate: Option<f64>,
    /// At least this accuracy of the integer network, percent.
    pub min_accuracy_percent: Option<f64>,
}

impl Constraints {
    /// Whether any constraint is set.
    pub fn any(&self) -> bool {
        self.budget_percent.is_some() || self.rate.is_some() || self.min_accuracy_percent.is_some()
    }

    /// Whether `r` finished and meets every constraint.
    pub fn met_by(&self, r: &PointResult) -> bool {
        let f = &r.figures;
        let utilisation = || {
            let used = f.logic_cells.or(f.estimated_logic_cells)? as f64;
            let available = f.logic_cells_available.or(f.device_logic_cells).filter(|&n| n > 0)? as f64;
            Some(100.0 * used / available)
        };
        r.status == "ok"
            && self.budget_percent.is_none_or(|b| utilisation().is_some_and(|u| u <= b))
            && self.rate.is_none_or(|n| rate(r).is_some_and(|v| v >= n))
            && self.min_accuracy_percent.is_none_or(|a| f.accuracy_discrete.is_some_and(|v| 100.0 * v >= a))
    }

    /// The constraints in words (empty when none is set).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(b) = self.budget_percent {
            parts.push(format!("at most {b} % of the device's logic cells"));
        }
        if let Some(n) = self.rate {
            parts.push(format!("at least {n} inferences per second"));
        }
        if let Some(a) = self.min_accuracy_percent {
            parts.push(format!("at least {a} % accuracy"));
        }
        parts.join(", ")
    }
}

/// Parsers of the constraint options' values, for the command line.
pub mod values {
    /// A percentage more than 0 and at most 100.
    pub fn percent(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 100.0 => Ok(v),
            _ => Err(format!("{text}: not a percentage more than 0 and at most 100")),
        }
    }

    /// A finite number more than 0.
    pub fn positive(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
            _ => Err(format!("{text}: not a number more than 0")),
        }
    }

    /// Points of accuracy from 0 to 100.
    pub fn resolution(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
            _ => Err(format!("{text}: not a number of points from 0 to 100")),
        }
    }
}

/// Inferences per second streaming: the placed design's, else the cycle
/// model's at the target's clock.
pub fn rate(r: &PointResult) -> Option<f64> {
    r.figures.inferences_per_second.or(r.figures.model_inferences_per_second)
}

/// The configurations on the Pareto front of accuracy (higher is better)
/// against `cost` (lower is better), by index, cheapest first: a
/// configuration is on it when no other configuration that meets the
/// constraints is at least as accurate and cheaper, or more accurate and
/// as cheap. Costs are [`Costs`]' (plans calibrated by their device's
/// placed designs). Failed configurations, those that miss a constraint
/// and those without the figures take no part.
pub fn front(results: &[PointResult], cost: Cost, constraints: &Constraints) -> Vec<usize> {
    coarse_front(results, cost, constraints, 0.0)
}

/// [`front`] with a resolution: walking from the cheapest, a configuration
/// joins only when it is more accurate than the last one that joined by
/// more than `epsilon` (a fraction). With 0 it is the Pareto front.
/// Accuracy differences smaller than the test set's sampling error (about
/// 0.14 points for 98 % on 10,000 images) say nothing about the networks,
/// and placing every configuration that buys them would cost hours.
pub fn coarse_front(results: &[PointResult], cost: Cost, constraints: &Constraints, epsilon: f64) -> Vec<usize> {
    let costs = Costs::new(results, cost);
    let mut points: Vec<(f64, f64, usize)> = results
        .iter()
        .filter(|r| constraints.met_by(r))
        .filter_map(|r| Some((costs.of(r)?, r.figures.accuracy_discrete?, r.index)))
        .filter(|(c, a, _)| c.is_finite() && a.is_finite())
        .collect();
    // Cheapest first; among equal costs the most accurate first.
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut best = f64::NEG_INFINITY;
    let mut out = Vec::new();
    for (_, accuracy, index) in points {
        if accuracy > best + epsilon {
            best = accuracy;
            out.push(index);
        }
    }
    out
}

/// A point's device: its grid value of `target` (`""` when the grid has
/// no such key: one device for all).
fn target_of(r: &PointResult) -> &str {
    r.config.get("target").map_or("", String::as_str)
}

/// Each device's points: (target, the results on it), targets in sorted order.
fn by_target(results: &[PointResult]) -> Vec<(String, Vec<PointResult>)> {
    let mut targets: Vec<&str> = results.iter().map(target_of).collect();
    targets.sort_unstable();
    targets.dedup();
    targets
        .into_iter()
        .map(|t| (t.to_string(), results.iter().filter(|r| target_of(r) == t).cloned().collect()))
        .collect()
}

/// The configurations on either front ([`coarse_front`] with `epsilon`)
/// among each device's points (a smaller device's best designs are never
/// on the fronts of all points when a larger one beats them), in index
/// order. With `epsilon` 0, every point of the fronts of all points is
/// among them.
pub fn fronts_per_target(results: &[PointResult], constraints: &Constraints, epsilon: f64) -> Vec<usize> {
    let mut out: Vec<usize> = by_target(results)
        .iter()
        .flat_map(|(_, group)| {
            let mut both = coarse_front(group, Cost::LogicCells, constraints, epsilon);
            both.extend(coarse_front(group, Cost::Microseconds, constraints, epsilon));
            both
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `text` for HTML text and attributes (control characters, which only a
/// stranger's file name or error would carry, as spaces).
fn escape(text: &str) -> String {
    let plain: String = text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect();
    ttfs_flow::report::xml_escape(&plain)
}

/// One scatter plot: every finished point (hollow when it misses a
/// constraint), the front joined by a line.
fn plot(results: &[PointResult], cost: Cost, constraints: &Constraints) -> String {
    let front = front(results, cost, constraints);
    let costs = Costs::new(results, cost);
    let points: Vec<(f64, f64, usize)> = results
        .iter()
        .filter(|r| r.status == "ok")
        .filter_map(|r| Some((costs.of(r)?, r.figures.accuracy_discrete?, r.index)))
        .collect();
    let (w, h, left, bottom, top, right) = (560.0, 300.0, 60.0, 40.0, 15.0, 20.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"accuracy against {}\">\n",
        cost.label()
    );
    if points.is_empty() {
        svg += "<text x=\"20\" y=\"40\">no finished configuration has this figure</text>\n</svg>\n";
        return svg;
    }
    let (x_max, y_min) = points.iter().fold((0.0f64, 1.0f64), |(x, y), p| (x.max(p.0), y.min(p.1)));
    let x_max = if x_max > 0.0 { x_max * 1.05 } else { 1.0 };
    let y_min = (y_min - 0.02).clamp(0.0, 0.98);
    let x = |v: f64| left + (w - left - right) * v / x_max;
    let y = |a: f64| top + (h - top - bottom) * (1.0 - (a - y_min) / (1.0 - y_min));
    let _ = writeln!(
        svg,
        "<line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"black\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"black\"/>",
        b = h - bottom,
        r = w - right
    );
    for k in 0..=4 {
        let v = x_max * f64::from(k) / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x(v),
            h - bottom + 15.0,
            short(v)
        );
        let a = y_min + (1.0 - y_min) * f64::from(k) / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.1} %</text>",
            left - 4.0,
            y(a) + 4.0,
            100.0 * a
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
        (left + w - right) / 2.0,
        h - 5.0,
        cost.label()
    );
    let on_front: Vec<(f64, f64)> =
        front.iter().filter_map(|i| points.iter().find(|p| p.2 == *i)).map(|p| (x(p.0), y(p.1))).collect();
    if on_front.len() > 1 {
        let path: Vec<String> = on_front.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect();
        let _ = writeln!(svg, "<polyline points=\"{}\" fill=\"none\" stroke=\"#c0392b\"/>", path.join(" "));
    }
    for (c, a, index) in &points {
        let on = front.contains(index);
        let result = results.iter().find(|r| r.index == *index);
        let meets = result.is_some_and(|r| constraints.met_by(r));
        let planned = result.filter(|r| cost.placed(r).is_none()).map_or(String::new(), |r| {
            let ratio = costs.ratio_of(r);
            if ratio == 1.0 { " (plan)".into() } else { format!(" (plan × {ratio:.2})") }
        });
        let _ = writeln!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{}\" stroke=\"#7f8c8d\"><title>[{index}] {:.2} %, {}{planned}{}</title></circle>",
            x(*c),
            y(*a),
            if on { 4 } else { 3 },
            if on {
                "#c0392b"
            } else if meets {
                "#7f8c8d"
            } else {
                "none"
            },
            100.0 * a,
            short(*c),
            if meets { "" } else { " (misses a constraint)" }
        );
    }
    svg + "</svg>\n"
}

/// A number for an axis or a tooltip.
fn short(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The cheapest configuration by `cost` among those that meet the
/// constraints and are at least as accurate as every other such
/// configuration costing as much: the first point of the front.
pub fn cheapest(results: &[PointResult], cost: Cost, constraints: &Constraints) -> Option<usize> {
    front(results, cost, constraints).first().copied()
}

/// The whole page for `results` (index order) of a sweep with `total`
/// configurations, its fronts restricted to the points that meet
/// `constraints`.
pub fn html(title: &str, total: usize, results: &[PointResult], constraints: &Constraints) -> String {
    let failed = results.iter().filter(|r| r.status != "ok").count();
    let placed = results.iter().any(|r| r.figures.logic_cells.is_some());
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>body{{font-family:sans-serif;max-width:72em;margin:1em auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%}}td.n{{text-align:right}}\
         tr.front td{{background:#fdecea}}code{{font-size:85%}}</style>\n</head>\n<body>\n<h1>{t}</h1>\n\
         <p>{done} of {total} configurations finished, {failed} failed. Costs are {which}. \
         Points on a Pareto front (no other point is at least as accurate and cheaper) are red; \
         accuracy is the integer TTFS network's, the hardware's.</p>\n",
        t = escape(title),
        done = results.len(),
        which = if placed {
            "the placed designs' where synthesis ran (logic cells, µs at the routed clock)"
        } else {
            "the plans' (estimated logic cells, the cycle model at the target's clock)"
        },
    );
    if constraints.any() {
        let meeting = results.iter().filter(|r| constraints.met_by(r)).count();
        let _ = writeln!(
            page,
            "<p>Constraints: {}. {meeting} of the finished configurations meet them; the others are hollow \
             and take no part in the fronts.</p>",
            escape(&constraints.describe())
        );
    }
    let calibrations: Vec<String> = [Cost::LogicCells, Cost::Microseconds]
        .iter()
        .flat_map(|&cost| {
            let costs = Costs::new(results, cost);
            costs
                .ratios()
                .iter()
                .map(|(t, r)| format!("{} {}: × {r:.2}", if t.is_empty() { "the device" } else { t }, cost.label()))
                .collect::<Vec<_>>()
        })
        .collect();
    if !calibrations.is_empty() {
        let _ = writeln!(
            page,
            "<p>A configuration only planned is drawn and ranked at its plan's figure times the median ratio of \
             placed to planned figure among the placed designs of its device and lanes setting (else of its \
             device): {}.</p>",
            escape(&calibrations.join("; "))
        );
    }
    for cost in [Cost::LogicCells, Cost::Microseconds] {
        let _ = writeln!(page, "<h2>Accuracy against {}</h2>", cost.label());
        page += &plot(results, cost, constraints);
    }
    let groups = by_target(results);
    if groups.len() > 1 {
        page += "<h2>Each device's fronts</h2>\n<table>\n<tr><th>target</th><th>front against logic cells: \
                 [#] accuracy, logic cells</th><th>front against µs: [#] accuracy, µs</th></tr>\n";
        for (target, group) in &groups {
            let list = |cost: Cost| -> String {
                front(group, cost, constraints)
                    .iter()
                    .filter_map(|i| group.iter().find(|r| r.index == *i))
                    .map(|r| {
                        let a = r.figures.accuracy_discrete.unwrap_or(0.0);
                        let c = Costs::new(group, cost).of(r).unwrap_or(0.0);
                        let plan = if cost.placed(r).is_none() { " (plan)" } else { "" };
                        format!("[{}] {:.2} %, {}{plan}", r.index, 100.0 * a, short(c))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(target),
                escape(&list(Cost::LogicCells)),
                escape(&list(Cost::Microseconds))
            );
        }
        page += "</table>\n";
    }
    let fronts = [front(results, Cost::LogicCells, constraints), front(results, Cost::Microseconds, constraints)];
    page += "<h2>Every configuration</h2>\n<table>\n<tr><th>#</th><th>configuration</th><th>status</th>\
             <th>accuracy</th><th>figures</th><th>logic cells</th><th>µs</th><th>inferences/s</th><th>Fmax MHz</th>\
             <th>command</th></tr>\n";
    for r in results {
        let f = &r.figures;
        let config: Vec<String> = r.config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let on = fronts.iter().any(|fr| fr.contains(&r.index));
        let status = match &r.error {
            Some(e) => format!("{}: {}", r.status, e.lines().next().unwrap_or_default()),
            None => r.status.clone(),
        };
        let _ = writeln!(
            page,
            "<tr{}><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>",
            if on { " class=\"front\"" } else { "" },
            r.index,
            escape(&config.join(" ")),
            escape(&status),
            f.accuracy_discrete.map_or("-".into(), |a| format!("{:.2} %", 100.0 * a)),
            if f.logic_cells.is_some() { "placed" } else { "plan" },
            Cost::LogicCells.of(r).map_or("-".into(), |v| format!("{v:.0}")),
            Cost::Microseconds.of(r).map_or("-".into(), |v| format!("{v:.2}")),
            rate(r).map_or("-".into(), |v| format!("{v:.0}")),
            f.fmax_mhz.map_or("-".into(), |v| format!("{v:.1}")),
            escape(&r.command)
        );
    }
    page + "</table>\n</body>\n</html>\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Figures;

    fn point(index: usize, accuracy: f64, cells: u64, us: f64, status: &str) -> PointResult {
        PointResult {
            index,
            name: format!("{index:04}"),
            config: [("weight-bits".to_string(), format!("<{index}>"))].into(),
            status: status.into(),
            error: None,
            stages: Vec::new(),
            figures: Figures {
                accuracy_discrete: Some(accuracy),
                estimated_logic_cells: Some(cells),
                model_latency_us: Some(us),
                ..Figures::default()
            },
            seconds: 1.0,
            command: "ttfs flow --weight-bits 4 -o 'a&b'".into(),
        }
    }

    #[test]
    fn the_front_keeps_what_nothing_beats() {
        let points = [
            point(0, 0.90, 1000, 5.0, "ok"),
            point(1, 0.95, 2000, 4.0, "ok"),
            point(2, 0.93, 2500, 3.0, "ok"),
            point(3, 0.97, 3000, 9.0, "ok"),
            point(4, 0.99, 500, 1.0, "failed"),
            point(5, 0.95, 2000, 8.0, "ok"),
        ];
        let none = Constraints::default();
        assert_eq!(front(&points, Cost::LogicCells, &none), [0, 1, 3]);
        assert_eq!(front(&points, Cost::Microseconds, &none), [2, 1, 3]);
        let page = html("digits <mlp>", 8, &points, &none);
        assert!(page.contains("digits &lt;mlp&gt;") && page.contains("6 of 8 configurations finished, 1 failed"));
        assert!(page.contains("weight-bits=&lt;3&gt;") && page.contains("-o &#39;a&amp;b&#39;"));
        assert!(!page.contains("<3>") && page.matches("<svg").count() == 2);
        assert_eq!(page, html("digits <mlp>", 8, &points, &none), "deterministic");
    }

    #[test]
    fn each_device_has_its_fronts() {
        let mut points = vec![
            point(0, 0.95, 900, 20.0, "ok"),
            point(1, 0.97, 1000, 10.0, "ok"),
            point(2, 0.95, 3000, 90.0, "ok"),
            point(3, 0.97, 3500, 80.0, "ok"),
            point(4, 0.96, 4000, 95.0, "ok"),
        ];
        for (p, t) in points.iter_mut().zip(["big", "big", "small", "small", "small"]) {
            p.config.insert("target".into(), t.into());
        }
        let none = Constraints::default();
        // Of all points, the big device's two win everything.
        assert_eq!(front(&points, Cost::LogicCells, &none), [0, 1]);
        assert_eq!(fronts_per_target(&points, &none, 0.0), [0, 1, 2, 3]);
        // At a resolution of 2.5 points, 97 % after 95 % is no news.
        assert_eq!(coarse_front(&points, Cost::LogicCells, &none, 0.015), [0, 1]);
        assert_eq!(coarse_front(&points, Cost::LogicCells, &none, 0.025), [0]);
        let page = html("t", 5, &points, &none);
        assert!(page.contains("<td>small</td><td>[2] 95.00 %, 3000 (plan); [3] 97.00 %, 3500 (plan)</td>"), "{page}");
    }

    #[test]
    fn plans_are_calibrated_by_their_device_placed_designs() {
        let mut points = vec![
            point(0, 0.95, 1000, 20.0, "ok"),
            point(1, 0.96, 1200, 20.0, "ok"),
            point(2, 0.97, 1500, 20.0, "ok"),
            point(3, 0.95, 1100, 20.0, "ok"),
        ];
        for (p, t) in points.iter_mut().zip(["a", "a", "a", "b"]) {
            p.config.insert("target".into(), t.into());
        }
        let none = Constraints::default();
        assert_eq!(front(&points, Cost::LogicCells, &none), [0, 1, 2]);
        // Point 0 placed at twice its estimate: device a's plans double.
        points[0].figures.logic_cells = Some(2000);
        let costs = Costs::new(&points, Cost::LogicCells);
        assert_eq!((costs.ratio_of(&points[1]), costs.ratio_of(&points[3])), (2.0, 1.0));
        assert_eq!(
            (costs.of(&points[0]), costs.of(&points[1]), costs.of(&points[3])),
            (Some(2000.0), Some(2400.0), Some(1100.0))
        );
        assert_eq!(front(&points, Cost::LogicCells, &none), [3, 1, 2]);
        let page = html("t", 4, &points, &none);
        assert!(page.contains("a logic cells: × 2.00") && page.contains("(plan × 2.00)"), "{page}");
    }

    #[test]
    fn constraints_narrow_the_fronts() {
        let mut points = vec![
            point(0, 0.90, 1000, 5.0, "ok"),
            point(1, 0.95, 2000, 4.0, "ok"),
            point(2, 0.93, 2500, 3.0, "ok"),
            point(3, 0.97, 3000, 9.0, "ok"),
        ];
        for p in &mut points {
            p.figures.device_logic_cells = Some(5000);
            p.figures.model_inferences_per_second = Some(1e6 / p.figures.model_latency_us.unwrap());
        }
        // 3,000 of 5,000 cells is 60 %.
        let budget = Constraints { budget_percent: Some(50.0), ..Constraints::default() };
        assert_eq!(front(&points, Cost::LogicCells, &budget), [0, 1]);
        assert_eq!(front(&points, Cost::Microseconds, &budget), [2, 1]);
        // Placed figures win over the plan's.
        points[3].figures.logic_cells = Some(2400);
        points[3].figures.logic_cells_available = Some(5280);
        assert_eq!(front(&points, Cost::LogicCells, &budget), [0, 1, 3]);
        let rate = Constraints { rate: Some(200_000.0), ..Constraints::default() };
        assert_eq!(front(&points, Cost::Microseconds, &rate), [2, 1]);
        let accurate = Constraints { min_accuracy_percent: Some(94.0), rate: Some(200_000.0), ..budget };
        assert_eq!(cheapest(&points, Cost::Microseconds, &accurate), Some(1));
        // A point without the figure a constraint needs does not meet it.
        points[1].figures.model_inferences_per_second = None;
        assert_eq!(cheapest(&points, Cost::Microseconds, &accurate), None);
        let page = html("t", 4, &points, &accurate);
        assert!(page.contains("Constraints: at most 50 % of the device") && page.contains("fill=\"none\""), "{page}");
    }
}
