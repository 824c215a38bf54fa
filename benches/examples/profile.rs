//! A small target for profilers: runs one benchmark workflow N times and nothing else, so
//! that `valgrind --tool=callgrind` counts the engine's instructions without the criterion
//! harness or the `stepcheck` binary's start-up (which links the AWS SDK and takes minutes to
//! build in release mode).
//!
//! ```sh
//! cargo build --release -p stepcheck-benches --example profile
//! valgrind --tool=callgrind target/release/examples/profile pass-chain pass-chain 300 STANDARD
//! ```
//!
//! Arguments: workflow name, input name (both under `benches/workflows/`), executions,
//! `STANDARD` or `EXPRESS`. It prints the executions' status counts and transitions.

use benches::Workload;

/// The allocator of the `stepcheck` binary, so that profiles show what it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use engine::{ExecutionStatus, NoTasks, WorkflowType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [workflow, input, executions, kind] = args.as_slice() else {
        return Err("usage: profile WORKFLOW INPUT EXECUTIONS STANDARD|EXPRESS".into());
    };
    let executions: u64 = executions.parse()?;
    let workflow_type = match kind.as_str() {
        "STANDARD" => WorkflowType::Standard,
        "EXPRESS" => WorkflowType::Express,
        other => return Err(format!("not a workflow type: {other}").into()),
    };
    let workload = Workload::load(workflow, input)?;
    let mut succeeded = 0u64;
    for _ in 0..executions {
        let result = workload.run(workflow_type, &mut NoTasks);
        if result.status == ExecutionStatus::Succeeded {
            succeeded += 1;
        }
    }
    println!("{succeeded} of {executions} executions succeeded");
    Ok(())
}
