//! Choice rules (JSONPath mode): parsing from the definition and evaluation.
//!
//! Interface (to be built):
//! - `pub(crate) enum Rule` — And / Or / Not / one comparison on a Variable.
//! - `Rule::from_value(v: &Value, location: &str) -> Result<Rule, Diagnostic>`
//! - `Rule::evaluate(&self, scope: &Scope<'_>) -> Result<bool, RuleError>`

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::scope::Scope;
use serde_json::Value;

/// (Interface shim: the real rules land from the choice branch.)
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleError {
    pub error: String,
    pub message: String,
}

impl Rule {
    pub fn from_value(_v: &Value, location: &str) -> Result<Rule, Vec<Diagnostic>> {
        Err(vec![Diagnostic::error(
            DiagnosticCode::SchemaValidationFailed,
            location,
            "not supported yet: Choice rules",
        )])
    }
    pub fn evaluate(&self, _scope: &Scope<'_>) -> Result<bool, RuleError> {
        match *self {}
    }
}
