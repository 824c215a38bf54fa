//! Property-based conformance of the in-process engine: generated workflows (see
//! `conformance::gen`) must keep the history invariants and the metamorphic relations, and
//! each deliberate fault of the engine's `faults` feature must be caught and shrunk to a
//! small workflow.
//!
//! The quick budget is 64 cases per property; `PROPTEST_CASES` or `STEPCHECK_PROP_CASES`
//! sets another. Failing cases are kept in `proptest-regressions/` and replayed first.

use conformance::fuzz::{check_case, minimize, InProcess};
use conformance::gen::{self, dataflow, render, Case, Limits};
use conformance::{check, relations, run};
use engine::{Definition, Event, EventId, EventKind, Fault, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::json;

/// The cases per property: `PROPTEST_CASES` (which proptest reads itself), else
/// `STEPCHECK_PROP_CASES`, else 64.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .or_else(|_| std::env::var("STEPCHECK_PROP_CASES"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

fn cases_strategy() -> impl Strategy<Value = Case> {
    gen::case(Limits::default())
}

proptest! {
    #![proptest_config(config())]

    /// Every generated definition validates, compiles, and is the same after a
    /// serialize/parse round trip.
    #[test]
    fn generated_definitions_are_valid(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let text = rendered.text();
        prop_assert_eq!(engine::validate(&text), vec![]);
        prop_assert!(Definition::parse(&text).is_ok());
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, rendered.definition);
    }

    /// Every one-edit simplification the minimizer tries is a valid workflow too, so a
    /// minimized counterexample never fails for being invalid.
    #[test]
    fn simplifications_are_valid(c in cases_strategy()) {
        // A few variants spread over the list keep the quick budget quick.
        let all = gen::simpler(&c);
        let stride = (all.len() / 4).max(1);
        for simpler in all.into_iter().step_by(stride) {
            let text = render(&simpler.workflow).text();
            prop_assert_eq!(engine::validate(&text), vec![], "{}", text);
        }
    }

    /// Executions end within the step budget without panicking, and their histories keep
    /// every invariant (ids, links, one start and one end, Entered/Exited, nothing after a
    /// join, retries and backoff, Map concurrency).
    #[test]
    fn histories_are_well_formed(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let options = run::RunOptions { seed: c.seed, ..run::RunOptions::default() };
        let result = run::run(&rendered, &c.input, options);
        prop_assert!(result.is_ok(), "{:?}", result.err());
        let result = result.unwrap();
        let verdict = check::history(&rendered, &result);
        prop_assert!(verdict.is_ok(), "{}\n{}", verdict.unwrap_err(), rendered.text());
    }

    /// The same seed replays the same history.
    #[test]
    fn same_seed_same_history(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let verdict = relations::same_seed_same_history(&rendered, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// Other scheduler seeds never change the output of a workflow without races.
    #[test]
    fn seeds_do_not_change_outputs(c in cases_strategy(), other in any::<u64>()) {
        let rendered = render(&c.workflow);
        let verdict = relations::seeds_agree(&c.workflow, &rendered, &c.input, (c.seed, other));
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// Retry with MaxAttempts 0 records the same history as no Retry.
    #[test]
    fn retry_max_attempts_zero_is_no_retry(c in cases_strategy()) {
        let verdict = relations::retry_zero_is_no_retry(&c.workflow, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// Standard and Express agree on status, output and error.
    #[test]
    fn standard_and_express_agree(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let verdict = relations::standard_is_express(&c.workflow, &rendered, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// A Parallel of one branch gives `[output]`.
    #[test]
    fn parallel_of_one_branch_wraps_the_output(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let verdict = relations::parallel_of_one(&c.workflow, &rendered, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// A Map over `[x]` gives `[f(x)]`.
    #[test]
    fn map_over_one_item_wraps_the_output(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let verdict = relations::map_of_one(&c.workflow, &rendered, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// The workflow as a `.sync:2` child of a one-state parent gives the same output.
    #[test]
    fn sync2_child_gives_the_same_output(c in cases_strategy()) {
        let rendered = render(&c.workflow);
        let verdict = relations::sync2_child(&c.workflow, &rendered, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// Tasks answered by scripted callers (`.waitForTaskToken`) at the mocks' instants give
    /// the same outcome as the mocks.
    #[test]
    fn callbacks_equal_mocks(
        c in cases_strategy().prop_filter("the relation skips Parallel and Map", |c| {
            !c.workflow.has_concurrency()
        })
    ) {
        let verdict = relations::callbacks_equal_mocks(&c.workflow, &c.input, c.seed);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// A JSONPath data-flow state and its JSONata formulation give the same output.
    #[test]
    fn jsonpath_and_jsonata_agree(flow in dataflow::flow(), input in dataflow::input()) {
        let verdict = relations::jsonpath_is_jsonata(&flow, &input);
        prop_assert!(
            verdict.is_ok(),
            "{}\n{}\n{}",
            verdict.unwrap_err(),
            flow.jsonpath(),
            flow.jsonata()
        );
    }
}

/// The most states a shrunk counterexample of a fault may have.
const SMALL: usize = 6;

/// The cases the fault test generates per fault, from a fixed seed so that what it prints
/// is reproducible.
const FAULT_CASES: u32 = 256;

/// Each deliberate fault is caught within the quick budget, and shrinks to a small workflow,
/// which is printed (`cargo test -- --nocapture` shows it).
#[test]
fn faults_are_caught() {
    for fault in Fault::ALL {
        let mut runner = TestRunner::new_with_rng(
            ProptestConfig {
                cases: FAULT_CASES,
                failure_persistence: None,
                ..ProptestConfig::default()
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let prepare = move |e: engine::Execution| e.with_fault(fault);
        let check = |c: &Case| check_case(&mut InProcess, c, Some(&prepare)).map(|_| ());
        let outcome = runner.run(&cases_strategy(), |c| {
            check(&c).map_err(TestCaseError::fail)
        });
        let Err(TestError::Fail(reason, shrunk)) = outcome else {
            panic!("{fault:?} was not caught: {outcome:?}");
        };
        let (small, reason) = minimize(shrunk, reason.to_string(), check);
        let states = small.workflow.state_count();
        let rendered = render(&small.workflow);
        println!(
            "{fault:?} caught: {reason}\ninput: {}  seed: {}  states: {states}\n{}{}\n",
            small.input,
            small.seed,
            rendered.mocks_text(),
            rendered.text()
        );
        assert!(
            states <= SMALL,
            "{fault:?} shrank to {states} states, more than {SMALL}"
        );
    }
}

/// The campaign runs, counts, and finds nothing on the healthy engine.
#[test]
fn a_small_campaign_is_clean() {
    let report = conformance::fuzz::campaign(16, 7);
    assert_eq!(report.cases, 16);
    assert!(report.failures.is_empty(), "{report}");
    assert!(report.events > 16 * 3, "{report}");
    // The generated workflows both succeed and fail (Fail states, uncaught task errors).
    assert!(
        report.succeeded > 0 && report.succeeded < report.cases,
        "{report}"
    );
}

// The checks must be able to fail: each is shown a broken history.

fn event(id: u64, prev: u64, kind: EventKind) -> Event {
    Event {
        id: EventId(id),
        previous_event_id: EventId(prev),
        timestamp: Timestamp(0),
        kind,
    }
}

fn started() -> EventKind {
    EventKind::ExecutionStarted {
        input: "{}".into(),
        role_arn: "r".into(),
    }
}

#[test]
fn ids_and_links_reject_a_forward_link_and_a_gap() {
    let ok = [
        event(1, 0, started()),
        event(2, 1, EventKind::ParallelStateStarted),
    ];
    assert_eq!(check::ids_and_links(&ok), Ok(()));
    let forward = [
        event(1, 0, started()),
        event(2, 2, EventKind::ParallelStateStarted),
    ];
    assert_eq!(
        check::ids_and_links(&forward),
        Err("#2 ParallelStateStarted follows #2, not an earlier event".into())
    );
    let gap = [
        event(1, 0, started()),
        event(3, 1, EventKind::ParallelStateStarted),
    ];
    assert_eq!(check::ids_and_links(&gap), Err("event 2 has id 3".into()));
}

#[test]
fn nothing_after_join_rejects_a_branch_event_after_the_join() {
    let entered = |name: &str| EventKind::StateEntered {
        state_type: "Pass",
        name: name.into(),
        input: "{}".into(),
    };
    let h = [
        event(1, 0, started()),
        event(2, 1, EventKind::ParallelStateStarted),
        event(3, 2, entered("A")),
        event(4, 2, entered("B")),
        event(5, 3, EventKind::ParallelStateFailed),
        event(6, 4, entered("C")),
    ];
    assert_eq!(
        check::nothing_after_join(&h),
        Err("#6 PassStateEntered is recorded in a branch of #2 ParallelStateStarted after it joined at #5 ParallelStateFailed".into())
    );
    assert_eq!(check::nothing_after_join(&h[..5]), Ok(()));
}

#[test]
fn the_retry_check_counts_attempts_against_the_model() {
    // A task that fails twice with Err.A under a retrier allowing one retry makes two
    // attempts; a history with one attempt is refused.
    let w = gen::Workflow {
        body: gen::Seq {
            steps: vec![gen::Step::Task {
                mock: gen::TaskMock {
                    fail_first: 2,
                    error: gen::ErrorName::A,
                    result: 1,
                    duration_ms: 0,
                },
                parameters: false,
                selector: false,
                keep_result: true,
                retry: vec![gen::Retrier {
                    matcher: gen::Matcher::All,
                    interval_seconds: 1,
                    max_attempts: 1,
                    backoff_tenths: 20,
                    max_delay_seconds: None,
                }],
                catch: vec![],
            }],
            end: gen::End::Succeed,
        },
    };
    let rendered = render(&w);
    let result = run::run(
        &rendered,
        &json!({"a": 1, "b": "x", "xs": []}),
        run::RunOptions::default(),
    )
    .unwrap();
    assert_eq!(check::retries(&rendered, &result.history), Ok(()));
    assert_eq!(result.error.as_deref(), Some("Err.A"));
    // Cut the history after the first failure and end the execution there: one attempt
    // where two are due.
    let first_failure = result
        .history
        .iter()
        .position(|e| matches!(e.kind, EventKind::LambdaFunctionFailed { .. }))
        .unwrap();
    let mut cut = result.history[..=first_failure].to_vec();
    let failed = EventKind::ExecutionFailed {
        error: Some("Err.A".into()),
        cause: None,
    };
    cut.push(event(cut.len() as u64 + 1, cut.len() as u64, failed));
    assert_eq!(
        check::retries(&rendered, &cut),
        Err("'Task2' (entered at #2) made 1 attempt(s); its mock and Retry allow 2".into())
    );
    // Without the end, the attempt was cut short (an abort during the backoff): allowed.
    assert_eq!(check::retries(&rendered, &cut[..cut.len() - 1]), Ok(()));
}
