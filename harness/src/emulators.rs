//! Local emulators as processes, no Docker needed: moto_server and LocalStack in host mode,
//! installed by `harness/scripts/install-emulators.sh` into the tools directory
//! (`STEPCHECK_TOOLS`, default `~/.cache/stepcheck`). The harness starts one on a free
//! loopback port, waits until it answers, and stops it when the run ends.

use crate::backend::BackendError;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Emulator {
    /// moto_server (PyPI `moto[server]`).
    Moto,
    /// LocalStack in host mode (PyPI `localstack-core[runtime]`).
    LocalStack,
}

impl Emulator {
    /// The emulator a backend name stands for.
    pub fn named(name: &str) -> Option<Emulator> {
        match name {
            "moto" => Some(Emulator::Moto),
            "localstack" => Some(Emulator::LocalStack),
            _ => None,
        }
    }

    /// The environment variable that points the harness at a running instance.
    pub fn endpoint_var(self) -> &'static str {
        match self {
            Emulator::Moto => "MOTO_ENDPOINT",
            Emulator::LocalStack => "LOCALSTACK_ENDPOINT",
        }
    }

    /// The endpoint of a running instance: the environment variable's, else the port the
    /// emulator listens on by default.
    pub fn running_endpoint(self) -> String {
        std::env::var(self.endpoint_var()).unwrap_or_else(|_| {
            match self {
                Emulator::Moto => "http://127.0.0.1:5000",
                Emulator::LocalStack => "http://127.0.0.1:4566",
            }
            .to_string()
        })
    }

    /// Its backend name.
    pub fn name(self) -> &'static str {
        match self {
            Emulator::Moto => "moto",
            Emulator::LocalStack => "localstack",
        }
    }
}

/// The directory the install script puts the emulators in.
pub fn tools_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("STEPCHECK_TOOLS") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("stepcheck")
}

/// A running emulator process; dropping it stops the process.
#[derive(Debug)]
pub struct EmulatorProcess {
    emulator: Emulator,
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl EmulatorProcess {
    /// The emulator's command, when it is installed under `tools`.
    fn command(emulator: Emulator, tools: &Path) -> Option<Command> {
        match emulator {
            Emulator::Moto => {
                let bin = tools.join("moto-venv/bin/moto_server");
                bin.exists().then(|| Command::new(bin))
            }
            Emulator::LocalStack => {
                let python = tools.join("localstack-venv/bin/python");
                python.exists().then(|| {
                    let mut c = Command::new(python);
                    c.args(["-m", "localstack.runtime.main"]);
                    c
                })
            }
        }
    }

    /// Whether the emulator is installed.
    pub fn installed(emulator: Emulator) -> bool {
        Self::command(emulator, &tools_dir()).is_some()
    }

    /// Starts the emulator on a free loopback port and waits until it serves Step Functions.
    /// An emulator that is not installed is an error whose message says how to install it.
    pub fn start(emulator: Emulator) -> Result<EmulatorProcess, BackendError> {
        let tools = tools_dir();
        let mut command = Self::command(emulator, &tools).ok_or_else(|| {
            BackendError::new(
                "NotInstalled",
                format!(
                    "{} is not installed under {} (run harness/scripts/install-emulators.sh {})",
                    emulator.name(),
                    tools.display(),
                    emulator.name()
                ),
            )
        })?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| BackendError::new("PortError", e.to_string()))?;
        let log = std::env::temp_dir().join(format!("stepcheck-{}-{port}.log", emulator.name()));
        let out = std::fs::File::create(&log)
            .map_err(|e| BackendError::new("LogError", format!("{}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| BackendError::new("LogError", e.to_string()))?;
        match emulator {
            Emulator::Moto => {
                // moto builds the URLs it hands out from MOTO_PORT, which must equal the port.
                command
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .env("MOTO_PORT", port.to_string());
            }
            Emulator::LocalStack => {
                let data = std::env::temp_dir().join(format!("stepcheck-localstack-{port}"));
                command
                    .env(
                        "SERVICES",
                        "stepfunctions,sqs,sns,dynamodb,lambda,s3,events",
                    )
                    .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
                    .env("LOCALSTACK_VOLUME_DIR", &data)
                    .env("FILESYSTEM_ROOT", &data);
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| BackendError::new("SpawnError", format!("{}: {e}", emulator.name())))?;
        let mut process = EmulatorProcess {
            emulator,
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        process.wait_ready(port)?;
        Ok(process)
    }

    /// The emulator's backend name.
    pub fn name(&self) -> &'static str {
        self.emulator.name()
    }

    /// The emulator's endpoint URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn wait_ready(&mut self, port: u16) -> Result<(), BackendError> {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BackendError::new(
                    "EmulatorExited",
                    format!(
                        "{} exited ({status}) before it was ready; its log: {}",
                        self.emulator.name(),
                        self.log.display()
                    ),
                ));
            }
            let ready = match self.emulator {
                Emulator::Moto => http(port, "GET", "/moto-api/", "").is_ok(),
                Emulator::LocalStack => {
                    http(port, "GET", "/_localstack/health", "").is_ok_and(|b| {
                        b.contains("\"stepfunctions\": \"available\"")
                            || b.contains("\"stepfunctions\":\"available\"")
                            || b.contains("\"stepfunctions\": \"running\"")
                            || b.contains("\"stepfunctions\":\"running\"")
                    })
                }
            };
            if ready {
                break;
            }
            if Instant::now() >= deadline {
                return Err(BackendError::new(
                    "EmulatorTimeout",
                    format!(
                        "{} was not ready after 180 s; its log: {}",
                        self.emulator.name(),
                        self.log.display()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        if self.emulator == Emulator::Moto {
            // moto only records state machines unless told to run them.
            http(
                port,
                "POST",
                "/moto-api/config",
                r#"{"stepfunctions":{"execute_state_machine":true}}"#,
            )
            .map_err(|e| BackendError::new("EmulatorConfig", e))?;
        }
        Ok(())
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plain HTTP/1.1 request on loopback; the body of a 2xx answer.
fn http(port: u16, method: &str, path: &str, body: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    let status = answer.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') {
        return Err(format!("{method} {path}: HTTP {status}"));
    }
    Ok(answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default())
}
