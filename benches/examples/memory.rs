//! Memory figures of issue 9: bytes per history event of the Standard benchmark workflows,
//! and the peak memory of a process that runs one 100,000-item inline Map.
//!
//! ```sh
//! cargo run --release -p stepcheck-benches --example memory
//! ```
//!
//! Bytes per event are counted from the history itself ([`engine::Event::memory_bytes`]: the
//! event record plus its texts), so they are exact and repeatable. Peak memory is the
//! process's VmHWM from `/proc/self/status` (Linux only), read in a fresh child process per
//! Map so that one measurement does not hide the next.

use benches::Workload;
use engine::{NoTasks, WorkflowType};
use std::process::Command;

/// The allocator of the `stepcheck` binary, so that peak memory is what it would use.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, workflow, input] = args.as_slice() {
        if flag == "--peak" {
            // Child mode: one Express run of the Map, then the peak.
            let before = peak_rss_kib().ok_or("no VmHWM in /proc/self/status")?;
            let workload = Workload::load(workflow, input)?;
            let result = workload.run(WorkflowType::Express, &mut NoTasks);
            let after = peak_rss_kib().ok_or("no VmHWM in /proc/self/status")?;
            println!("{} {before} {after}", result.status.as_str());
            return Ok(());
        }
    }
    println!("| workflow (Standard) | events | bytes | bytes per event |");
    println!("| --- | --- | --- | --- |");
    for (workflow, input) in [
        ("pass-chain", "pass-chain"),
        ("choice-loop", "choice-loop"),
        ("parallel", "parallel"),
        ("map-c10", "map-1k"),
    ] {
        let result = Workload::load(workflow, input)?.run(WorkflowType::Standard, &mut NoTasks);
        let bytes: usize = result.history.iter().map(engine::Event::memory_bytes).sum();
        let events = result.history.len();
        println!(
            "| {workflow} | {events} | {bytes} | {} |",
            bytes / events.max(1)
        );
    }
    println!();
    println!(
        "| 100,000-item Map (Express) | status | VmHWM before loading | VmHWM after the run |"
    );
    println!("| --- | --- | --- | --- |");
    let me = std::env::current_exe()?;
    for workflow in ["map-c10", "map-c0"] {
        let out = Command::new(&me)
            .args(["--peak", workflow, "map-100k"])
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<&str> = text.split_whitespace().collect();
        match parts.as_slice() {
            [status, before, after] => {
                println!("| {workflow} | {status} | {before} KiB | {after} KiB |")
            }
            _ => println!(
                "| {workflow} | failed: {} | | |",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
    Ok(())
}
