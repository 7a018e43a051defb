use super::test_server::{Reply, Seen, TestServer};
use super::*;
use crate::http::clock::{ManualClock, SystemClock};
use crate::http::limiter::{BucketKind, LimiterConfig};

const KEY: &str = "test-api-key-0123456789abcdef";
const SIGNATURE: &str = "deadbeefcafef00d5ec7e7";

/// A protocol that "signs" with a fixed signature and judges by HTTP status alone.
struct Plain {
    clock: Arc<dyn Clock>,
}

impl Protocol for Plain {
    fn exchange(&self) -> &'static str {
        "testex"
    }
    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let mut query = encode_query(&request.params);
        query.push_str(if query.is_empty() { "signature=" } else { "&signature=" });
        query.push_str(SIGNATURE);
        let body = match request.method {
            Method::Post => Some(("application/x-www-form-urlencoded".to_owned(), "a=1&b=2".to_owned())),
            Method::Get => None,
        };
        Ok(Prepared { query, body, headers: vec![("X-KEY".to_owned(), Secret::new(KEY))] })
    }
    fn judge(&self, _: &Request, status: u16, headers: &HeaderMap, _: &[u8]) -> Verdict {
        let now = self.clock.now_ms();
        match status {
            200..=299 => Verdict::Ok,
            429 => Verdict::RateLimited { retry_after: retry_after(headers, now) },
            418 => Verdict::Banned {
                until_ms: now + duration_ms(retry_after(headers, now).unwrap_or(Duration::from_secs(120))),
            },
            500..=599 => Verdict::Retry { reason: format!("HTTP {status}"), after: None },
            _ => Verdict::Fail(FetchError::Api {
                exchange: "testex".to_owned(),
                endpoint: "thing".to_owned(),
                status,
                code: String::new(),
                message: format!("HTTP {status}"),
            }),
        }
    }
    fn observe(&self, _: &Request, headers: &HeaderMap) -> Vec<Usage> {
        headers
            .get("x-used")
            .and_then(|value| value.to_str().ok()?.parse().ok())
            .map(|used| vec![Usage { bucket: "ip".to_owned(), used, window: None }])
            .unwrap_or_default()
    }
}

fn fast() -> ClientConfig {
    ClientConfig::for_tests(Duration::from_millis(300), 4)
}

fn client_on(server: &TestServer, clock: Arc<ManualClock>, config: ClientConfig) -> Client {
    let clock: Arc<dyn Clock> = clock;
    // Exact windows (no edge guard) so waits are round numbers.
    let config_exact = LimiterConfig { guard_permille: 0, min_guard: Duration::ZERO, ..LimiterConfig::default() };
    let limiter = Arc::new(Limiter::with_config(Arc::clone(&clock), config_exact));
    limiter.declare("ip", BucketKind::FixedWindow { limit: 1_000, window: Duration::from_secs(60) });
    Client::new(Arc::new(Plain { clock: Arc::clone(&clock) }), &server.url(), limiter, config, clock).unwrap()
}

fn request() -> Request {
    Request {
        endpoint: "thing",
        method: Method::Get,
        path: "/v1/thing".to_owned(),
        params: vec![("symbol".to_owned(), "BTC USD".to_owned())],
        costs: vec![("ip".to_owned(), 5)],
    }
}

fn assert_no_secret(text: &str) {
    for secret in [KEY, SIGNATURE, "signature=", "symbol=BTC", "127.0.0.1"] {
        assert!(!text.contains(secret), "`{secret}` leaked in: {text}");
    }
}

#[test]
fn retries_on_500_then_succeeds() {
    let server = TestServer::start(|n, _| if n < 2 { Reply::json(500, "{}") } else { Reply::json(200, "[1,2]") });
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    let answer = client.send(&request()).unwrap();
    assert_eq!((answer.status, answer.body.as_slice(), answer.attempts), (200, &b"[1,2]"[..], 3));
    // Every attempt was counted by the limiter and carried the signed query and the key.
    assert_eq!(client.limiter().stats()["ip"].weight, 15);
    let seen: Vec<Seen> = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/v1/thing");
    assert_eq!(seen[0].query, format!("symbol=BTC%20USD&signature={SIGNATURE}"));
    assert_eq!(seen[0].header("x-key"), Some(KEY));
}

