//! A minimal client of the Step Functions API for `stepcheck bench --client raw`: unsigned
//! awsJson1_0 requests (`POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`, the JSON
//! body the SDKs send) over one keep-alive HTTP/1.1 connection, answers read by their
//! Content-Length.
//!
//! Why: the AWS SDK's request pipeline and SigV4 signing cost about three times what
//! `stepcheck serve` spends on a StartSyncExecution of a five-state workflow (perf,
//! 2026-11-22: 76 % of the samples in the client's threads), and on a small machine the
//! client and the server share the cores, so a benchmark through the SDK measures the
//! client. This one costs a formatted request and a JSON parse of the answer. It works with
//! endpoints that do not check signatures (`stepcheck serve`, moto, LocalStack) over plain
//! HTTP; real AWS needs the SDK.

use crate::backend::BackendError;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a call may wait for its answer.
const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// An `Authorization` header of the SDKs' form whose signature nobody this client talks to
/// checks, for a call in `region`. Emulators that serve many AWS services on one port route
/// a request by the service in its credential scope (without it moto answered a Step
/// Functions call as S3, and waited for more of the request), and keep each region's
/// resources apart by the region there.
fn authorization(region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=stepcheck/20260101/{region}/states/aws4_request, SignedHeaders=host;x-amz-target, Signature={}",
        "0".repeat(64)
    )
}

/// The region of an ARN (`arn:aws:states:REGION:...`), or `us-east-1` for anything else.
fn region_of(arn: &str) -> &str {
    arn.split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
}

/// One keep-alive connection to a Step Functions API endpoint.
pub(crate) struct RawClient {
    /// `host:port`, for the `Host` header.
    host: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// The request being written, reused from call to call.
    request: Vec<u8>,
    /// The answer's body, reused from call to call.
    body: Vec<u8>,
    /// Whether the server said it closes the connection after its answer (`Connection:
    /// close`, as moto's server does): the next call connects again.
    closed: bool,
}

/// `host:port` of an `http://` endpoint URL; an error naming the URL for anything else.
pub(crate) fn host_of(endpoint: &str) -> Result<String, String> {
    let rest = endpoint.strip_prefix("http://").ok_or_else(|| {
        format!("--client raw speaks plain HTTP; {endpoint} is not an http:// endpoint")
    })?;
    let host = rest.split('/').next().unwrap_or(rest);
    if host.is_empty() {
        return Err(format!("{endpoint} names no host"));
    }
    // Without a port, HTTP's.
    Ok(if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    })
}

fn io_error(host: &str, e: std::io::Error) -> BackendError {
    BackendError::new("ConnectionError", format!("{host}: {e}"))
}

