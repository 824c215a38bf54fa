//! Intrinsic functions (`States.Format(...)` and friends).
//!
//! Interface (to be built):
//! - `pub(crate) struct Intrinsic` — a parsed call, compiled once when the definition loads.
//! - `Intrinsic::parse(src: &str) -> Result<Intrinsic, IntrinsicSyntaxError>`
//! - `Intrinsic::eval(&self, scope: &Scope<'_>, rng: &mut Rng) -> Result<Value, IntrinsicError>`
//! - `IntrinsicError { error: String, message: String }`: `error` is AWS's error name, `message`
//!   the detail that follows "An error occurred while executing the state 'S' (entered at the
//!   event id #N). " in the cause.
