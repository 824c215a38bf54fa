//! Differential runs: generated workflows on the in-process engine and through `stepcheck
//! serve` (aws-sdk-sfn over HTTP) must agree on status, output, error, cause and history; a
//! deliberately disagreeing backend must be caught, shrunk, and written as a scenario that
//! loads and fails on that backend only; and `stepcheck-fuzz` must print its summary.
//!
//! The quick budget is 24 cases; `STEPCHECK_PROP_CASES` sets another.

use conformance::differential::{self, DiffOptions, Verdict};
use conformance::gen::{render, Case, End, Seq, Workflow};
use harness::backend::{
    Backend, BackendError, BackendFactory, Capabilities, ExecutionInfo, InProcess, SessionSetup,
    WaitingTask,
};
use harness::runner::{run_scenario, RunOptions, Verdict as RunVerdict};
use harness::scenario::{Scenario, WorkflowType};
use serde_json::{json, Value};
use std::path::PathBuf;

fn cases() -> u64 {
    std::env::var("STEPCHECK_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

/// A fresh directory under the system's temporary directory (never the real corpus).
fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stepcheck-{label}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

#[test]
fn serve_agrees_with_the_in_process_engine() {
    let serve = harness::backend::open("serve").expect("serve runs in this process");
    let n = cases();
    let report = differential::campaign(&[serve.as_ref()], n, 0x5EED, &DiffOptions::default());
    let tally = &report.tallies[0];
    assert!(tally.disagreements.is_empty(), "{report}");
    assert_eq!(report.cases, n);
    assert_eq!(tally.agreed + tally.skipped, n, "{report}");
    // Most generated workflows fit a MockConfigFile; a campaign that skips them all tests
    // nothing.
    assert!(tally.agreed * 2 > n, "too many skipped: {report}");
}

/// The in-process engine with every successful output wrapped in `{"flipped": ...}`: a
/// backend that disagrees on purpose.
#[derive(Debug)]
struct Flipping;

/// The in-process engine whose histories end one second late: a backend that agrees on
/// the outcome and disagrees on the history only.
#[derive(Debug)]
struct Late;

impl BackendFactory for Late {
    fn name(&self) -> &str {
        "late"
    }
    fn capabilities(&self) -> Capabilities {
        InProcess.capabilities()
    }
    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        Ok(Box::new(FlippingSession(InProcess.session(setup)?, true)))
    }
}

/// A session of the in-process engine that flips outputs (`false`) or delays the last event
/// of each history (`true`).
struct FlippingSession(Box<dyn Backend>, bool);

fn flip(mut info: ExecutionInfo) -> ExecutionInfo {
    info.output = info.output.map(|o| json!({ "flipped": o }));
    info
}

impl BackendFactory for Flipping {
    fn name(&self) -> &str {
        "flipping"
    }
    fn capabilities(&self) -> Capabilities {
        InProcess.capabilities()
    }
    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        Ok(Box::new(FlippingSession(InProcess.session(setup)?, false)))
    }
}

impl FlippingSession {
    fn info(&self, info: ExecutionInfo) -> ExecutionInfo {
        if self.1 {
            info
        } else {
            flip(info)
        }
    }
}