impl RawClient {
    /// Connects to `host` (`host:port`).
    pub(crate) fn connect(host: &str) -> Result<RawClient, BackendError> {
        let stream = TcpStream::connect(host).map_err(|e| io_error(host, e))?;
        // Requests are written whole; waiting to fill a packet would only add latency.
        stream.set_nodelay(true).map_err(|e| io_error(host, e))?;
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| io_error(host, e))?;
        let reader = stream.try_clone().map_err(|e| io_error(host, e))?;
        Ok(RawClient {
            host: host.to_string(),
            reader: BufReader::new(reader),
            writer: stream,
            request: Vec::new(),
            body: Vec::new(),
            closed: false,
        })
    }

    /// Calls `operation` with `body` on the resources of the region of `arn` (see
    /// [`region_of`]); the answer's JSON, or the API's error (`__type` without its
    /// namespace, and `message`).
    pub(crate) fn call(
        &mut self,
        operation: &str,
        arn: &str,
        body: &Value,
    ) -> Result<Value, BackendError> {
        if self.closed {
            *self = RawClient::connect(&self.host)?;
        }
        let payload = body.to_string();
        self.request.clear();
        // Writing into a Vec cannot fail.
        let _ = write!(
            self.request,
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AWSStepFunctions.{operation}\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{payload}",
            self.host,
            authorization(region_of(arn)),
            payload.len()
        );
        self.writer
            .write_all(&self.request)
            .map_err(|e| io_error(&self.host, e))?;
        let (status, length) = self.read_head()?;
        self.body.resize(length, 0);
        self.reader
            .read_exact(&mut self.body)
            .map_err(|e| io_error(&self.host, e))?;
        let value: Value = serde_json::from_slice(&self.body).map_err(|e| {
            BackendError::new(
                "InvalidResponse",
                format!(
                    "{operation}: the answer ({status}) is not JSON ({e}): {}",
                    String::from_utf8_lossy(&self.body)
                ),
            )
        })?;
        if status == 200 {
            return Ok(value);
        }
        let code = value["__type"]
            .as_str()
            .map_or("HttpError", |t| t.rsplit('#').next().unwrap_or(t));
        let message = value["message"]
            .as_str()
            .or_else(|| value["Message"].as_str())
            .unwrap_or("");
        Err(BackendError::new(
            code,
            format!("{operation} answered {status}: {message}"),
        ))
    }

    /// Reads the status line and the headers; the status and the body's length.
    fn read_head(&mut self) -> Result<(u16, usize), BackendError> {
        self.closed = false;
        let mut line = String::new();
        let read = self
            .reader
            .read_line(&mut line)
            .map_err(|e| io_error(&self.host, e))?;
        if read == 0 {
            return Err(BackendError::new(
                "ConnectionError",
                format!("{} closed the connection", self.host),
            ));
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                BackendError::new(
                    "InvalidResponse",
                    format!("not an HTTP status line: {line:?}"),
                )
            })?;
        let mut length = None;
        loop {
            line.clear();
            let read = self
                .reader
                .read_line(&mut line)
                .map_err(|e| io_error(&self.host, e))?;
            let header = line.trim_end();
            if read == 0 || header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("connection") {
                    self.closed = value.trim().eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(BackendError::new(
                        "InvalidResponse",
                        format!("{} answered with Transfer-Encoding {}; --client raw reads Content-Length only", self.host, value.trim()),
                    ));
                }
            }
        }
        let length = length.ok_or_else(|| {
            BackendError::new(
                "InvalidResponse",
                format!("{} answered without a Content-Length", self.host),
            )
        })?;
        Ok((status, length))
    }

    /// StartSyncExecution; the execution's status.
    pub(crate) fn start_sync_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> Result<String, BackendError> {
        let answer = self.start("StartSyncExecution", state_machine_arn, name, input)?;
        status_of(&answer)
    }

    /// StartExecution; the execution's ARN.
    pub(crate) fn start_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> Result<String, BackendError> {
        let answer = self.start("StartExecution", state_machine_arn, name, input)?;
        answer["executionArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                BackendError::new(
                    "InvalidResponse",
                    format!("StartExecution answered no executionArn: {answer}"),
                )
            })
    }

    /// StartExecution or StartSyncExecution: the same request.
    fn start(
        &mut self,
        operation: &str,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> Result<Value, BackendError> {
        self.call(
            operation,
            state_machine_arn,
            &json!({"stateMachineArn": state_machine_arn, "name": name, "input": input}),
        )
    }

    /// DescribeExecution; the execution's status.
    pub(crate) fn describe_execution(
        &mut self,
        execution_arn: &str,
    ) -> Result<String, BackendError> {
        let answer = self.call(
            "DescribeExecution",
            execution_arn,
            &json!({"executionArn": execution_arn}),
        )?;
        status_of(&answer)
    }
}

