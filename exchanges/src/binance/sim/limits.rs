//! The simulator's request-weight budgets: Binance's fixed windows, 429s, and growing 418 bans.
//!
//! Four buckets, as Binance's docs describe them: `/api` REQUEST_WEIGHT (6000 per minute per IP),
//! SAPI IP (12000 per minute), SAPI UID (180000 per minute) and the withdraw-history bucket
//! (180000 per second). Windows are fixed and aligned to multiples of their length since the
//! Unix epoch. In scaled mode every per-minute budget counts per a shorter window instead, and
//! the usage headers carry that window's suffix (`-5S`). A request that does not fit gets 429
//! with `Retry-After` (seconds to the window's end, at least 1) and its weight is not counted;
//! more than [`TOLERANCE`] further over-budget requests in the same window ban the IP (418),
//! for twice the window at first, doubling with each ban up to three days.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::sim::counters::{FixedWindow, share_percent};

/// Over-budget requests tolerated in one window after the first 429, before a ban.
pub const TOLERANCE: u32 = 3;
/// The longest ban, as on Binance: three days.
const MAX_BAN_MS: i64 = 3 * 86_400_000;

/// Which budget a request's weight counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BucketId {
    /// `/api/*` REQUEST_WEIGHT, per IP.
    Api,
    /// SAPI endpoints weighted per IP.
    SapiIp,
    /// SAPI endpoints weighted per account (UID).
    SapiUid,
    /// The per-second UID bucket of withdraw history.
    SapiUid1s,
}

/// How one budget was used: its limit, window, and the weight counted in every window so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketStats {
    /// `api`, `sapi_ip`, `sapi_uid` or `sapi_uid_1s`.
    pub name: String,
    /// Weight allowed per window.
    pub limit: u64,
    /// The window length.
    pub window: Duration,
    /// Window start (ms since the epoch) → weight counted in it (requests that got 429/418 excluded).
    pub used: BTreeMap<i64, u64>,
}

impl BucketStats {
    /// Share of the budget used, in percent (two places), over the windows from the first one
    /// with any use to the last one, empty windows in between included; `None` if unused.
    pub fn share_percent(&self) -> Option<rust_decimal::Decimal> {
        let (first, _) = self.used.first_key_value()?;
        let (last, _) = self.used.last_key_value()?;
        let window_ms = i64::try_from(self.window.as_millis()).ok()?.max(1);
        let windows = u64::try_from((last - first) / window_ms + 1).ok()?;
        let total: u64 = self.used.values().sum();
        share_percent(total, self.limit.checked_mul(windows)?.checked_mul(1000)?)
    }
}

#[derive(Debug)]
struct Bucket {
    id: BucketId,
    name: &'static str,
    window: FixedWindow,
    headers: Vec<String>,
    history: BTreeMap<i64, u64>,
}

impl Bucket {
    /// `1 MINUTE`, `5 SECOND`: the interval as Binance writes it in messages.
    fn interval_text(&self) -> String {
        let (number, unit) = interval(self.window.window_ms());
        format!("{number} {unit}")
    }
}

/// A window length as Binance's (intervalNum, interval) pair: MINUTE when whole minutes.
pub fn interval(window_ms: i64) -> (i64, &'static str) {
    if window_ms % 60_000 == 0 { (window_ms / 60_000, "MINUTE") } else { ((window_ms / 1000).max(1), "SECOND") }
}

/// The header suffix of a window (`1M`, `5S`).
fn suffix(window_ms: i64) -> String {
    match interval(window_ms) {
        (number, "MINUTE") => format!("{number}M"),
        (number, _) => format!("{number}S"),
    }
}

/// What the budgets say about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Serve it; these usage headers go on the answer.
    Allowed(Vec<(String, String)>),
    /// 429: over the budget of a bucket.
    TooMany {
        /// Seconds to the end of the bucket's window.
        retry_after: u64,
        /// The message of the `-1003` body.
        message: String,
        /// Usage headers.
        headers: Vec<(String, String)>,
    },
    /// 418: the IP is banned.
    Banned {
        /// Seconds until the ban ends.
        retry_after: u64,
        /// The message of the `-1003` body.
        message: String,
    },
}

/// The budgets of one simulator.
#[derive(Debug)]
pub struct RateLimits {
    enabled: bool,
    buckets: Vec<Bucket>,
    banned_until: i64,
    bans: u32,
    ban_base_ms: i64,
    /// Requests answered 429 by a budget.
    pub too_many: u64,
    /// Requests answered 418.
    pub banned: u64,
}