#[test]
fn gives_up_after_max_attempts_with_the_last_reason() {
    let server = TestServer::start(|_, _| Reply::json(503, "{}"));
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    let error = client.send(&request()).unwrap_err();
    assert_eq!(
        error,
        FetchError::GaveUp {
            exchange: "testex".to_owned(),
            endpoint: "thing".to_owned(),
            attempts: 4,
            last: "HTTP 503".to_owned()
        }
    );
    assert_eq!(server.seen().len(), 4);
}

#[test]
fn a_truncated_body_is_retried() {
    let server = TestServer::start(|n, _| {
        if n == 0 {
            Reply::Truncated { status: 200, body: b"[1,2,3,4,5,6,7,8,9]".to_vec(), sent: 7 }
        } else {
            Reply::json(200, "[1,2,3,4,5,6,7,8,9]")
        }
    });
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    let answer = client.send(&request()).unwrap();
    assert_eq!((answer.body.len(), answer.attempts), (19, 2));
}

#[test]
fn a_body_cut_off_every_time_gives_up_saying_so() {
    let server = TestServer::start(|_, _| Reply::Truncated { status: 200, body: vec![b' '; 100], sent: 10 });
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    match client.send(&request()).unwrap_err() {
        FetchError::GaveUp { last, attempts: 4, .. } => {
            assert!(last.contains("cut off after 10 bytes"), "{last}");
            assert_no_secret(&last);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_timeout_is_retried() {
    let server =
        TestServer::start(
            |n, _| {
                if n == 0 { Reply::Stall(Duration::from_millis(1_500)) } else { Reply::json(200, "{}") }
            },
        );
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    let started = std::time::Instant::now();
    let answer = client.send(&request()).unwrap();
    assert_eq!(answer.attempts, 2);
    assert!(started.elapsed() < Duration::from_millis(1_400), "{:?}", started.elapsed());
}

#[test]
fn timeouts_every_time_give_up_naming_the_timeout() {
    let server = TestServer::start(|_, _| Reply::Stall(Duration::from_millis(800)));
    let config = ClientConfig { max_attempts: 2, read_timeout: Duration::from_millis(100), ..fast() };
    let client = client_on(&server, Arc::new(ManualClock::new(0)), config);
    match client.send(&request()).unwrap_err() {
        FetchError::GaveUp { last, attempts: 2, .. } => {
            assert!(last.contains("timed out"), "{last}");
            assert_no_secret(&last);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rate_limited_answer_pauses_everybody_for_retry_after() {
    let server = TestServer::start(|n, _| {
        if n == 0 { Reply::json_with(429, &[("Retry-After", "7")], "{}") } else { Reply::json(200, "{}") }
    });
    let clock = Arc::new(ManualClock::new(1_000_000));
    let client = client_on(&server, Arc::clone(&clock), fast());
    let answer = client.send(&request()).unwrap();
    assert_eq!(answer.attempts, 2);
    // The retry waited for the pause: 7 s (the backoff, at most 1 ms, is smaller).
    assert_eq!(client.limiter().paused_until_ms(), 1_007_000);
    assert_eq!(clock.slept(), Duration::from_secs(7));
}

#[test]
fn a_long_ban_fails_at_once_and_blocks_the_exchange() {
    let server = TestServer::start(|_, _| Reply::json_with(418, &[("Retry-After", "600")], "{}"));
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let client = client_on(&server, clock, fast());
    let error = client.send(&request()).unwrap_err();
    assert_eq!(error, FetchError::Banned { exchange: "testex".to_owned(), until: "2023-11-14T22:23:20Z".to_owned() });
    assert_eq!(server.seen().len(), 1, "never retry into a ban");
    assert_eq!(client.limiter().paused_until_ms(), 1_700_000_600_000);
}

#[test]
fn a_short_ban_is_waited_out() {
    let server = TestServer::start(|n, _| {
        if n == 0 { Reply::json_with(418, &[("Retry-After", "120")], "{}") } else { Reply::json(200, "{}") }
    });
    let clock = Arc::new(ManualClock::new(0));
    let client = client_on(&server, Arc::clone(&clock), fast());
    assert_eq!(client.send(&request()).unwrap().attempts, 2);
    assert!(clock.slept() >= Duration::from_secs(120));
}

#[test]
fn a_refusal_is_not_retried() {
    let server = TestServer::start(|_, _| Reply::json(400, "{}"));
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    assert!(matches!(client.send(&request()).unwrap_err(), FetchError::Api { status: 400, .. }));
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn usage_headers_feed_the_limiter() {
    let server = TestServer::start(|_, _| Reply::json_with(200, &[("X-Used", "990")], "{}"));
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    client.send(&request()).unwrap();
    assert_eq!(client.limiter().stats()["ip"].corrected, 985);
    // 990 used: the next request (5) still fits, the one after waits for the next minute.
    client.send(&request()).unwrap();
    let grant = client.limiter().acquire(&[("ip", 11)]);
    assert_eq!(grant.waited, Duration::from_secs(60));
}

#[test]
fn post_sends_the_body_with_its_content_type() {
    let server = TestServer::start(|_, _| Reply::json(200, "{}"));
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    client.send(&Request { method: Method::Post, ..request() }).unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, "a=1&b=2");
    assert_eq!(seen[0].header("content-type"), Some("application/x-www-form-urlencoded"));
}

#[test]
fn connection_refused_is_retried_then_given_up() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
    let limiter = Arc::new(Limiter::new(Arc::clone(&clock)));
    let protocol = Arc::new(Plain { clock: Arc::clone(&clock) });
    let client = Client::new(protocol, &format!("http://127.0.0.1:{port}/"), limiter, fast(), clock).unwrap();
    match client.send(&request()).unwrap_err() {
        FetchError::GaveUp { last, attempts: 4, .. } => {
            assert!(last.starts_with("could not connect"), "{last}");
            assert_no_secret(&last);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_base_urls_are_refused() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    for url in ["", "api.binance.com", "ftp://x", "http://x/?a=1"] {
        let limiter = Arc::new(Limiter::new(Arc::clone(&clock)));
        let protocol = Arc::new(Plain { clock: Arc::clone(&clock) });
        let error = Client::new(protocol, url, limiter, fast(), Arc::clone(&clock)).unwrap_err();
        assert!(matches!(error, FetchError::Setup { .. }), "{url}: {error:?}");
    }
}

#[test]
fn no_secret_in_errors_debug_or_logs() {
    super::test_log::install();
    let server = TestServer::start(|n, _| match n % 3 {
        0 => Reply::json(502, "{}"),
        1 => Reply::Truncated { status: 200, body: vec![b'x'; 50], sent: 3 },
        _ => Reply::Stall(Duration::from_millis(600)),
    });
    let client = client_on(&server, Arc::new(ManualClock::new(0)), ClientConfig { max_attempts: 5, ..fast() });
    let error = client.send(&request()).unwrap_err();
    for text in [error.to_string(), format!("{error:?}"), format!("{client:?}")] {
        assert_no_secret(&text.replace(&server.url(), "[base]"));
    }
    let lines = super::test_log::lines();
    assert!(lines.iter().any(|line| line.contains("testex thing /v1/thing")), "{lines:?}");
    for line in &lines {
        for secret in [KEY, SIGNATURE, "signature=", "symbol=BTC"] {
            assert!(!line.contains(secret), "`{secret}` leaked in log: {line}");
        }
    }
}

#[test]
fn backoff_stays_within_its_doubling_capped_ceiling() {
    let mut rng = fastrand::Rng::with_seed(7);
    let base = Duration::from_millis(500);
    let max = Duration::from_secs(60);
    for attempt in 1..=40u32 {
        let ceiling = base.saturating_mul(1 << (attempt - 1).min(20)).min(max);
        let mut longest = Duration::ZERO;
        for _ in 0..200 {
            let delay = backoff_delay(attempt, base, max, &mut rng);
            assert!(delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
            longest = longest.max(delay);
        }
        // Full jitter spreads over the whole range.
        assert!(longest > ceiling / 2, "attempt {attempt}: {longest:?}");
    }
    assert_eq!(backoff_delay(1, Duration::ZERO, max, &mut rng), Duration::ZERO);
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = 1_700_000_000_000; // 2023-11-14T22:13:20Z
    assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1_500)));
    assert_eq!(parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now), Some(Duration::from_secs(30)));
    assert_eq!(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), Some(Duration::ZERO));
    for bad in ["", "soon", "-3", "1.2.3", ".", "99999999999999999999999"] {
        assert_eq!(parse_retry_after(bad, now), None, "{bad}");
    }
    let mut headers = HeaderMap::new();
    headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("12"));
    assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(12)));
}

