//! The sim stage (`ttfs sim NET.json --data FILE [--labels FILE] [--json]`: run the ReLU
//! network, the continuous spiking network and the integer network on a
//! data set and report accuracy, exactness, spikes and speed.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_sim::Prepared;
use ttfs_sim::eval::{Report, Samples, evaluate};

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
    Ok(evaluate(
        &model,
        Samples { values: &canonical, sample_len: net.input.shape.iter().product(), labels: labels.as_deref() },
    ))
}

fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.4}"))
}

/// Renders the report as a table for people.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<34} {v}\n"));
    line("samples", report.samples.to_string());
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
    line("agreement with ReLU: continuous", format!("{:.4}", report.agreement_continuous));
    line("agreement with ReLU: discrete", opt(report.agreement_discrete));
    line(
        "max abs / rel logit error (cont.)",
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
        line("tick-by-tick vs closed form", format!("{m} mismatching samples"));
    }
    line(
        "simulator speed (inferences/s)",
        format!(
            "{:.0} (continuous {:.0}{})",
            report.sim_inferences_per_second,
            report.continuous_inferences_per_second,
            report.discrete_inferences_per_second.map_or(String::new(), |d| format!(", discrete {d:.0}"))
        ),
    );
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
    out
}
