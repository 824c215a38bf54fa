//! Intrinsic functions (`States.Format(...)` and friends).
//!
//! Interface (to be built):
//! - `pub(crate) struct Intrinsic` — a parsed call, compiled once when the definition loads.
//! - `Intrinsic::parse(src: &str) -> Result<Intrinsic, IntrinsicSyntaxError>`
//! - `Intrinsic::eval(&self, scope: &Scope<'_>, rng: &mut Rng) -> Result<Value, IntrinsicError>`
//! - `IntrinsicError { error: String, message: String }`: `error` is AWS's error name, `message`
//!   the detail that follows "An error occurred while executing the state 'S' (entered at the
//!   event id #N). " in the cause.

use crate::scope::{Rng, Scope};
use serde_json::Value;

/// A parsed intrinsic call. (Interface shim: the real parser lands from the intrinsics branch.)
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Intrinsic;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct IntrinsicSyntaxError {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IntrinsicError {
    pub error: String,
    pub message: String,
}

impl Intrinsic {
    pub fn looks_like_call(s: &str) -> bool {
        s.starts_with("States.")
    }
    pub fn parse(src: &str) -> Result<Intrinsic, IntrinsicSyntaxError> {
        Err(IntrinsicSyntaxError {
            message: format!("not supported yet: intrinsic functions ({src})"),
        })
    }
    pub fn eval(&self, _scope: &Scope<'_>, _rng: &mut Rng) -> Result<Value, IntrinsicError> {
        Err(IntrinsicError {
            error: "States.Runtime".into(),
            message: "not supported yet: intrinsic functions".into(),
        })
    }
}