impl Backend for FlippingSession {
    fn create_state_machine(
        &mut self,
        name: &str,
        definition: &str,
        workflow_type: WorkflowType,
    ) -> Result<String, BackendError> {
        self.0.create_state_machine(name, definition, workflow_type)
    }
    fn delete_state_machine(&mut self, arn: &str) -> Result<(), BackendError> {
        self.0.delete_state_machine(arn)
    }
    fn start_execution(
        &mut self,
        arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<String, BackendError> {
        self.0.start_execution(arn, name, input, test_case)
    }
    fn start_sync_execution(
        &mut self,
        arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<ExecutionInfo, BackendError> {
        let info = self.0.start_sync_execution(arn, name, input, test_case)?;
        Ok(self.info(info))
    }
    fn describe_execution(&mut self, arn: &str) -> Result<ExecutionInfo, BackendError> {
        let info = self.0.describe_execution(arn)?;
        Ok(self.info(info))
    }
    fn get_execution_history(&mut self, arn: &str) -> Result<Vec<Value>, BackendError> {
        let mut history = self.0.get_execution_history(arn)?;
        if self.1 {
            if let Some(last) = history.last_mut() {
                let t = last["timestamp"].as_f64().unwrap_or_default();
                last["timestamp"] = json!(t + 1.0);
            }
        }
        Ok(history)
    }
    fn stop_execution(
        &mut self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError> {
        self.0.stop_execution(arn, error, cause)
    }
    fn send_task_success(&mut self, token: &str, output: &str) -> Result<(), BackendError> {
        self.0.send_task_success(token, output)
    }
    fn send_task_failure(
        &mut self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError> {
        self.0.send_task_failure(token, error, cause)
    }
    fn send_task_heartbeat(&mut self, token: &str) -> Result<(), BackendError> {
        self.0.send_task_heartbeat(token)
    }
    fn waiting_tasks(&mut self, arn: &str) -> Result<Vec<WaitingTask>, BackendError> {
        self.0.waiting_tasks(arn)
    }
    fn now_millis(&mut self) -> Result<i64, BackendError> {
        self.0.now_millis()
    }
    fn advance_to(&mut self, epoch_millis: i64) -> Result<(), BackendError> {
        self.0.advance_to(epoch_millis)
    }
    fn settle(&mut self, arn: &str) -> Result<ExecutionInfo, BackendError> {
        let info = self.0.settle(arn)?;
        Ok(self.info(info))
    }
    fn other_executions(
        &mut self,
        arn: &str,
    ) -> Result<Vec<(String, ExecutionInfo)>, BackendError> {
        self.0.other_executions(arn)
    }
}

#[test]
fn a_disagreement_is_shrunk_and_written_as_a_scenario_that_fails_there_only() {
    let root = temp_dir("regressions");
    let options = DiffOptions {
        write_regressions: Some(root.clone()),
    };
    let report = differential::campaign(&[&Flipping], 24, 0x5EED, &options);
    let tally = &report.tallies[0];
    assert!(!tally.disagreements.is_empty(), "{report}");
    let d = &tally.disagreements[0];
    // The shrunk workflow is the smallest one that outputs anything: a lone Succeed state.
    let lone = Workflow {
        body: Seq {
            steps: Vec::new(),
            end: End::Succeed,
        },
    };
    assert_eq!(d.case.workflow, lone, "{report}");
    assert_eq!(
        render(&d.case.workflow).definition,
        json!({"StartAt": "Done1", "States": {"Done1": {"Type": "Succeed"}}})
    );
    assert!(
        d.failure.message.starts_with("flipping disagrees: output"),
        "{}",
        d.failure.message
    );
    assert_eq!(d.write_error, None);
    let dir = d.written.clone().expect("the regression is written");
    assert_eq!(
        dir,
        root.join(differential::regression_name("flipping", &d.case))
    );
    for file in ["scenario.json", "Fuzz.asl.json", "fuzz.history.json"] {
        assert!(
            dir.join(file).is_file(),
            "{file} is missing in {}",
            dir.display()
        );
    }
    assert!(
        !dir.join("mocks.json").exists(),
        "a workflow without tasks needs no mocks"
    );

    let scenario = Scenario::load(&dir, &root).expect("the written scenario loads");
    assert_eq!(scenario.file.executions.len(), 1);
    assert_eq!(scenario.file.executions[0].expect.status, "SUCCEEDED");
    assert_eq!(
        scenario.file.executions[0].expect.output.as_ref(),
        Some(&d.case.input)
    );
    let options = RunOptions::default();
    let here = run_scenario(&scenario, &InProcess, &options);
    assert_eq!(here.verdict, RunVerdict::Pass, "{:?}", here.failures);
    let serve = harness::backend::open("serve").expect("serve runs in this process");
    let there = run_scenario(&scenario, serve.as_ref(), &options);
    assert_eq!(there.verdict, RunVerdict::Pass, "{:?}", there.failures);
    let flipped = run_scenario(&scenario, &Flipping, &options);
    assert_eq!(flipped.verdict, RunVerdict::Fail);
    assert!(
        flipped.failures.iter().any(|f| f.contains("output")),
        "{:?}",
        flipped.failures
    );
    std::fs::remove_dir_all(&root).expect("remove the temp dir");
}

#[test]
fn a_history_that_differs_alone_is_a_disagreement() {
    let lone = Case {
        workflow: Workflow {
            body: Seq {
                steps: Vec::new(),
                end: End::Succeed,
            },
        },
        input: json!({"a": 1, "b": "x", "xs": []}),
        seed: 0,
    };
    match differential::check_case(&lone, &Late) {
        Verdict::Disagreed(m) => {
            assert!(m.starts_with("late disagrees: history"), "{m}");
            assert!(m.contains("timestamp"), "{m}");
        }
        other => panic!("expected a disagreement, got {other:?}"),
    }
    assert_eq!(differential::check_case(&lone, &InProcess), Verdict::Agreed);
}

#[test]
fn a_task_failing_on_every_entry_is_skipped_not_passed() {
    // A task inside a two-round loop that fails its first attempt each time (and is caught):
    // the MockConfigFile's one count per execution cannot say that.
    use conformance::gen::{Catcher, ErrorName, Matcher, Step, TaskMock};
    let task = Step::Task {
        mock: TaskMock {
            fail_first: 1,
            error: ErrorName::A,
            result: 1,
            duration_ms: 0,
        },
        parameters: false,
        selector: false,
        keep_result: true,
        retry: Vec::new(),
        catch: vec![Catcher {
            matcher: Matcher::All,
        }],
    };
    let case = Case {
        workflow: Workflow {
            body: Seq {
                steps: vec![Step::Loop {
                    times: 2,
                    body: vec![task],
                }],
                end: End::Succeed,
            },
        },
        input: json!({"a": 1, "b": "x", "xs": []}),
        seed: 1,
    };
    match differential::check_case(&case, &InProcess) {
        Verdict::Skipped(why) => assert!(why.contains("on each of 2 entries"), "{why}"),
        other => panic!("expected a skip, got {other:?}"),
    }
    // Entered once, the same task fits a MockConfigFile, and serve agrees.
    let mut once = case.clone();
    if let Step::Loop { times, .. } = &mut once.workflow.body.steps[0] {
        *times = 1;
    }
    let serve = harness::backend::open("serve").expect("serve runs in this process");
    assert_eq!(
        differential::check_case(&once, serve.as_ref()),
        Verdict::Agreed
    );
}

/// The summary line of a backend in `stepcheck-fuzz`'s output: (agreed, skipped,
/// disagreements).
fn tally_line(stdout: &str, backend: &str) -> Option<(u64, u64, u64)> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{backend}: ")))?;
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers[..] {
        [a, s, d] => Some((a, s, d)),
        _ => None,
    }
}

#[test]
fn stepcheck_fuzz_prints_its_summary() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stepcheck-fuzz"))
        .args([
            "--cases",
            "20",
            "--seed",
            "7",
            "--backend",
            "in-process,serve",
        ])
        .output()
        .expect("run stepcheck-fuzz");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("20 cases on in-process in "), "{stdout}");
    assert!(first.ends_with(", 0 failure(s)"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("differential: 20 cases in ")),
        "{stdout}"
    );
    let (agreed, skipped, disagreements) = tally_line(&stdout, "serve").expect("a serve line");
    assert_eq!(agreed + skipped, 20, "{stdout}");
    assert_eq!(disagreements, 0, "{stdout}");

    // A backend that is not there is reported as skipped and compares nothing.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stepcheck-fuzz"))
        .args(["--cases", "1", "--backend", "http://127.0.0.1:9"])
        .output()
        .expect("run stepcheck-fuzz");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert_eq!(
        stdout.trim_end(),
        "skipped: http://127.0.0.1:9: nothing listens at http://127.0.0.1:9"
    );
}
