//! The sim stage (`ttfs sim NET.json --data FILE [--labels FILE] [--json]`: run the ReLU
//! network, the continuous spiking network and the integer network on a
//! data set and report accuracy, exactness, spikes and speed.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_sim::Prepared;
use ttfs_sim::eval::{EvalOptions, Report, Samples, evaluate_with};

/// What to simulate (the arguments of `ttfs sim`).
pub struct Args {
    /// Network description.
    pub network: PathBuf,
    /// Input data.
    pub data: PathBuf,
    /// Labels, if accuracy is wanted.
    pub labels: Option<PathBuf>,
    /// Use only the first N samples.
    pub count: Option<usize>,
    /// Run the literal simulators (event-driven continuous, tick-by-tick
    /// discrete) on every sample, not only on the checked subset.
    pub exhaustive: bool,
}

/// Evaluates the network on the data set.
pub fn run(args: &Args) -> Result<Report> {
    let net = ttfs_ir::load(&args.network)?;
    let (data, canonical) = ttfs_data::load_samples(&net, &args.data, args.count)?;
    let labels = match &args.labels {
        Some(path) => Some(ttfs_data::load_labels_for(path, &args.data, data.count, data.total, net.classes())?),
        None => None,
    };
    let model = Prepared::new(&net);
    Ok(evaluate_with(
        &model,
        Samples { values: &canonical, sample_len: net.input.shape.iter().product(), labels: labels.as_deref() },
        EvalOptions { exhaustive: args.exhaustive },
    ))
}

/// Agreement with the float ReLU network below which the report warns.
const AGREEMENT_WARNING: f64 = 0.99;
/// Accuracy lost by the integer network, against the float one, above which
/// the report warns (one point).
const ACCURACY_DROP_WARNING: f64 = 0.01;

/// Warnings about answers that may be wrong without anything failing: the
/// integer network losing accuracy against the float one, data outside what
/// the network was calibrated on, and (a bug) the tick-by-tick simulation
/// leaving its closed form.
pub fn warnings(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let percent = |f: f64| format!("{:.1} %", 100.0 * (1.0 - f));
    if let (Some(float), Some(discrete)) = (report.accuracy_relu, report.accuracy_discrete)
        && float - discrete > ACCURACY_DROP_WARNING
    {
        out.push(format!(
            "the integer network's accuracy {:.2} % is {:.2} points below the float network's {:.2} %",
            100.0 * discrete,
            100.0 * (float - discrete),
            100.0 * float
        ));
    }
    if let Some(a) = report.agreement_discrete.filter(|a| *a < AGREEMENT_WARNING) {
        out.push(format!(
            "the integer network picks another class than the float ReLU network on {} of these samples: \
             its time or weight bits lose accuracy (convert with more --time-bits or --weight-bits)",
            percent(a)
        ));
    }
    if report.agreement_continuous < AGREEMENT_WARNING {
        out.push(format!(
            "the continuous spiking network picks another class than the ReLU network on {} of these samples",
            percent(report.agreement_continuous)
        ));
    }
    if report.clipped_inputs > 0 {
        let named: Vec<String> = report
            .inputs_outside
            .iter()
            .map(|f| {
                format!(
                    "feature {} ({} below and {} above its calibrated range [{}, {}]; these data span [{}, {}])",
                    f.feature, f.below, f.above, f.range[0], f.range[1], f.min, f.max
                )
            })
            .collect();
        let more = report.features_outside.saturating_sub(named.len());
        out.push(format!(
            "{} input values of {} features lie outside the ranges the network was calibrated on, and were clipped: \
             these data do not match the calibration data (different units or scaling, e.g. bytes 0..255 against a \
             model calibrated on values in [0, 1]?): {}{}",
            report.clipped_inputs,
            report.features_outside,
            named.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    if report.clipped_activations > 0 {
        out.push(format!(
            "{} activations left the time windows calibrated for them and were clipped: unless a margin ζ < 0 \
             clips on purpose, these data drive the network harder than the calibration data did \
             (convert again with these data or a larger --margin)",
            report.clipped_activations
        ));
    }
    if let Some(m) = report.discrete_closed_form_mismatches.filter(|m| *m > 0) {
        out.push(format!(
            "the tick-by-tick simulation differs from its closed form on {m} samples: this is a bug in ttfs, please report it"
        ));
    }
    out
}

/// A fraction as a percentage, the one way ttfs prints accuracies
/// (`flow` and `sim` alike; JSON keeps the fraction).
fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.2} %", 100.0 * v))
}

/// Renders the report as a table for people.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<34} {v}\n"));
    line("samples", report.samples.to_string());
    line("checked by the literal simulators", format!("{} samples", report.checked_samples));
    line("neuron model", report.neuron.clone());
    line(
        "accuracy: ReLU / continuous / discrete",
        format!(
            "{} / {} / {}",
            opt(report.accuracy_relu),
            opt(report.accuracy_continuous),
            opt(report.accuracy_discrete)
        ),
    );
    line("agreement with ReLU: continuous", opt(Some(report.agreement_continuous)));
    line("agreement with ReLU: discrete", opt(report.agreement_discrete));
    line(
        "max abs / rel logit error (cont.)*",
        format!("{:.3e} / {:.3e}", report.max_abs_error_continuous, report.max_rel_error_continuous),
    );
    line(
        "clipped activations: cont. / disc.",
        format!(
            "{} / {}",
            report.clipped_activations,
            report.clipped_activations_discrete.map_or("—".into(), |v| v.to_string())
        ),
    );
    line("inputs outside the range", report.clipped_inputs.to_string());
    line(
        "spikes per hidden neuron",
        match report.spikes_per_neuron {
            Some(v) => format!("{v:.3} (continuous {:.3})", report.spikes_per_neuron_continuous),
            None => format!("{:.3} (continuous)", report.spikes_per_neuron_continuous),
        },
    );
    line("synaptic events per inference", format!("{:.0}", report.synaptic_events_per_inference));
    if let Some(m) = report.discrete_closed_form_mismatches {
        line("tick-by-tick vs closed form*", format!("{m} mismatching samples"));
    }
    line(
        "simulator speed (inferences/s)*",
        format!(
            "{:.0} (continuous {:.0}{})",
            report.sim_inferences_per_second,
            report.continuous_inferences_per_second,
            report.discrete_inferences_per_second.map_or(String::new(), |d| format!(", discrete {d:.0}"))
        ),
    );
    out.push_str("* over the checked samples; the other figures cover every sample\n");
    out.push_str("\nlayer                 kind       neurons  spikes/neuron\n");
    for l in &report.layers {
        out.push_str(&format!(
            "{:<21} {:<10} {:>7}  {}\n",
            l.name,
            l.kind,
            l.neurons,
            l.spikes_per_neuron.map_or("—".into(), |v| format!("{v:.3}"))
        ));
    }
    let warnings = warnings(report);
    for w in &warnings {
        out.push_str(&format!("\nwarning: {w}"));
    }
    if !warnings.is_empty() {
        out.push('\n');
    }
    out
}
