//! Criterion benchmarks of the in-process engine (issue 9).
//!
//! Every workflow runs as Standard (full history) and Express (no history). Throughput is in
//! state transitions (the `*StateEntered` events of one Standard run), except for the Map
//! benchmarks, whose throughput is in items. The workflows are the files of
//! `benches/workflows/`; `benches/README.md` has the figures.
//!
//! Quick run while developing:
//! `cargo bench -p stepcheck-benches -- --warm-up-time 1 --measurement-time 2`.

use benches::{FlakyTwice, SyncChain, Workload};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use engine::{ExecutionStatus, NoTasks, TaskHandler, WorkflowType};
use std::hint::black_box;

/// The allocator of the `stepcheck` binary, so that these figures match `stepcheck bench`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TYPES: [(&str, WorkflowType); 2] = [
    ("standard", WorkflowType::Standard),
    ("express", WorkflowType::Express),
];

/// Loads a workload and checks, once and outside the measurement, that it succeeds, so that
/// a benchmark never measures an execution that fails early. Returns its transitions.
fn checked(definition: &str, input: &str, handler: &mut dyn TaskHandler) -> (Workload, u64) {
    let w = Workload::load(definition, input).unwrap_or_else(|e| panic!("{e}"));
    let r = w.run(WorkflowType::Standard, handler);
    assert_eq!(
        r.status,
        ExecutionStatus::Succeeded,
        "{definition}: {:?} {:?}",
        r.error,
        r.cause
    );
    let transitions = benches::transitions(&r.history);
    (w, transitions)
}

/// One group per workflow with a `standard` and an `express` benchmark, measured in
/// transitions.
fn flow(c: &mut Criterion, group: &str, definition: &str, input: &str, samples: usize) {
    let (w, transitions) = checked(definition, input, &mut NoTasks);
    let mut g = c.benchmark_group(group);
    g.sample_size(samples);
    g.throughput(Throughput::Elements(transitions));
    for (name, t) in TYPES {
        g.bench_function(name, |b| b.iter(|| black_box(w.run(t, &mut NoTasks))));
    }
    g.finish();
}

fn pass_chain(c: &mut Criterion) {
    flow(c, "pass_chain_100", "pass-chain", "pass-chain", 50);
}

fn choice_loop(c: &mut Criterion) {
    flow(c, "choice_loop_10k", "choice-loop", "choice-loop", 20);
}

fn parallel(c: &mut Criterion) {
    flow(c, "parallel_10x10", "parallel", "parallel", 50);
}

fn jsonata(c: &mut Criterion) {
    flow(c, "jsonata_pass_21", "jsonata", "jsonata", 50);
}

fn task_retry(c: &mut Criterion) {
    let (w, transitions) = checked("task-retry", "task-retry", &mut FlakyTwice);
    let mut g = c.benchmark_group("task_two_retries");
    g.throughput(Throughput::Elements(transitions));
    for (name, t) in TYPES {
        g.bench_function(name, |b| b.iter(|| black_box(w.run(t, &mut FlakyTwice))));
    }
    g.finish();
}

/// Inline Map over 1,000 and 5,000 items with MaxConcurrency 10 and 0, in items per second.
/// The 100,000-item Map runs only where the engine can finish it: a Standard execution fails
/// with States.Runtime at AWS's 25,000 history events (four events per item), so that one
/// reports the skip instead of measuring a failure; Express has no such quota and runs.
/// `benches/README.md` says more.
fn map(c: &mut Criterion) {
    for concurrency in ["c10", "c0"] {
        let definition = format!("map-{concurrency}");
        for (size, items) in [("1k", 1_000u64), ("5k", 5_000), ("100k", 100_000)] {
            let input = format!("map-{size}");
            let w = Workload::load(&definition, &input).unwrap_or_else(|e| panic!("{e}"));
            let mut g = c.benchmark_group(format!("map_{size}_{concurrency}"));
            g.sample_size(if items > 1_000 { 10 } else { 30 });
            g.throughput(Throughput::Elements(items));
            for (name, t) in TYPES {
                let r = w.run(t, &mut NoTasks);
                if r.status != ExecutionStatus::Succeeded {
                    eprintln!(
                        "map_{size}_{concurrency}/{name}: skipped, the execution ends {} ({}: {})",
                        r.status.as_str(),
                        r.error.unwrap_or_default(),
                        r.cause.unwrap_or_default()
                    );
                    continue;
                }
                g.bench_function(name, |b| b.iter(|| black_box(w.run(t, &mut NoTasks))));
            }
            g.finish();
        }
    }
}

/// A parent that calls a child that calls a grandchild, each with
/// `states:startExecution.sync:2`, on the in-process execution service. Standard only: AWS
/// refuses `.sync` in Express workflows. A fresh service per iteration keeps the service's
/// list of executions from growing; making it (parsing three definitions) is not measured.
fn sync_chain(c: &mut Criterion) {
    let chain = SyncChain::load().unwrap_or_else(|e| panic!("{e}"));
    let (mut svc, arn) = chain.service().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(chain.run(&mut svc, &arn), ExecutionStatus::Succeeded);
    let transitions = SyncChain::transitions(&svc);
    let mut g = c.benchmark_group("sync_chain_3");
    g.throughput(Throughput::Elements(transitions));
    g.bench_function("standard", |b| {
        b.iter_batched(
            || chain.service().unwrap_or_else(|e| panic!("{e}")),
            |(mut svc, arn)| black_box(chain.run(&mut svc, &arn)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    pass_chain,
    choice_loop,
    map,
    parallel,
    task_retry,
    jsonata,
    sync_chain
);
criterion_main!(benches);
