//! Fixed-window counters per key (client IP, login name): the throttles of failed API-key
//! attempts and of sign-in.

use std::hash::Hash;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::error::ApiError;

/// Allows `limit` events per `window` and key; further events are refused until the window
/// that counted them ends.
pub struct Limiter<K: Eq + Hash> {
    limit: u32,
    window: Duration,
    windows: DashMap<K, (Instant, u32)>,
}

/// Past this many tracked keys, expired windows are swept on the next insert, so a flood of
/// distinct addresses cannot grow the map without bound.
const SWEEP_ABOVE: usize = 10_000;

impl<K: Eq + Hash + Clone> Limiter<K> {
    pub fn new(limit: u32, window: Duration) -> Self {
        Limiter {
            limit,
            window,
            windows: DashMap::new(),
        }
    }

    /// `Err(429)` while `key` is over its limit, with the seconds until the window ends.
    pub fn check(&self, key: K) -> Result<(), ApiError> {
        if let Some(entry) = self.windows.get(&key) {
            let (started, count) = *entry;
            let elapsed = started.elapsed();
            if elapsed < self.window && count >= self.limit {
                let retry_after_secs = (self.window - elapsed).as_secs().max(1);
                return Err(ApiError::TooManyRequests { retry_after_secs });
            }
        }
        Ok(())
    }

    /// Counts one event for `key`.
    pub fn record(&self, key: K) {
        if self.windows.len() > SWEEP_ABOVE {
            let window = self.window;
            self.windows
                .retain(|_, (started, _)| started.elapsed() < window);
        }
        let mut entry = self.windows.entry(key).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Counts one event and refuses it when it is over the limit (for throttles that count
    /// every attempt, not only failures).
    pub fn hit(&self, key: K) -> Result<(), ApiError> {
        self.check(key.clone())?;
        self.record(key);
        Ok(())
    }

    /// Forgets `key` (after a success that should reset the count).
    pub fn reset(&self, key: &K) {
        self.windows.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_per_key_and_reports_retry_after() {
        let limiter = Limiter::new(2, Duration::from_secs(60));
        limiter.record("a");
        assert!(limiter.check("a").is_ok());
        limiter.record("a");
        match limiter.check("a") {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check("b").is_ok());
        limiter.reset(&"a");
        assert!(limiter.check("a").is_ok());
    }

    #[test]
    fn a_window_that_ended_starts_counting_again() {
        let limiter = Limiter::new(1, Duration::from_millis(20));
        limiter.record(1u8);
        assert!(limiter.check(1).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(limiter.check(1).is_ok());
        assert!(limiter.hit(1).is_ok());
        assert!(limiter.hit(1).is_err());
    }
}
