//! `ttfs`: the ttfs-hdl command-line tool. It parses arguments and hands
//! them to the stage crates; each subcommand lives in its own file of
//! [`cmd`].

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ttfs", version, about = "Turn trained ReLU networks into time-to-first-spike hardware")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Convert(cmd::convert::Args),
    Sim(cmd::sim::Args),
    Generate(cmd::generate::Args),
    Cosim(cmd::cosim::Args),
    Flow(cmd::flow::Args),
    Synth(cmd::synth::Args),
    Inspect(cmd::inspect::Args),
    Passes(cmd::passes::Args),
    Prog(cmd::prog::Args),
    Run(cmd::run::Args),
    BoardSim(cmd::board_sim::Args),
    Train(cmd::train::Args),
    Finetune(cmd::finetune::Args),
    Gradients(cmd::gradients::Args),
    Files(cmd::files::Args),
    Sweep(cmd::sweep::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Convert(a) => cmd::convert::run(a),
        Command::Sim(a) => cmd::sim::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Cosim(a) => cmd::cosim::run(a),
        Command::Flow(a) => cmd::flow::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Passes(a) => cmd::passes::run(a),
        Command::Prog(a) => cmd::prog::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::BoardSim(a) => cmd::board_sim::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Finetune(a) => cmd::finetune::run(a),
        Command::Gradients(a) => cmd::gradients::run(a),
        Command::Files(a) => cmd::files::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // A flow that ran with a failed stage still shows its summary.
            if let Some(failed) = e.downcast_ref::<ttfs_flow::FlowFailed>() {
                print!("{}", failed.summary);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
