//! The `stepcheck serve` target of issue 9: at least 10,000 StartSyncExecution calls a second
//! for a five-state Express workflow on loopback.
//!
//! ```sh
//! cargo run --release -p stepcheck-harness --example serve_load [CONNECTIONS] [SECONDS] [HOST:PORT]
//! ```
//!
//! Without `HOST:PORT` it starts a server in this process (as `stepcheck bench --backend
//! serve` does); with one it loads a `stepcheck serve` (or any emulator) already running
//! there. It creates an Express state machine of five Pass states, then CONNECTIONS threads
//! (default 4), each on one keep-alive connection, call StartSyncExecution one after the other
//! for SECONDS (default 5), and it prints the calls a second and the latency percentiles.
//!
//! Why a client of its own: `stepcheck bench --backend serve` goes through the AWS SDK, whose
//! request pipeline and signing cost about three times what the server spends on a call
//! (perf, 2026-11-22), and on a 2-core machine the client and the server share the cores. This
//! client writes each request from a fixed template and reads the response by its
//! Content-Length, so nearly all the machine is left to the server. The requests are the ones
//! the SDK sends (awsJson1_0, `X-Amz-Target`), unsigned: `stepcheck serve` does not check
//! signatures.

use harness::serve::{ServeConfig, Server, TimeMode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The allocator of the `stepcheck` binary, so that the server runs as `stepcheck serve` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a successful StartSyncExecution answer holds.
const SUCCEEDED: &[u8] = br#""status":"SUCCEEDED""#;

/// One keep-alive connection that sends awsJson1_0 calls.
struct Connection {
    host: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    body: Vec<u8>,
}

impl Connection {
    fn open(host: &str) -> Result<Connection, Error> {
        let stream = TcpStream::connect(host)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Connection {
            host: host.to_string(),
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            body: Vec::new(),
        })
    }

    /// Calls `operation` with `body` and returns the HTTP status and the response body.
    fn call(&mut self, operation: &str, body: &str) -> Result<(u16, &[u8]), Error> {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AWSStepFunctions.{operation}\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.writer.write_all(request.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not an HTTP status line: {line:?}"))?;
        let mut length = None;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err("the server closed the connection".into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.trim().parse::<usize>()?);
                }
            }
        }
        let length = length.ok_or("a response without Content-Length")?;
        self.body.resize(length, 0);
        self.reader.read_exact(&mut self.body)?;
        Ok((status, &self.body))
    }
}

/// Five Pass states, each with a small Parameters template, as in the issue's figure.
fn five_states() -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..5 {
        let mut state = json!({"Type": "Pass", "Parameters": {"step": i, "id.$": "$.id"}});
        if i < 4 {
            state["Next"] = json!(format!("S{}", i + 1));
        } else {
            state["End"] = json!(true);
        }
        states.insert(format!("S{i}"), state);
    }
    json!({"StartAt": "S0", "States": states})
}

fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at].as_secs_f64() * 1e3
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let connections: usize = args.first().map_or(Ok(4), |s| s.parse())?;
    let seconds: f64 = args.get(1).map_or(Ok(5.0), |s| s.parse())?;
    if connections == 0 || seconds <= 0.0 {
        return Err("CONNECTIONS and SECONDS must be positive".into());
    }
    // A server of our own, unless the caller names one.
    let (server, host) = match args.get(2) {
        Some(host) => (None, host.clone()),
        None => {
            let server = Server::start(ServeConfig {
                port: 0,
                time: TimeMode::Real,
                ..Default::default()
            })?;
            let host = server.addr().to_string();
            (Some(server), host)
        }
    };
    let mut setup = Connection::open(&host)?;
    let name = format!("serve-load-{}", std::process::id());
    let create = json!({
        "name": name,
        "definition": five_states().to_string(),
        "roleArn": "arn:aws:iam::123456789012:role/StepFunctionsRole",
        "type": "EXPRESS",
    });
    let (status, body) = setup.call("CreateStateMachine", &create.to_string())?;
    let created: Value = serde_json::from_slice(body)?;
    let arn = match (status, created["stateMachineArn"].as_str()) {
        (200, Some(arn)) => arn.to_string(),
        _ => return Err(format!("CreateStateMachine answered {status}: {created}").into()),
    };
    let start = json!({"stateMachineArn": arn, "input": "{\"id\":\"x\"}"}).to_string();
    // One untimed call checks that the workflow succeeds at all.
    let (status, body) = setup.call("StartSyncExecution", &start)?;
    let first: Value = serde_json::from_slice(body)?;
    if status != 200 || first["status"] != "SUCCEEDED" {
        return Err(format!("StartSyncExecution answered {status}: {first}").into());
    }

    let stop = AtomicBool::new(false);
    let began = Instant::now();
    let results: Vec<Result<Vec<Duration>, Error>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                let (host, start, stop) = (&host, &start, &stop);
                scope.spawn(move || -> Result<Vec<Duration>, Error> {
                    let mut connection = Connection::open(host)?;
                    let mut latencies = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        let (status, body) = connection.call("StartSyncExecution", start)?;
                        // The status field, found without parsing the whole answer.
                        let succeeded = body.windows(SUCCEEDED.len()).any(|w| w == SUCCEEDED);
                        if status != 200 || !succeeded {
                            return Err(format!(
                                "StartSyncExecution answered {status}: {}",
                                String::from_utf8_lossy(body)
                            )
                            .into());
                        }
                        latencies.push(t.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let elapsed = began.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    for r in results {
        latencies.extend(r?);
    }
    latencies.sort_unstable();
    let calls = latencies.len();
    if calls == 0 {
        return Err("no call ended in the time given".into());
    }
    let _ = setup.call(
        "DeleteStateMachine",
        &json!({"stateMachineArn": arn}).to_string(),
    );
    println!(
        "{calls} StartSyncExecution calls (all SUCCEEDED) in {elapsed:.2} s over {connections} connections: {:.0} calls/s (target 10,000); latency p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms",
        calls as f64 / elapsed,
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.9),
        percentile_ms(&latencies, 0.99),
    );
    if let Some(server) = server {
        server.shutdown();
    }
    Ok(())
}
