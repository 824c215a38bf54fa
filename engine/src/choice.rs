//! Choice rules (JSONPath mode): parsing from the definition and evaluation.
//!
//! Interface (to be built):
//! - `pub(crate) enum Rule` — And / Or / Not / one comparison on a Variable.
//! - `Rule::from_value(v: &Value, location: &str) -> Result<Rule, Diagnostic>`
//! - `Rule::evaluate(&self, scope: &Scope<'_>) -> Result<bool, RuleError>`
