//! `stepcheck-fuzz` (also `stepcheck fuzz`): generated workflows checked on the in-process
//! engine (history invariants, metamorphic relations) and compared with other backends
//! (differential runs), with every failure shrunk to a small workflow.

use anyhow::{bail, Result};
use clap::Parser;
use conformance::differential::{self, DiffOptions};
use conformance::fuzz;
use harness::backend::{BackendFactory, OpenError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "stepcheck-fuzz",
    about = "Fuzz the engine with generated workflows, and compare it with other backends"
)]
struct Args {
    /// How many workflows to generate.
    #[arg(long, default_value_t = 1_000)]
    cases: u64,
    /// The seed of the generator (the same seed generates the same workflows).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Comma-separated backends: in-process checks the invariants and relations; every other
    /// one (serve, localstack, an http(s):// endpoint, ...) is compared with in-process.
    #[arg(long, default_value = "in-process", value_delimiter = ',')]
    backend: Vec<String>,
    /// Write each shrunk disagreement as a corpus scenario in this directory (for example
    /// corpus/regressions).
    #[arg(long)]
    write_regressions: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the campaigns; `Ok(false)` when something failed or disagreed.
fn run(args: Args) -> Result<bool> {
    let mut ok = true;
    let mut others: Vec<Box<dyn BackendFactory>> = Vec::new();
    let mut in_process = false;
    for name in &args.backend {
        match name.trim() {
            "in-process" | "inprocess" | "engine" => in_process = true,
            other => match harness::backend::open(other) {
                Ok(b) => others.push(b),
                // An absent backend is reported and never counted as agreeing.
                Err(e @ OpenError::Absent { .. }) => println!("{e}"),
                Err(e) => bail!("{e}"),
            },
        }
    }
    if in_process {
        let report = fuzz::campaign(args.cases, args.seed);
        print!("{report}");
        ok &= report.failures.is_empty();
    }
    if !others.is_empty() {
        let backends: Vec<&dyn BackendFactory> = others.iter().map(|b| b.as_ref()).collect();
        let options = DiffOptions {
            write_regressions: args.write_regressions.clone(),
        };
        let report = differential::campaign(&backends, args.cases, args.seed, &options);
        print!("{report}");
        ok &= report.tallies.iter().all(|t| t.disagreements.is_empty());
    }
    Ok(ok)
}
