//! Definition validation: every problem, with AWS's diagnostic codes and locations.
//!
//! [`validate`] parses the text (keeping repeated keys visible), then walks the raw JSON the way
//! CreateStateMachine and ValidateStateMachineDefinition do, collecting every problem rather than
//! stopping at the first.
//!
//! What AWS does was taken, in this order of trust, from: AWS's responses recorded by others
//! (LocalStack's AWS-validated snapshots, floci's tests "measured against real AWS", AWS messages
//! quoted in cfn-lint, ts2asl and deploy-failure reports), the Developer Guide and API reference,
//! and cdk-preflight's catalogue of CreateStateMachine messages. Each message's source is noted
//! where it is defined (`ctx::msg`); where no source says, the choice is marked as an assumption.
//!
//! Locations are written as AWS writes them: `/States/A/Next`, `/States/C/Choices[0]/Next`,
//! `/States/P/Branches[0]/States/B`, `/` for the top-level object, empty when AWS gives none.
//!
//! Not checked here: intrinsic function syntax (the intrinsics module), JSONata expression syntax,
//! the inside of Choice rule evaluation, service-integration specifics of `Resource`.

mod ctx;
mod graph;
mod json;
mod map;
mod paths;
mod retry;
mod rules;
mod states;
#[cfg(test)]
mod tests;

use crate::diagnostics::Diagnostic;

/// Validates a definition's text as CreateStateMachine does and returns every problem found.
/// An empty list means the definition is valid; warnings alone do not make it invalid.
pub fn validate(definition: &str) -> Vec<Diagnostic> {
    let root = match json::parse(definition) {
        Ok(v) => v,
        Err(d) => return vec![d],
    };
    let mut cx = ctx::Ctx::default();
    states::definition(&mut cx, &root);
    cx.diags
}
