//! A run on a shared backend leaves nothing behind: interrupted with Ctrl-C it deletes what it
//! created before it exits, and after a kill `stepcheck cleanup` finds the leftovers by their
//! run prefix. Tested on `stepcheck serve` (in-process, loopback), driven as a wall-clock
//! endpoint so that the run sits waiting for a callback 29 s away.

use harness::serve::{ServeConfig, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn call(server: &Server, op: &str, body: Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(server.addr()).expect("connect");
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").expect("a header and a body");
    serde_json::from_str(body).expect("a JSON body")
}

fn machine_names(server: &Server) -> Vec<String> {
    call(server, "ListStateMachines", json!({}))["stateMachines"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

/// Starts `stepcheck run` on the fixture against the server and waits until its state
/// machine exists.
fn start_run(server: &Server) -> Child {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow");
    let child = Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .arg("run")
        .arg(&fixture)
        .args(["--backend", &server.url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stepcheck runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while machine_names(server).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the run never created its machine"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The execution has started and waits for its callback.
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{name}");
}

#[test]
fn an_interrupted_run_deletes_what_it_created() {
    let server = Server::start(ServeConfig {
        port: 0,
        ..Default::default()
    })
    .unwrap();
    let child = start_run(&server);
    let names = machine_names(&server);
    assert_eq!(names.len(), 1);
    assert!(
        names[0].starts_with("stepcheck-") && names[0].ends_with("-0-Waiter"),
        "named under the run prefix: {names:?}"
    );
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("1 resources deleted"), "stderr: {stderr}");
    assert_eq!(machine_names(&server), Vec::<String>::new());
}

#[test]
fn cleanup_finds_what_a_killed_run_left() {
    let server = Server::start(ServeConfig {
        port: 0,
        ..Default::default()
    })
    .unwrap();
    let mut child = start_run(&server);
    signal(&child, "KILL");
    child.wait().unwrap();
    let left = machine_names(&server);
    assert_eq!(left.len(), 1, "a killed run cannot clean up: {left:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .args(["cleanup", "--backend", &server.url()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("1 state machines and 0 activities deleted"),
        "{stdout}"
    );
    assert_eq!(machine_names(&server), Vec::<String>::new());
    // The execution that waited was stopped, not left running.
    let machine_arn = format!(
        "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
        left[0]
    );
    let described = call(
        &server,
        "DescribeStateMachine",
        json!({"stateMachineArn": machine_arn}),
    );
    assert_eq!(
        described["__type"]
            .as_str()
            .map(|t| t.ends_with("StateMachineDoesNotExist")),
        Some(true),
        "{described}"
    );
}
