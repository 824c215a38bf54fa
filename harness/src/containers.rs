//! Emulators in containers, started by testcontainers: LocalStack
//! (`localstack/localstack`, through testcontainers-modules) and AWS Step Functions Local
//! (`amazon/aws-stepfunctions-local`). Each scenario gets a container of its own with the
//! scenario's MockConfigFile mounted and `SFN_MOCK_CONFIG` pointing at it, so mocks work as
//! they do for users of those emulators; the container is removed when the session ends.
//! Where no Docker engine runs, the backends are reported as skipped with that reason.

use crate::backend::{Backend, BackendError, BackendFactory, Capabilities, SessionSetup};
use crate::sdk::{Sdk, SdkTarget};
use std::path::PathBuf;

use testcontainers_modules::localstack::LocalStack;
use testcontainers_modules::testcontainers::core::{IntoContainerPort, Mount, WaitFor};
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerRequest, GenericImage, ImageExt};

/// Which image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Image {
    /// `localstack/localstack` (testcontainers-modules' pinned tag).
    LocalStack,
    /// `amazon/aws-stepfunctions-local:latest`.
    StepFunctionsLocal,
}

impl Image {
    /// The backend's name.
    pub fn name(self) -> &'static str {
        match self {
            Image::LocalStack => "localstack-container",
            Image::StepFunctionsLocal => "sfn-local-container",
        }
    }
}

/// Why no container can run here, when none can.
pub fn docker_missing() -> Option<String> {
    match std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
    {
        Err(e) => Some(format!("no docker command ({e})")),
        Ok(out) if !out.status.success() => Some(format!(
            "no Docker engine runs here (docker info: {})",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => None,
    }
}

/// A container backend: an SDK backend whose endpoint is a fresh container per scenario.
#[derive(Debug)]
pub struct Containers {
    image: Image,
    sdk: Sdk,
}

impl Containers {
    /// The backend, when Docker runs here.
    pub fn new(image: Image) -> Result<Containers, crate::backend::OpenError> {
        use crate::backend::OpenError;
        if let Some(reason) = docker_missing() {
            return Err(OpenError::Absent {
                backend: image.name().to_string(),
                reason,
            });
        }
        let target = SdkTarget::per_session(
            image.name(),
            Capabilities {
                virtual_time: false,
                mocks: true,
                express_history: false,
                task_tokens: true,
                validation: false,
            },
        );
        let sdk = Sdk::new(target).map_err(|e| OpenError::Failed(e.to_string()))?;
        Ok(Containers { image, sdk })
    }
}

/// A started container, of whichever image.
type Started = Box<dyn std::any::Any + Send>;

impl BackendFactory for Containers {
    fn name(&self) -> &str {
        self.image.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.sdk.target().capabilities
    }

    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        let fail = |e: String| BackendError::new("ContainerError", e);
        let mock_file: Option<PathBuf> = match &setup.mock_config {
            Some(text) => {
                let path = std::env::temp_dir().join(format!(
                    "stepcheck-mock-{}-{}.json",
                    std::process::id(),
                    crate::sdk::new_run_prefix().trim_end_matches('-')
                ));
                std::fs::write(&path, text).map_err(|e| fail(e.to_string()))?;
                Some(path)
            }
            None => None,
        };
        let image = self.image;
        let mounted = mock_file.as_deref();
        let started = self.sdk.runtime.block_on(async move {
            match image {
                Image::LocalStack => {
                    let req = LocalStack::default().with_env_var("SERVICES", "stepfunctions");
                    start(req, mounted, 4566).await
                }
                Image::StepFunctionsLocal => {
                    let req = GenericImage::new("amazon/aws-stepfunctions-local", "latest")
                        .with_exposed_port(8083.tcp())
                        .with_wait_for(WaitFor::message_on_stdout("Starting server on port 8083"))
                        .with_env_var("AWS_DEFAULT_REGION", "us-east-1")
                        .with_env_var("AWS_ACCOUNT_ID", "123456789012");
                    start(req, mounted, 8083).await
                }
            }
        });
        let (container, port) = started.map_err(fail)?;
        let session = self
            .sdk
            .session_at(&format!("http://127.0.0.1:{port}"), None)?;
        // The session keeps the container; removing it is testcontainers' drop.
        Ok(Box::new(session.holding(container)))
    }
}

/// Starts a container with the scenario's MockConfigFile (if any) mounted where
/// `SFN_MOCK_CONFIG` points, and answers the host port of its API.
async fn start<I: testcontainers_modules::testcontainers::Image + 'static>(
    request: ContainerRequest<I>,
    mock_file: Option<&std::path::Path>,
    api_port: u16,
) -> Result<(Started, u16), String> {
    let request = match mock_file {
        Some(p) => request
            .with_env_var("SFN_MOCK_CONFIG", "/stepcheck/mocks.json")
            .with_mount(Mount::bind_mount(
                p.to_string_lossy().into_owned(),
                "/stepcheck/mocks.json",
            )),
        None => request,
    };
    let c = request.start().await.map_err(|e| e.to_string())?;
    let port = c
        .get_host_port_ipv4(api_port)
        .await
        .map_err(|e| e.to_string())?;
    Ok((Box::new(c), port))
}
