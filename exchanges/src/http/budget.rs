//! A documented "LIMIT per SECONDS" budget, paced as a leaky bucket that can never put more
//! than the limit in any window of that length, however the exchange aligns its windows, while
//! it sustains 90 % of it: a tenth of the limit at once, then the rest spread over the window.
//! An exchange whose window starts at the client's first request (KuCoin's 30 s pools) or is
//! counted in a way its documentation does not say is paced with this.

use crate::http::BucketKind;

/// A request (or weight) limit per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowBudget {
    /// Weight allowed per window.
    pub limit: u64,
    /// The window, seconds.
    pub window_seconds: u64,
}

impl WindowBudget {
    /// Reads `LIMIT:SECONDS` (`2000:30`).
    pub fn parse(text: &str) -> Option<WindowBudget> {
        let (limit, seconds) = text.trim().split_once(':')?;
        let budget = WindowBudget { limit: limit.trim().parse().ok()?, window_seconds: seconds.trim().parse().ok()? };
        (budget.limit > 0 && budget.window_seconds > 0).then_some(budget)
    }

    /// The budget the environment variable `var` names, else `default`.
    pub fn from_env(var: &str, default: WindowBudget) -> WindowBudget {
        std::env::var(var).ok().and_then(|text| WindowBudget::parse(&text)).unwrap_or(default)
    }

    /// `LIMIT:SECONDS`, as [`WindowBudget::parse`] reads it back.
    pub fn render(self) -> String {
        format!("{}:{}", self.limit, self.window_seconds)
    }

    /// The burst the bucket allows: a tenth of the limit (at least one unit).
    pub fn burst(self) -> u64 {
        (self.limit / 10).max(1)
    }

    /// Units a second the bucket sustains: the limit less the burst, over the window, so that
    /// burst + window × rate never exceeds the limit.
    pub fn sustained_per_second(self) -> f64 {
        self.sustained_after(self.burst())
    }

    /// Units a second left over the window once `burst` is spent.
    fn sustained_after(self, burst: u64) -> f64 {
        // A rate, not an amount: the limiter's decay is a float by design.
        self.limit.saturating_sub(burst).max(1) as f64 / self.window_seconds as f64
    }

    /// The limiter bucket that models it.
    pub fn bucket_kind(self) -> BucketKind {
        BucketKind::Decay { capacity: self.burst(), per_second: self.sustained_per_second() }
    }

    /// The bucket when one call may cost up to `max_cost` (weighted endpoints): the burst is
    /// at least that cost, so every call fits, and the rate is what the limit leaves.
    pub fn bucket_kind_for(self, max_cost: u64) -> BucketKind {
        let burst = self.burst().max(max_cost).min(self.limit);
        BucketKind::Decay { capacity: burst, per_second: self.sustained_after(burst) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_never_exceeds_the_limit_in_any_window_and_sustains_at_least_85_percent() {
        for budget in [
            WindowBudget { limit: 2000, window_seconds: 30 },
            WindowBudget { limit: 10, window_seconds: 60 },
            WindowBudget { limit: 40, window_seconds: 2 },
        ] {
            let window = budget.window_seconds as f64;
            let most_in_a_window = budget.burst() as f64 + budget.sustained_per_second() * window;
            assert!(most_in_a_window <= budget.limit as f64 + 1e-9, "{budget:?}: {most_in_a_window}");
            assert!(budget.sustained_per_second() * window >= 0.85 * budget.limit as f64, "{budget:?}");
        }
        // A call of weight 20 fits a small budget's bucket, and the window still holds.
        let small = WindowBudget { limit: 40, window_seconds: 1 };
        let BucketKind::Decay { capacity, per_second } = small.bucket_kind_for(20) else { panic!() };
        assert_eq!(capacity, 20);
        assert!(capacity as f64 + per_second <= 40.0 + 1e-9, "{per_second}");
        assert_eq!(WindowBudget::parse("40:2"), Some(WindowBudget { limit: 40, window_seconds: 2 }));
        let budget = WindowBudget { limit: 2000, window_seconds: 30 };
        assert_eq!(WindowBudget::parse(&budget.render()), Some(budget));
        for bad in ["", "0:1", "1:0", "x:1", "10"] {
            assert_eq!(WindowBudget::parse(bad), None, "{bad}");
        }
    }
}
