//! A long fuzzing campaign on the in-process engine, until `stepcheck fuzz` exists:
//! `cargo run --release -p stepcheck-conformance --example fuzz -- CASES [SEED]`.
//! Prints the report (counts, time, shrunk failures) and exits 1 when anything failed.

fn main() {
    let mut args = std::env::args().skip(1);
    let cases = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let report = conformance::fuzz::campaign(cases, seed);
    println!("{report}");
    if !report.failures.is_empty() {
        std::process::exit(1);
    }
}