#[test]
fn config_from_the_environment() {
    let none = ClientConfig::from_vars(|_| None);
    assert_eq!(none, ClientConfig::default());
    assert_eq!(
        (none.connect_timeout, none.read_timeout, none.max_attempts, none.backoff_base, none.backoff_max),
        (Duration::from_secs(10), Duration::from_secs(30), 8, Duration::from_millis(500), Duration::from_secs(60))
    );
    let fast = ClientConfig::from_vars(|name| (name == "COINTALLY_HTTP_FAST").then(|| "1".to_owned()));
    assert_eq!(
        (fast.backoff_base, fast.backoff_max, fast.read_timeout),
        (Duration::from_millis(1), Duration::from_millis(20), Duration::from_secs(2))
    );
    let both = ClientConfig::from_vars(|name| match name {
        "COINTALLY_HTTP_FAST" => Some("1".to_owned()),
        "COINTALLY_HTTP_TIMEOUT_MS" => Some("750".to_owned()),
        _ => None,
    });
    assert_eq!(both.read_timeout, Duration::from_millis(750));
}

#[test]
fn query_encoding_keeps_only_unreserved_characters() {
    let params =
        vec![("symbols".to_owned(), "[\"BNBBTC\",\"ETHBTC\"]".to_owned()), ("a b".to_owned(), "１-._~".to_owned())];
    assert_eq!(encode_query(&params), "symbols=%5B%22BNBBTC%22%2C%22ETHBTC%22%5D&a%20b=%EF%BC%91-._~");
    assert_eq!(encode_query(&[]), "");
}

