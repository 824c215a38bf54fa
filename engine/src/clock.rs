//! Time, injected. The default clock is virtual: it only moves when the engine says a wait or
//! a backoff has passed, so a one-year Wait finishes at once while history timestamps advance.

use std::fmt;

/// An instant, in milliseconds since the Unix epoch (UTC). AWS histories carry millisecond
/// precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant plus `ms` milliseconds (saturating).
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Seconds since the epoch as the Step Functions JSON protocol sends them (`1.7e9` style).
    pub fn epoch_seconds(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// ISO 8601 with milliseconds and `Z`, as the context object shows times.
    pub fn to_rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            None => format!("{}ms", self.0),
        }
    }

    /// Parses an RFC 3339 / ISO 8601 offset date-time (`2016-03-14T01:59:00Z`, with optional
    /// fraction and a numeric offset).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|dt| Timestamp(dt.timestamp_millis()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A source of time for an execution.
pub trait Clock: fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
    /// Lets `ms` milliseconds pass. A virtual clock jumps; a real one would sleep.
    fn advance(&mut self, ms: i64);
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now: Timestamp,
}

impl VirtualClock {
    /// The instant virtual clocks start at unless told otherwise: 2024-01-01T00:00:00Z.
    pub const DEFAULT_START: Timestamp = Timestamp(1_704_067_200_000);

    /// A virtual clock that starts at `start`.
    pub fn starting_at(start: Timestamp) -> Self {
        VirtualClock { now: start }
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::starting_at(Self::DEFAULT_START)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn advance(&mut self, ms: i64) {
        self.now = self.now.plus_millis(ms.max(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_jumps() {
        let mut c = VirtualClock::default();
        c.advance(365 * 24 * 3600 * 1000);
        assert_eq!(c.now().to_rfc3339(), "2024-12-31T00:00:00.000Z");
    }

    #[test]
    fn parses_offsets() {
        let a = Timestamp::parse_rfc3339("2016-03-14T01:59:00Z").unwrap();
        let b = Timestamp::parse_rfc3339("2016-03-14T02:59:00+01:00").unwrap();
        assert_eq!(a, b);
        assert!(Timestamp::parse_rfc3339("2016-03-14").is_none());
    }
}