fn status_of(answer: &Value) -> Result<String, BackendError> {
    answer["status"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| {
            BackendError::new(
                "InvalidResponse",
                format!("an answer without a status: {answer}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::{host_of, RawClient};
    use crate::serve::{ServeConfig, Server};
    use serde_json::json;

    /// Every call the benchmark makes, and the API's errors as codes, against a server in
    /// this process.
    #[test]
    fn calls_and_errors_against_serve() {
        let server = Server::start(ServeConfig {
            port: 0,
            ..Default::default()
        })
        .unwrap();
        let host = host_of(&server.url()).unwrap();
        let mut c = RawClient::connect(&host).unwrap();
        let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Parameters": {"got.$": "$.n"}, "End": true}}})
        .to_string();
        let role = "arn:aws:iam::123456789012:role/R";
        let mut create = |name: &str, kind: &str| {
            c.call(
                "CreateStateMachine",
                "",
                &json!({"name": name, "definition": definition, "roleArn": role, "type": kind}),
            )
            .unwrap()["stateMachineArn"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let express = create("e", "EXPRESS");
        let standard = create("s", "STANDARD");
        // One connection carries every call.
        for i in 0..3 {
            let name = format!("x{i}");
            assert_eq!(
                c.start_sync_execution(&express, &name, r#"{"n": 1}"#)
                    .unwrap(),
                "SUCCEEDED"
            );
        }
        let arn = c.start_execution(&standard, "one", r#"{"n": 2}"#).unwrap();
        assert!(arn.ends_with(":execution:s:one"), "{arn}");
        assert_eq!(c.describe_execution(&arn).unwrap(), "SUCCEEDED");
        let e = c.start_sync_execution(&standard, "two", "{}").unwrap_err();
        assert_eq!(e.code, "StateMachineTypeNotSupported");
        assert_eq!(
            e.message,
            "StartSyncExecution answered 400: This operation is not supported by this type of state machine"
        );
        let e = c.describe_execution("nope").unwrap_err();
        assert_eq!(e.code, "InvalidArn");
        // The connection is still good after errors.
        assert_eq!(c.describe_execution(&arn).unwrap(), "SUCCEEDED");
        server.shutdown();
    }

    /// A server that closes each connection after its answer (moto's does) gets a new
    /// connection for the next call, and every request names the service and the region in
    /// its credential scope, by which moto routes it.
    #[test]
    fn a_server_that_closes_gets_a_new_connection_and_requests_name_the_service() {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for _ in 0..2 {
                let (stream, _) = listener.accept().unwrap();
                // A client that sends nothing fails the test in seconds rather than hanging it.
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                requests.push((head, String::from_utf8(body).unwrap()));
                let answer = r#"{"status":"SUCCEEDED"}"#;
                let mut stream = stream;
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .unwrap();
            }
            requests
        });
        let mut c = RawClient::connect(&host).unwrap();
        let arns = [
            "arn:aws:states:us-east-1:123456789012:execution:m:a",
            "arn:aws:states:eu-west-1:123456789012:execution:m:b",
        ];
        for arn in arns {
            assert_eq!(c.describe_execution(arn).unwrap(), "SUCCEEDED");
        }
        let requests = server.join().unwrap();
        assert_eq!(requests.len(), 2);
        for (i, (head, body)) in requests.iter().enumerate() {
            assert!(head.starts_with("POST / HTTP/1.1\r\n"), "{head}");
            assert!(
                head.contains("X-Amz-Target: AWSStepFunctions.DescribeExecution\r\n"),
                "{head}"
            );
            // The service, and the region of the ARN the call is about.
            let region = ["us-east-1", "eu-west-1"][i];
            assert!(
                head.contains(&format!(
                    "Credential=stepcheck/20260101/{region}/states/aws4_request"
                )),
                "{head}"
            );
            assert_eq!(body, &format!(r#"{{"executionArn":"{}"}}"#, arns[i]));
        }
    }

    #[test]
    fn endpoints_are_plain_http_with_a_host() {
        assert_eq!(
            host_of("http://127.0.0.1:8083"),
            Ok("127.0.0.1:8083".into())
        );
        assert_eq!(
            host_of("http://localhost:4566/"),
            Ok("localhost:4566".into())
        );
        assert_eq!(host_of("http://example.com"), Ok("example.com:80".into()));
        assert_eq!(
            host_of("https://states.us-east-1.amazonaws.com"),
            Err("--client raw speaks plain HTTP; https://states.us-east-1.amazonaws.com is not an http:// endpoint".into())
        );
        assert_eq!(host_of("http://"), Err("http:// names no host".into()));
    }
}
