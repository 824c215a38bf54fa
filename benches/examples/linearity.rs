//! The linearity target of issue 9 in wall time: a 100,000-item inline Map must cost at most
//! 110 times a 1,000-item one.
//!
//! ```sh
//! cargo run --release -p stepcheck-benches --example linearity [ROUNDS]
//! ```
//!
//! On a shared host the speed of the machine changes from one second to the next (this one
//! ran the same binary up to 1.9 times slower within a minute), so timing the two sizes one
//! after the other, as criterion does, mostly measures the host. This example interleaves
//! them instead: each round runs one 100k execution and then 100 1k executions (about 40 ms
//! each), and gives the ratio of their times per execution. The two halves of a round see
//! about the same host, so the median of the rounds' ratios is the figure; the fastest
//! execution of each size, the quartiles and the extremes of the ratios are printed too, to
//! show the spread. (The fastest times alone are not a good figure here: one fast spell on
//! either side moves their ratio by a third.)
//!
//! Both Maps run as Express: a Standard 100k Map passes AWS's 25,000-event history quota and
//! fails, as on AWS. Each execution clones its input, as the criterion benches do; loading
//! and parsing the input files happens once, before the rounds.

use benches::Workload;
use engine::{ExecutionStatus, NoTasks, WorkflowType};
use std::time::{Duration, Instant};

/// The allocator of the `stepcheck` binary, so that the figures are what it would run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How many 1k executions a round times, so that both sides of a round take about as long.
const SMALL_PER_ROUND: u32 = 100;

/// The target: 100k ÷ 1k, per execution.
const TARGET: f64 = 110.0;

/// Runs `workload` `n` times as Express and returns the time per execution.
fn per_execution(workload: &Workload, n: u32) -> Result<Duration, String> {
    let start = Instant::now();
    for _ in 0..n {
        let result = workload.run(WorkflowType::Express, &mut NoTasks);
        if result.status != ExecutionStatus::Succeeded {
            return Err(format!(
                "the benchmark Map ended {}",
                result.status.as_str()
            ));
        }
    }
    Ok(start.elapsed() / n)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: u32 = match std::env::args().nth(1) {
        Some(text) => text
            .parse()
            .map_err(|_| format!("not a round count: {text}"))?,
        None => 15,
    };
    if rounds == 0 {
        return Err("the round count must be at least 1".into());
    }
    println!("| Map | median ratio of the rounds (target ≤ {TARGET}×) | quartiles | min / max | fastest 100k | fastest 1k |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for workflow in ["map-c10", "map-c0"] {
        let large = Workload::load(workflow, "map-100k")?;
        let small = Workload::load(workflow, "map-1k")?;
        // One untimed run of each warms the allocator and the caches.
        per_execution(&large, 1)?;
        per_execution(&small, SMALL_PER_ROUND)?;
        let mut best_large = Duration::MAX;
        let mut best_small = Duration::MAX;
        let mut ratios = Vec::with_capacity(rounds as usize);
        for _ in 0..rounds {
            let l = per_execution(&large, 1)?;
            let s = per_execution(&small, SMALL_PER_ROUND)?;
            best_large = best_large.min(l);
            best_small = best_small.min(s);
            ratios.push(l.as_secs_f64() / s.as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
        let median = at(0.5);
        println!(
            "| {workflow} | **{median:.1}×** ({}) | {:.1}× – {:.1}× | {:.1}× / {:.1}× | {:.2} ms | {:.1} µs |",
            if median <= TARGET { "met" } else { "missed" },
            at(0.25),
            at(0.75),
            ratios[0],
            ratios[ratios.len() - 1],
            best_large.as_secs_f64() * 1e3,
            best_small.as_secs_f64() * 1e6,
        );
    }
    Ok(())
}
