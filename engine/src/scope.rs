//! What an expression sees when it is evaluated: the state input, the context object and the
//! workflow variables, plus the execution's seeded random number generator.

use crate::jsonpath::{JsonPath, PathRoot};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The values a path or intrinsic function can read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// `$`: the current input (the effective input for Parameters, the raw result for
    /// ResultSelector, and so on).
    pub input: &'a Value,
    /// `$$`: the context object.
    pub context: &'a Value,
    /// `$name`: workflow variables visible to the state.
    pub variables: &'a Map<String, Value>,
}

impl<'a> Scope<'a> {
    /// Evaluates a path against the root it names. `None` when a definite path selects
    /// nothing (or names an unknown variable).
    pub fn resolve(&self, path: &JsonPath) -> Option<Value> {
        path.select(self.root(path)?)
    }

    /// Like [`Scope::resolve`], but a reference path (names and indices only) gives the
    /// selected value itself instead of a copy: intrinsic functions only read their
    /// arguments, and copying `$` for `States.ArrayLength($)` was most of the call's cost.
    #[inline]
    pub fn resolve_cow(&self, path: &JsonPath) -> Option<Cow<'a, Value>> {
        let root = self.root(path)?;
        if path.is_reference() {
            return path.select_ref(root).map(Cow::Borrowed);
        }
        path.select(root).map(Cow::Owned)
    }

    /// The document a path starts from.
    #[inline]
    fn root(&self, path: &JsonPath) -> Option<&'a Value> {
        match path.root() {
            PathRoot::Input => Some(self.input),
            PathRoot::Context => Some(self.context),
            PathRoot::Variable(name) => self.variables.get(name),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// A small, fast, seeded pseudo-random generator (SplitMix64). Executions use it for
/// `States.MathRandom`, `States.UUID`, jitter and scheduling, so a seed replays a run exactly.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator that starts from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniformly distributed integer in `[lo, hi]` (inclusive). `lo` must not exceed `hi`.
    pub fn range_inclusive(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }

    /// A float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            let x = a.range_inclusive(-3, 5);
            assert_eq!(x, b.range_inclusive(-3, 5));
            assert!((-3..=5).contains(&x));
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
