//! Faults injected on purpose, for testing the tests: the property tests of
//! `stepcheck-conformance` turn each one on and must catch it. They exist only so that a
//! property that can never fail is noticed; nothing else may use them.
//!
//! The type is always compiled so that the few call sites in the interpreter need no `cfg` of
//! their own; without the `faults` feature no execution can hold a fault, so every check is
//! a constant `false`.

/// A deliberate bug the interpreter can be told to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(not(feature = "faults"), allow(dead_code))]
#[non_exhaustive]
pub enum Fault {
    /// Inline Map states start every iteration at once, whatever their MaxConcurrency.
    IgnoreMaxConcurrency,
    /// A Task retrier allows one attempt fewer than its MaxAttempts.
    SkipLastRetry,
    /// A Task retry waits as if it were the next attempt (the backoff exponent is off by one).
    BackoffOffByOne,
    /// A failing Parallel branch or Map iteration does not abort its siblings, which run on
    /// and record events after the fail-fast.
    NoFailFastAbort,
}

#[cfg_attr(not(feature = "faults"), allow(dead_code))]
impl Fault {
    /// Every fault, for tests that try each one.
    pub const ALL: [Fault; 4] = [
        Fault::IgnoreMaxConcurrency,
        Fault::SkipLastRetry,
        Fault::BackoffOffByOne,
        Fault::NoFailFastAbort,
    ];
}
