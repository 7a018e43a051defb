use super::*;

#[test]
fn time_cursors_read_back_what_they_write() {
    let c = TimeCursor { from_ms: 5, page: 2, span_ms: 7, hold_ms: Some(3), begin_ms: 1 };
    assert_eq!(TimeCursor::parse(&c.render()), Some(c));
    let c = TimeCursor { hold_ms: None, ..c };
    assert_eq!(TimeCursor::parse(&c.render()), Some(c));
    assert_eq!(TimeCursor::parse("from=x"), None);
    let trades = TradeCursor { from_id: 42 };
    assert_eq!(trades.render(), r#"{"from_id":42}"#);
    assert_eq!(TradeCursor::parse(&trades.render()), Some(trades));
    assert_eq!(TradeCursor::parse("fromId=x"), None);
}

fn adapter() -> BinanceAdapter {
    let clock: Arc<dyn crate::http::Clock> = Arc::new(crate::http::ManualClock::new(1_700_000_000_000));
    let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
    let (key, secret) = (crate::Secret::new(""), crate::Secret::new(""));
    let config = crate::http::ClientConfig::default();
    // Nothing listens there: `start` asks Binance nothing.
    BinanceAdapter::new(
        BinanceApi::new(Some("http://127.0.0.1:9"), key, secret, "main", limiter, config, clock).unwrap(),
    )
}

/// A ledger synced by a version that wrote `from=…;page=…` and `fromId=N` cursors resumes
/// where it stopped, exactly as from the same cursor in JSON.
#[test]
fn cursors_written_before_json_resume_where_they_stopped() {
    let adapter = adapter();
    let plan = SyncPlan { full: false, since_ms: None };
    let trades = Stream::new("myTrades", "BNB/BTC");
    let resumed = adapter.start(&trades, Some("fromId=28458"), &plan).unwrap();
    assert_eq!(TradeCursor::parse(&resumed), Some(TradeCursor { from_id: 28_458 }));
    assert_eq!(TradeCursor::parse("fromId=28458"), TradeCursor::parse(r#"{"from_id":28458}"#));

    let old = "from=1600000000000;page=3;span=7689600000;begin=1500000000000;hold=1599000000000";
    let expected = TimeCursor {
        from_ms: 1_600_000_000_000,
        page: 3,
        span_ms: 7_689_600_000,
        hold_ms: Some(1_599_000_000_000),
        begin_ms: 1_500_000_000_000,
    };
    assert_eq!(TimeCursor::parse(old), Some(expected));
    let deposits = Stream::new("deposits", "");
    let from_old = adapter.start(&deposits, Some(old), &plan).unwrap();
    assert_eq!(from_old, adapter.start(&deposits, Some(&expected.render()), &plan).unwrap());
    let restarted = TimeCursor::parse(&from_old).unwrap();
    // From the held record, less the look-back day, in the walk that began where it began.
    assert_eq!(restarted.from_ms, 1_599_000_000_000 - LOOKBACK_MS);
    assert_eq!(restarted.begin_ms, 1_500_000_000_000);
    assert!(from_old.starts_with('{'), "{from_old}");
}

/// The two rows of a self-trade get distinct keys; the first keeps the plain id that earlier
/// versions stored it under, whichever side it is.
#[test]
fn the_second_row_of_a_self_trade_adds_its_side_to_the_key() {
    assert_eq!(trade_key(28_457, true, false), "28457");
    assert_eq!(trade_key(28_457, false, false), "28457");
    assert_eq!(trade_key(28_457, false, true), "28457:seller");
    assert_eq!(trade_key(28_457, true, true), "28457:buyer");
}

/// A venue that answers 404 to `apiRestrictions` leaves every permission unknown, so the key
/// is treated as withdraw-capable (refused unless allowed), never as safe.
#[test]
fn a_missing_permission_endpoint_fails_closed() {
    use crate::sim::server::{Request, Response, Server};
    struct NoRestrictions;
    impl crate::sim::server::Handler for NoRestrictions {
        fn handle(&self, request: &Request) -> Response {
            assert_eq!(request.path, "/sapi/v1/account/apiRestrictions");
            Response::json(404, r#"{"code":-1000,"msg":"Unknown path or method."}"#)
        }
    }
    let server = Server::start(0, Arc::new(NoRestrictions), None).unwrap();
    let clock: Arc<dyn crate::http::Clock> = Arc::new(crate::http::SystemClock);
    let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
    let (key, secret) = (crate::Secret::new("k"), crate::Secret::new("s"));
    let api = BinanceApi::new(
        Some(&server.base_url()),
        key,
        secret,
        "main",
        limiter,
        crate::http::ClientConfig::default(),
        clock,
    )
    .unwrap();
    let permissions = BinanceAdapter::new(api).key_permissions().unwrap();
    assert_eq!(server.requests(), 1);
    assert_eq!(permissions.can_withdraw, None);
    assert!(permissions.may_withdraw());
    assert!(permissions.details[0].contains("not reported"));
}

/// An unexpected answer during a Binance.US sync names Binance.US, not Binance, though the two
/// share the parsing.
#[test]
fn an_unexpected_answer_names_the_venue_it_came_from() {
    use crate::sim::server::{Request, Response, Server};
    struct NotABalance;
    impl crate::sim::server::Handler for NotABalance {
        fn handle(&self, request: &Request) -> Response {
            assert_eq!(request.path, "/api/v3/account");
            Response::json(200, r#"{"balances":5}"#)
        }
    }
    let server = Server::start(0, Arc::new(NotABalance), None).unwrap();
    let clock: Arc<dyn crate::http::Clock> = Arc::new(crate::http::SystemClock);
    let venue = &crate::binanceus::api::VENUE;
    let limiter = BinanceApi::new_limiter_at(venue, Arc::clone(&clock));
    let (key, secret) = (crate::Secret::new("k"), crate::Secret::new("s"));
    let config = crate::http::ClientConfig::default();
    let api = BinanceApi::at(venue, Some(&server.base_url()), key, secret, "main", limiter, config, clock).unwrap();
    match BinanceAdapter::new(api).balances() {
        Err(FetchError::Malformed { exchange, endpoint, .. }) => {
            assert_eq!((exchange.as_str(), endpoint.as_str()), ("binanceus", "account"));
        }
        other => panic!("expected an unexpected-answer error, got {other:?}"),
    }
}

/// Binance.US's walks through time begin at its launch (2019-09-01), not binance.com's
/// (2017-07-14): its first deposits window asks from there, and binance.com's stays as it was.
#[test]
fn binance_us_first_window_starts_at_its_launch() {
    let clock: Arc<dyn crate::http::Clock> = Arc::new(crate::http::ManualClock::new(1_700_000_000_000));
    let venue = &crate::binanceus::api::VENUE;
    let limiter = BinanceApi::new_limiter_at(venue, Arc::clone(&clock));
    let (key, secret) = (crate::Secret::new("k"), crate::Secret::new("s"));
    let config = crate::http::ClientConfig::default();
    // Nothing listens there: `start` asks nothing.
    let api = BinanceApi::at(venue, Some("http://127.0.0.1:9"), key, secret, "main", limiter, config, clock).unwrap();
    let us = BinanceAdapter::new(api);
    let plan = SyncPlan { full: false, since_ms: None };
    for (endpoint, _) in venue.streams {
        let first = TimeCursor::parse(&us.start(&Stream::new(*endpoint, ""), None, &plan).unwrap()).unwrap();
        assert_eq!((first.from_ms, first.begin_ms), (1_567_296_000_000, 1_567_296_000_000), "{endpoint}");
        assert_eq!(first.span_ms, 89 * DAY_MS);
    }
    // A --since before the launch still starts at the launch; a later one where it says.
    let early = SyncPlan { full: false, since_ms: Some(LAUNCH_MS) };
    let first = TimeCursor::parse(&us.start(&Stream::new("deposits", ""), None, &early).unwrap()).unwrap();
    assert_eq!(first.from_ms, 1_567_296_000_000);
    let com = TimeCursor::parse(&adapter().start(&Stream::new("deposits", ""), None, &plan).unwrap()).unwrap();
    assert_eq!(com.from_ms, LAUNCH_MS);
}

/// Binance.US's own streams ask their pages as their endpoints document them: the fiat
/// history by `offset` (the records already read in the window), staking rewards and OTC
/// orders by `page` and `limit`, distributions with `limit` only, the dust log with neither.
#[test]
fn binance_us_own_streams_ask_their_documented_paging() {
    let us = adapter();
    let params = |endpoint: &str, page: u32| {
        let walk = us.walk(&Stream::new(endpoint, "")).unwrap();
        let params = window_params(&Stream::new(endpoint, ""), walk, 10, 20, page);
        params.into_iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&")
    };
    assert_eq!(params("fiatDepositHistory", 37), "startTime=10&endTime=20&offset=37");
    assert_eq!(params("fiatWithdrawHistory", 0), "startTime=10&endTime=20&offset=0");
    assert_eq!(params("stakingRewards", 1), "startTime=10&endTime=20&page=2&limit=500");
    assert_eq!(params("otcOrders", 0), "startTime=10&endTime=20&page=1&limit=100");
    assert_eq!(params("distributions", 0), "startTime=10&endTime=20&limit=500");
    assert_eq!(params("dustLogs", 0), "startTime=10&endTime=20");
    for endpoint in ["fiatDepositHistory", "stakingRewards", "distributions", "dustLogs", "otcOrders"] {
        assert_eq!(us.walk(&Stream::new(endpoint, "")).unwrap().span_ms, Some(89 * DAY_MS), "{endpoint}");
    }
}
