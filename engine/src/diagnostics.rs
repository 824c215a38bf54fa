//! Validation diagnostics, shaped like ValidateStateMachineDefinition's.
//!
//! The codes are the ones the ValidateStateMachineDefinition API reference lists
//! (`API_ValidateStateMachineDefinitionDiagnostic`): errors INVALID_JSON_DESCRIPTION,
//! MISSING_DESCRIPTION, SCHEMA_VALIDATION_FAILED, INVALID_RESOURCE, MISSING_END_STATE,
//! DUPLICATE_STATE_NAME, INVALID_STATE_NAME, STATE_MACHINE_NAME_*, DUPLICATE_LABEL_NAME,
//! INVALID_LABEL_NAME, MISSING_TRANSITION_TARGET, TOO_DEEPLY_NESTED; warnings NO_DOLLAR, NO_PATH,
//! PASS_RESULT_IS_STATIC.
//!
//! A few variants are finer than AWS's codes (an unreachable state, a bad path, two fields that
//! exclude each other, a malformed intrinsic): they let callers tell those cases apart, and
//! [`DiagnosticCode::as_str`] spells each as the code AWS reports for it.

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
    /// The definition is empty.
    MissingDescription,
    /// A field is missing, unknown, of the wrong type or out of range.
    SchemaValidationFailed,
    /// The value of a Task state's `Resource` is invalid.
    InvalidResource,
    /// A `Next`, `Default`, `StartAt` or Catch `Next` names no state in its scope.
    MissingTransitionTarget,
    /// No terminal state is reachable.
    MissingEndState,
    /// Two states share a name, anywhere in the definition (branches included).
    DuplicateStateName,
    /// A state name does not follow the naming rules (for example, it is too long).
    InvalidStateName,
    /// Two Map states share a `Label`.
    DuplicateLabelName,
    /// A Map state's `Label` does not follow the naming rules.
    InvalidLabelName,
    /// The states are nested too deeply.
    TooDeeplyNested,
    /// A state cannot be reached from `StartAt`. AWS reports it as MISSING_TRANSITION_TARGET.
    UnreachableState,
    /// A path field does not hold a valid JSONPath (or reference path where one is required).
    /// AWS reports it as SCHEMA_VALIDATION_FAILED.
    InvalidJsonPath,
    /// An intrinsic function call is malformed. AWS reports it as SCHEMA_VALIDATION_FAILED.
    InvalidIntrinsicFunction,
    /// A field combination is not allowed, such as `Error` with `ErrorPath`. AWS reports it as
    /// SCHEMA_VALIDATION_FAILED.
    MutuallyExclusiveFields,
    /// Warning: a payload field without `.$` whose value looks like a path or intrinsic.
    NoDollar,
    /// Warning: a field whose value looks like a path but whose name does not end with `Path`.
    NoPath,
    /// Warning: a Pass state's `Result` tries to use a path, which is not evaluated there.
    PassResultIsStatic,
}

impl DiagnosticCode {
    /// The code as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            DiagnosticCode::MissingDescription => "MISSING_DESCRIPTION",
            DiagnosticCode::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            DiagnosticCode::InvalidResource => "INVALID_RESOURCE",
            DiagnosticCode::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            DiagnosticCode::MissingEndState => "MISSING_END_STATE",
            DiagnosticCode::DuplicateStateName => "DUPLICATE_STATE_NAME",
            DiagnosticCode::InvalidStateName => "INVALID_STATE_NAME",
            DiagnosticCode::DuplicateLabelName => "DUPLICATE_LABEL_NAME",
            DiagnosticCode::InvalidLabelName => "INVALID_LABEL_NAME",
            DiagnosticCode::TooDeeplyNested => "TOO_DEEPLY_NESTED",
            DiagnosticCode::UnreachableState => "MISSING_TRANSITION_TARGET",
            DiagnosticCode::InvalidJsonPath => "SCHEMA_VALIDATION_FAILED",
            DiagnosticCode::InvalidIntrinsicFunction => "SCHEMA_VALIDATION_FAILED",
            DiagnosticCode::MutuallyExclusiveFields => "SCHEMA_VALIDATION_FAILED",
            DiagnosticCode::NoDollar => "NO_DOLLAR",
            DiagnosticCode::NoPath => "NO_PATH",
            DiagnosticCode::PassResultIsStatic => "PASS_RESULT_IS_STATIC",
        }
    }

    /// The severity AWS gives this code: the three documented warning codes are warnings,
    /// everything else is an error.
    pub fn default_severity(self) -> Severity {
        match self {
            DiagnosticCode::NoDollar
            | DiagnosticCode::NoPath
            | DiagnosticCode::PassResultIsStatic => Severity::Warning,
            _ => Severity::Error,
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
    /// Where the problem is, as AWS writes it: `/States/Pass/Next`, `/States/C/Choices[0]/Next`,
    /// `/` for the top-level object. Empty when AWS gives no location (MISSING_END_STATE, a
    /// definition that is not a JSON object).
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

    /// A warning-level diagnostic: the definition can still be created.
    pub fn warning(
        code: DiagnosticCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            message: message.into(),
            location: location.into(),
        }
    }

    /// True for an error (the definition cannot be created).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `CODE: message at location`, the way CreateStateMachine's InvalidDefinition message lists
/// each diagnostic. AWS prints `at null` for a diagnostic without a location.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = if self.location.is_empty() {
            "null"
        } else {
            &self.location
        };
        write!(
            f,
            "{}: {} at {}",
            self.code.as_str(),
            self.message,
            location
        )
    }
}
