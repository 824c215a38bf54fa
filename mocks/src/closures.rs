//! Rust closures as Task handlers: [`FnHandler`], [`Handlers`], and [`Delayed`].

use std::collections::HashMap;
use std::fmt;

use engine::{TaskHandler, TaskHandlerError, TaskRequest, TaskResponse};

/// A [`TaskHandler`] made from one closure that answers every Task state.
///
/// ```
/// use engine::{TaskHandler, TaskResponse};
/// use mocks::FnHandler;
/// let mut h = FnHandler::new(|req| Ok(TaskResponse::success(req.parameters.clone())));
/// # let _ = &mut h;
/// ```
pub struct FnHandler<F> {
    f: F,
}

impl<F> FnHandler<F>
where
    F: FnMut(&TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError>,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        FnHandler { f }
    }
}

impl<F> fmt::Debug for FnHandler<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnHandler").finish_non_exhaustive()
    }
}

impl<F> TaskHandler for FnHandler<F>
where
    F: FnMut(&TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError>,
{
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        (self.f)(request)
    }
}

type BoxedFn<'a> = Box<dyn FnMut(&TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> + 'a>;

/// Closures by Task state name, with an optional fallback handler (for example a
/// [`MockHandler`](crate::MockHandler)) for the states no closure takes; without one, other
/// states get [`TaskHandlerError::NoMock`].
///
/// ```
/// use engine::TaskResponse;
/// use mocks::Handlers;
/// use serde_json::json;
/// let handlers = Handlers::new()
///     .on("Charge", |_req| Ok(TaskResponse::success(json!({"ok": true}))))
///     .on("Ship", |_req| Ok(TaskResponse::failure("Shipping.Down", None).after_millis(2_000)));
/// # drop(handlers);
/// ```
#[derive(Default)]
pub struct Handlers<'a> {
    by_state: HashMap<String, BoxedFn<'a>>,
    fallback: Option<Box<dyn TaskHandler + 'a>>,
}

impl<'a> Handlers<'a> {
    /// No closures and no fallback.
    pub fn new() -> Self {
        Handlers {
            by_state: HashMap::new(),
            fallback: None,
        }
    }

    /// Answers Task state `state` with `f` (replacing any closure given before for it).
    pub fn on<F>(mut self, state: &str, f: F) -> Self
    where
        F: FnMut(&TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> + 'a,
    {
        self.by_state.insert(state.to_string(), Box::new(f));
        self
    }

    /// Sends the states no closure takes to `handler` (closures first, then this).
    pub fn fallback(mut self, handler: impl TaskHandler + 'a) -> Self {
        self.fallback = Some(Box::new(handler));
        self
    }
}

impl fmt::Debug for Handlers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut states: Vec<&str> = self.by_state.keys().map(String::as_str).collect();
        states.sort_unstable();
        f.debug_struct("Handlers")
            .field("states", &states)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl TaskHandler for Handlers<'_> {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        if let Some(f) = self.by_state.get_mut(request.state_name) {
            return f(request);
        }
        match &mut self.fallback {
            Some(h) => h.invoke(request),
            None => Err(TaskHandlerError::NoMock {
                state: request.state_name.to_string(),
                resource: request.resource.to_string(),
            }),
        }
    }
}

/// Makes every answer of the wrapped handler take `ms` more virtual milliseconds (errors of the
/// handler itself pass through unchanged). For one closure's answers, calling
/// [`TaskResponse::after_millis`] in the closure does the same.
#[derive(Debug, Clone)]
pub struct Delayed<H> {
    inner: H,
    ms: u64,
}

impl<H: TaskHandler> Delayed<H> {
    /// Wraps `inner`, adding `ms` to each response's `duration_ms`.
    pub fn new(inner: H, ms: u64) -> Self {
        Delayed { inner, ms }
    }

    /// The wrapped handler.
    pub fn into_inner(self) -> H {
        self.inner
    }
}

impl<H: TaskHandler> TaskHandler for Delayed<H> {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        self.inner.invoke(request).map(|mut r| {
            r.duration_ms = r.duration_ms.saturating_add(self.ms);
            r
        })
    }
}