#[test]
fn debug_of_a_prepared_request_hides_signature_and_key() {
    let prepared = Plain { clock: Arc::new(SystemClock) }.prepare(&request()).unwrap();
    let text = format!("{prepared:?}");
    assert!(text.contains("symbol=BTC%20USD&signature=[redacted]"), "{text}");
    assert!(!text.contains(SIGNATURE) && !text.contains(KEY), "{text}");
}

#[test]
fn urls_are_redacted_from_error_text() {
    assert_eq!(redact_url("error sending request for url (http://h/x?signature=abc)"), "error sending request");
    assert_eq!(redact_url("see https://h/x?a=1 now"), "see [url] now");
}

#[test]
fn a_redirect_is_refused_naming_its_host_and_the_key_never_reaches_it() {
    for status in [301u16, 302, 303, 307, 308] {
        let elsewhere = TestServer::start(|_, _| Reply::json(200, "{}"));
        let target = format!("{}/steal?signature={SIGNATURE}", elsewhere.url());
        let server = TestServer::start(move |_, _| Reply::Full {
            status,
            headers: vec![("Location".to_owned(), target.clone())],
            body: Vec::new(),
        });
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        let error = client.send(&request()).unwrap_err();
        let host = elsewhere.url();
        assert!(
            matches!(&error, FetchError::Redirected { status: s, target, .. } if *s == status && *target == host),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains(&host) && text.contains("never follows redirects"), "{text}");
        assert!(!text.contains(SIGNATURE) && !text.contains("/steal") && !text.contains(KEY), "{text}");
        // Asked once (a redirect is not retried), and nothing at all reached the other host.
        assert_eq!(server.seen().len(), 1);
        assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
    }
}

#[test]
fn a_relative_or_missing_location_is_named_without_its_path() {
    let server = TestServer::start(|n, _| {
        let headers = if n == 0 { vec![("Location".to_owned(), "/other?x=1".to_owned())] } else { Vec::new() };
        Reply::Full { status: 302, headers, body: Vec::new() }
    });
    let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
    let first = client.send(&request()).unwrap_err();
    assert!(matches!(&first, FetchError::Redirected { target, .. } if *target == server.url()), "{first:?}");
    let second = client.send(&request()).unwrap_err();
    assert!(second.to_string().contains("no Location header"), "{second}");
}