impl RateLimits {
    /// Budgets with per-minute buckets counted per `minute_ms` (60000 for real); `enabled`
    /// false counts weight but never refuses and sends no usage headers.
    pub fn new(enabled: bool, minute_ms: i64) -> RateLimits {
        RateLimits::with_api_limit(enabled, minute_ms, 6_000)
    }

    /// [`RateLimits::new`] with another `/api` REQUEST_WEIGHT budget per minute.
    pub fn with_api_limit(enabled: bool, minute_ms: i64, api_limit: u64) -> RateLimits {
        let minute_ms = minute_ms.max(1000);
        let bucket = |id, name, limit, window_ms: i64, headers: &[&str]| Bucket {
            id,
            name,
            window: FixedWindow::new(limit, window_ms),
            headers: headers.iter().map(|header| format!("{header}{}", suffix(window_ms))).collect(),
            history: BTreeMap::new(),
        };
        let mut api = bucket(BucketId::Api, "api", api_limit, minute_ms, &["X-MBX-USED-WEIGHT-"]);
        api.headers.push("X-MBX-USED-WEIGHT".to_owned());
        RateLimits {
            enabled,
            buckets: vec![
                api,
                bucket(BucketId::SapiIp, "sapi_ip", 12_000, minute_ms, &["X-SAPI-USED-IP-WEIGHT-"]),
                bucket(BucketId::SapiUid, "sapi_uid", 180_000, minute_ms, &["X-SAPI-USED-UID-WEIGHT-"]),
                bucket(BucketId::SapiUid1s, "sapi_uid_1s", 180_000, 1_000, &["X-SAPI-USED-UID-WEIGHT-"]),
            ],
            banned_until: i64::MIN,
            bans: 0,
            ban_base_ms: 2 * minute_ms,
            too_many: 0,
            banned: 0,
        }
    }

    fn bucket_mut(&mut self, id: BucketId) -> Option<&mut Bucket> {
        self.buckets.iter_mut().find(|bucket| bucket.id == id)
    }

    /// Decides a request at `now_ms` costing `costs`, counting its weight when it is served.
    pub fn admit(&mut self, now_ms: i64, costs: &[(BucketId, u64)]) -> Admission {
        if self.enabled && now_ms < self.banned_until {
            self.banned += 1;
            return self.ban_answer(now_ms);
        }
        for &(id, _) in costs {
            if let Some(bucket) = self.bucket_mut(id) {
                bucket.window.roll(now_ms);
            }
        }
        if self.enabled {
            let over = costs.iter().find_map(|&(id, weight)| {
                self.buckets.iter().position(|bucket| bucket.id == id && !bucket.window.fits(weight))
            });
            if let Some(index) = over {
                let bucket = &mut self.buckets[index];
                if bucket.window.refuse() > TOLERANCE + 1 {
                    self.bans += 1;
                    let doubling = 1_i64 << self.bans.saturating_sub(1).min(20);
                    self.banned_until = now_ms + self.ban_base_ms.saturating_mul(doubling).min(MAX_BAN_MS);
                    self.banned += 1;
                    return self.ban_answer(now_ms);
                }
                self.too_many += 1;
                let bucket = &self.buckets[index];
                let message = format!(
                    "Too much request weight used; current limit is {} request weight per {}. \
                     Please use WebSocket Streams for live updates to avoid polling the API.",
                    bucket.window.limit(),
                    bucket.interval_text()
                );
                let retry_after = bucket.window.retry_after_seconds(now_ms);
                return Admission::TooMany { retry_after, message, headers: self.headers(costs) };
            }
        }
        for &(id, weight) in costs {
            if let Some(bucket) = self.bucket_mut(id) {
                bucket.window.add(weight);
                *bucket.history.entry(bucket.window.start_ms()).or_insert(0) += weight;
            }
        }
        Admission::Allowed(if self.enabled { self.headers(costs) } else { Vec::new() })
    }

