//! TestState: one state run alone.

use super::protocol::{ApiError, Fields};
use serde_json::Value;

/// TestState.
pub fn test_state(_f: &Fields) -> Result<Value, ApiError> {
    Err(ApiError::validation("not supported yet: TestState"))
}
