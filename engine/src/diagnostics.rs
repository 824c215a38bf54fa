//! Validation diagnostics, shaped like ValidateStateMachineDefinition's.

use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The definition cannot be created.
    Error,
    /// The definition can be created but probably does not do what was meant.
    Warning,
}

impl Severity {
    /// The API spelling: `ERROR` or `WARNING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

/// The diagnostic codes AWS uses in CreateStateMachine and ValidateStateMachineDefinition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiagnosticCode {
    /// The definition is not valid JSON.
    InvalidJsonDescription,
    /// A field is missing, unknown, of the wrong type or out of range.
    SchemaValidationFailed,
    /// A `Next`, `Default`, `StartAt` or Catch `Next` names no state in its scope.
    MissingTransitionTarget,
    /// No terminal state is reachable.
    MissingEndState,
    /// Two states share a name, anywhere in the definition (branches included).
    DuplicateStateName,
    /// A state cannot be reached from `StartAt`.
    UnreachableState,
    /// A path field does not hold a valid JSONPath (or reference path where one is required).
    InvalidJsonPath,
    /// An intrinsic function call is malformed.
    InvalidIntrinsicFunction,
    /// A field combination is not allowed, such as `Error` with `ErrorPath`.
    MutuallyExclusiveFields,
}

impl DiagnosticCode {
    /// The code as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            DiagnosticCode::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            DiagnosticCode::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            DiagnosticCode::MissingEndState => "MISSING_END_STATE",
            DiagnosticCode::DuplicateStateName => "DUPLICATE_STATE_NAME",
            DiagnosticCode::UnreachableState => "UNREACHABLE_STATE",
            DiagnosticCode::InvalidJsonPath => "INVALID_JSON_PATH",
            DiagnosticCode::InvalidIntrinsicFunction => "INVALID_INTRINSIC_FUNCTION",
            DiagnosticCode::MutuallyExclusiveFields => "MUTUALLY_EXCLUSIVE_FIELDS",
        }
    }
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// AWS's code for the kind of problem.
    pub code: DiagnosticCode,
    /// A human-readable message, in AWS's wording where it is known.
    pub message: String,
    /// A JSON pointer to the offending field, such as `/States/Pass/Next`.
    pub location: String,
}

impl Diagnostic {
    /// An error-level diagnostic.
    pub fn error(
        code: DiagnosticCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: location.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} at {}",
            self.code.as_str(),
            self.message,
            self.location
        )
    }
}