    fn headers(&self, costs: &[(BucketId, u64)]) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        for &(id, _) in costs {
            if let Some(bucket) = self.buckets.iter().find(|bucket| bucket.id == id) {
                for name in &bucket.headers {
                    headers.push((name.clone(), bucket.window.used().to_string()));
                }
            }
        }
        headers
    }

    fn ban_answer(&self, now_ms: i64) -> Admission {
        let retry_after = u64::try_from((self.banned_until - now_ms + 999) / 1000).unwrap_or(1).max(1);
        let message = format!(
            "Way too much request weight used; IP banned until {}. \
             Please use WebSocket Streams for live updates to avoid bans.",
            self.banned_until
        );
        Admission::Banned { retry_after, message }
    }

    /// Every bucket's limit, window and use per window.
    pub fn stats(&self) -> Vec<BucketStats> {
        self.buckets
            .iter()
            .map(|bucket| BucketStats {
                name: bucket.name.to_owned(),
                limit: bucket.window.limit(),
                window: Duration::from_millis(u64::try_from(bucket.window.window_ms()).unwrap_or(60_000)),
                used: bucket.history.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_then_429_then_418_with_growing_bans() {
        let mut limits = RateLimits::new(true, 5_000);
        let now = 1_700_000_000_000; // a multiple of 5 s
        for _ in 0..300 {
            assert!(matches!(limits.admit(now, &[(BucketId::Api, 20)]), Admission::Allowed(_)));
        }
        match limits.admit(now + 1_200, &[(BucketId::Api, 20)]) {
            Admission::TooMany { retry_after, message, headers } => {
                assert_eq!(retry_after, 4);
                assert!(message.contains("6000 request weight per 5 SECOND"), "{message}");
                assert!(headers.contains(&("X-MBX-USED-WEIGHT-5S".to_owned(), "6000".to_owned())));
            }
            other => panic!("{other:?}"),
        }
        for _ in 0..TOLERANCE {
            assert!(matches!(limits.admit(now + 1_300, &[(BucketId::Api, 20)]), Admission::TooMany { .. }));
        }
        let Admission::Banned { retry_after, .. } = limits.admit(now + 1_400, &[(BucketId::Api, 1)]) else { panic!() };
        assert_eq!(retry_after, 10);
        // Everything is refused during the ban, SAPI included.
        assert!(matches!(limits.admit(now + 5_000, &[(BucketId::SapiIp, 1)]), Admission::Banned { .. }));
        // After it, a new window serves again; the next ban is twice as long.
        assert!(matches!(limits.admit(now + 12_000, &[(BucketId::Api, 20)]), Admission::Allowed(_)));
        let later = now + 15_000;
        let mut last = None;
        for _ in 0..310 {
            last = Some(limits.admit(later, &[(BucketId::Api, 20)]));
        }
        let Some(Admission::Banned { retry_after, .. }) = last else { panic!("{last:?}") };
        assert_eq!(retry_after, 20);
        assert_eq!(limits.too_many, 8);
        let api = &limits.stats()[0];
        assert_eq!(api.used.get(&now), Some(&6_000));
    }

    #[test]
    fn windows_are_aligned_to_the_epoch_and_the_second_bucket_is_separate() {
        let mut limits = RateLimits::new(true, 60_000);
        let now = 1_700_000_020_000; // 40 s into a minute
        for _ in 0..10 {
            assert!(matches!(limits.admit(now, &[(BucketId::SapiUid1s, 18_000)]), Admission::Allowed(_)));
        }
        let Admission::TooMany { retry_after, .. } = limits.admit(now + 100, &[(BucketId::SapiUid1s, 18_000)]) else {
            panic!()
        };
        assert_eq!(retry_after, 1);
        let Admission::Allowed(headers) = limits.admit(now + 1_000, &[(BucketId::SapiUid1s, 18_000)]) else { panic!() };
        assert_eq!(headers, vec![("X-SAPI-USED-UID-WEIGHT-1S".to_owned(), "18000".to_owned())]);
        let Admission::Allowed(headers) = limits.admit(now, &[(BucketId::SapiUid, 90_000)]) else { panic!() };
        assert_eq!(headers, vec![("X-SAPI-USED-UID-WEIGHT-1M".to_owned(), "90000".to_owned())]);
        let Admission::TooMany { retry_after, .. } = limits.admit(now + 1, &[(BucketId::SapiUid, 90_001)]) else {
            panic!()
        };
        assert_eq!(retry_after, 20);
    }

    #[test]
    fn disabled_limits_never_refuse_and_send_no_headers() {
        let mut limits = RateLimits::new(false, 60_000);
        for _ in 0..1_000 {
            assert_eq!(limits.admit(1_000, &[(BucketId::SapiUid, 90_000)]), Admission::Allowed(Vec::new()));
        }
        assert_eq!(limits.stats()[2].used.get(&0), Some(&90_000_000));
    }
}
