//! The Coinbase adapter's unit tests: cursors, wallets read at once, rewind points.

use super::*;

#[test]
fn cursors_read_back_what_they_write() {
    let mut c = TxCursor::default();
    c.pos.insert("w1".into(), "t9".into());
    c.finished.insert("w0".into());
    c.after.insert("w2".into(), "t3".into());
    c.rewind.insert("w1".into(), String::new());
    assert_eq!(cursor::decode::<TxCursor>(&cursor::encode(&c)), Some(c));
    assert_eq!(cursor::decode::<TxCursor>(""), Some(TxCursor::default()));
    assert_eq!(cursor::decode::<TxCursor>("end=x"), None);
    // A cursor written while one wallet was read at a time keeps its positions.
    let old = cursor::decode::<TxCursor>(r#"{"pos":{"w1":"t9"},"at":"w2","next":"t3"}"#).unwrap();
    assert_eq!(old.pos.get("w1").map(String::as_str), Some("t9"));
    let f = FillCursor { cursor: Some("abc".into()), floor: None, top_ms: Some(5), done: false };
    assert_eq!(cursor::decode::<FillCursor>(&cursor::encode(&f)), Some(f));
}

/// Every record of one whole transactions walk, by id, with its events; and the pages.
fn walk(adapter: &CoinbaseAdapter) -> (BTreeMap<String, Vec<crate::NewEvent>>, usize) {
    let stream = Stream::new(TRANSACTIONS, "");
    let plan = SyncPlan { full: false, since_ms: None };
    let mut cursor = adapter.start(&stream, None, &plan).unwrap();
    let (mut records, mut pages) = (BTreeMap::new(), 0);
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        pages += 1;
        for record in &page.records {
            let events = crate::registry::normalize(crate::Exchange::Coinbase, &stream, record).unwrap();
            assert!(records.insert(record.external_id.clone(), events).is_none(), "{} twice", record.external_id);
        }
        cursor = page.cursor;
        if page.done {
            return (records, pages);
        }
    }
}

#[test]
fn wallets_read_at_once_store_what_one_at_a_time_stores() {
    use crate::coinbase::sim::history::CoinbaseProfile;
    use crate::coinbase::sim::{self, AccountsConfig, CoinbaseSimConfig, Limits};
    use crate::http::{ClientConfig, Clock, SystemClock};
    let config = CoinbaseSimConfig { limits: Limits::Off, ..CoinbaseSimConfig::demo(7) };
    let profile = CoinbaseProfile { transactions: 1_500, ..CoinbaseProfile::demo() };
    let sim = sim::start_with_accounts(config, AccountsConfig { profile, ..AccountsConfig::demo() }).unwrap();
    let adapter = |at_once: usize| {
        let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
        let key = sim.key().clone();
        let limiter = CoinbaseApi::new_limiter(clock.clone(), super::super::api::Budget::scaled(1_000_000));
        let api = CoinbaseApi::new(
            Some(&sim.base_url()),
            &crate::Secret::new(key.key_name),
            &crate::Secret::new(key.private_key),
            "main",
            limiter,
            ClientConfig::from_env(),
            clock,
        )
        .unwrap();
        CoinbaseAdapter::new(api).with_wallets_at_once(at_once)
    };
    let (one, one_pages) = walk(&adapter(1));
    let (four, four_pages) = walk(&adapter(WALLETS_AT_ONCE));
    assert_eq!(one, four);
    assert!(four_pages * 2 < one_pages, "{four_pages} pages with four wallets at once, {one_pages} with one");
    let account = sim.account();
    let conversions = account.txs.iter().filter(|t| t.kind == "trade").count() / 2;
    assert_eq!(four.len(), account.txs.len() - conversions);
}

#[test]
fn a_pair_is_read_again_whole_or_not_at_all() {
    let spot = |wallet: &str, index: u64| Spot { wallet: wallet.into(), index, before: format!("{wallet}{index}") };
    let held =
        Held { wallet: "x".into(), time_ms: 0, before: "x5".into(), index: 5, id: "h".into(), payload: String::new() };
    let pairs = [
        // After x's rewind point: y must be read again from before its half, and then w.
        (spot("x", 7), spot("y", 2)),
        (spot("y", 4), spot("w", 1)),
        // Before x's rewind point: z keeps its place.
        (spot("x", 3), spot("z", 4)),
    ];
    let points = rewind_points(std::iter::once(&held), &pairs);
    let want: BTreeMap<String, String> =
        [("w", "w1"), ("x", "x5"), ("y", "y2")].into_iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect();
    assert_eq!(points, want);
}

#[test]
fn next_uris_give_their_starting_after() {
    assert_eq!(
        starting_after(Some("/v2/accounts/w/transactions?limit=100&order=asc&starting_after=t7")),
        Some("t7".to_owned())
    );
    assert_eq!(starting_after(Some("")), None);
    assert_eq!(starting_after(None), None);
}
