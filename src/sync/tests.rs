//! The engine against an adapter that serves fixed pages: what an exchange sends that this
//! version does not know never stops the walk.

use std::sync::Arc;

use cointally_exchanges::adapter::{
    Adapter, Balance, KeyPermissions, Known, Page, Pending, Progress, RawRecord, Stream, SyncPlan,
};
use cointally_exchanges::http::FetchError;
use cointally_exchanges::{EventKind, Exchange};
use rust_decimal::Decimal;

use super::*;
use crate::ledger::{EventFilter, NewAccount, OpenMode};

/// Kraken's `Ledgers` stream in two pages, newest first as Kraken walks it: the newer page
/// holds a record that cannot be read at all, the older one a type cointally does not know and
/// a deposit that must still arrive.
struct TwoPages;

fn entry(kind: &str, time: &str, asset: &str, amount: &str) -> String {
    format!(
        r#"{{"refid":"R{time}","time":{time},"type":"{kind}","subtype":"","asset":"{asset}","amount":"{amount}","fee":"0"}}"#
    )
}

impl Adapter for TwoPages {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        Ok(KeyPermissions { can_read: true, ..KeyPermissions::default() })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        Ok(vec![
            Balance { asset: "BTC".into(), amount: Decimal::new(15, 1) },
            Balance { asset: "ETH".into(), amount: Decimal::new(2, 0) },
        ])
    }

    fn streams(&self, _: &Known, _: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok(vec![Stream::new("Ledgers", "")])
    }

    fn start(&self, _: &Stream, stored: Option<&str>, _: &SyncPlan) -> Result<String, FetchError> {
        Ok(stored.unwrap_or("newest").to_owned())
    }

    fn fetch_page(&self, _: &Stream, cursor: &str) -> Result<Page, FetchError> {
        let record = |id: &str, payload: String| RawRecord { external_id: id.into(), payload };
        let (records, next, done) = match cursor {
            "newest" => (
                vec![
                    record("L3", entry("deposit", "1700000300", "XXBT", "0.5")),
                    record("L4", r#"{"refid":"R","time":1700000400,"type":"deposit","asset":"XXBT"}"#.to_owned()),
                ],
                "older",
                false,
            ),
            "older" => (
                vec![
                    record("L1", entry("deposit", "1700000100", "XXBT", "1")),
                    record("L2", entry("nfttrade", "1700000200", "XETH", "2")),
                ],
                "end",
                true,
            ),
            _ => (Vec::new(), "end", true),
        };
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: next.to_owned(),
            done,
            covered: None,
            progress: Progress::Unknown,
            requests: 1,
            retries: 0,
            warnings: Vec::new(),
        })
    }
}

#[test]
fn unknown_and_unreadable_records_never_stop_the_walk_and_older_history_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
    let account = ledger.add_account(&NewAccount::files_only("kr", "kraken")).unwrap();
    let jobs = [Job { account, exchange: Exchange::Kraken, adapter: Arc::new(TwoPages) }];
    let options = Options { full: false, since_ms: None, workers: 1 };

    let summaries = run(&mut ledger, &jobs, &options, &Reporter::new(true)).unwrap();
    let summary = &summaries[0];
    assert_eq!(summary.error, None);
    assert_eq!(summary.needs_attention, 1, "the unreadable record needs attention");
    let ledgers = &summary.endpoints[0];
    assert_eq!((ledgers.pages, ledgers.records, ledgers.new_records), (2, 4, 4), "both pages were walked");
    assert_eq!((ledgers.unknown_records, ledgers.unreadable_records), (1, 1));
    assert!(ledgers.warnings.iter().any(|w| w.contains("L4") || w.contains("field")), "{:?}", ledgers.warnings);
    assert!(
        ledgers.warnings.iter().any(|w| w.contains("nfttrade") && w.contains("reclassify")),
        "{:?}",
        ledgers.warnings
    );
    assert!(summary.balance_differences.is_empty(), "{:?}", summary.balance_differences);

    let unknown = ledger.events(&EventFilter { kind: Some(EventKind::Unknown), ..Default::default() }).unwrap();
    assert_eq!(unknown.len(), 1);
    let unreadable = ledger.unreadable_records(None).unwrap();
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].external_id, "L4");

    let findings = crate::check::audit(&mut ledger).unwrap();
    let unknown_kind = findings.iter().find(|f| f.kind == "unknown_kind").expect("an unknown_kind finding");
    assert!(unknown_kind.message.contains("nfttrade") && unknown_kind.message.contains("first event"));
    assert!(findings.iter().any(|f| f.kind == "unreadable_record" && f.items[0].detail.contains("L4")));
    assert!(!findings.iter().any(|f| f.kind == "missing_basis"), "unknown events are not also missing basis");

    // Re-normalising keeps the unreadable one marked, and the unknown one as it was.
    let account = ledger.account("kr").unwrap();
    let again = renormalize::renormalize(&mut ledger, &account, Exchange::Kraken).unwrap();
    assert_eq!((again.records, again.unreadable, again.events_after), (4, 1, 3));
    assert_eq!(ledger.unreadable_records(Some("kr")).unwrap().len(), 1);
}

/// One page holding a deposit and naming a withdrawal it passed over as not final; the adapter
/// does not implement `recheck`, so the default keeps the withdrawal pending.
struct OnePending;

impl Adapter for OnePending {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        Ok(KeyPermissions { can_read: true, ..KeyPermissions::default() })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        Ok(vec![Balance { asset: "BTC".into(), amount: Decimal::ONE }])
    }

    fn streams(&self, _: &Known, _: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok(vec![Stream::new("Ledgers", "")])
    }

    fn start(&self, _: &Stream, stored: Option<&str>, _: &SyncPlan) -> Result<String, FetchError> {
        Ok(stored.unwrap_or("newest").to_owned())
    }

    fn fetch_page(&self, _: &Stream, cursor: &str) -> Result<Page, FetchError> {
        let first = cursor == "newest";
        let records = if first {
            vec![RawRecord { external_id: "L1".into(), payload: entry("deposit", "1700000100", "XXBT", "1") }]
        } else {
            Vec::new()
        };
        let pending = if first {
            vec![Pending { external_id: "L2".into(), locator: String::new(), what: "withdrawal of 0.5 BTC".into() }]
        } else {
            Vec::new()
        };
        Ok(Page {
            records,
            pending,
            cursor: "end".to_owned(),
            done: true,
            covered: None,
            progress: Progress::Unknown,
            requests: 1,
            retries: 0,
            warnings: Vec::new(),
        })
    }
}

#[test]
fn a_pending_record_is_remembered_named_and_kept_pending_by_the_default_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
    let account = ledger.add_account(&NewAccount::files_only("kr", "kraken")).unwrap();
    let id = account.id;
    let jobs = [Job { account, exchange: Exchange::Kraken, adapter: Arc::new(OnePending) }];
    let options = Options { full: false, since_ms: None, workers: 1 };
    for run_number in 1..=2 {
        let summaries = run(&mut ledger, &jobs, &options, &Reporter::new(true)).unwrap();
        let ledgers = &summaries[0].endpoints[0];
        assert_eq!(ledgers.pending, 1, "run {run_number}");
        assert!(
            ledgers.warnings.iter().any(|w| w.contains("L2") && w.contains("withdrawal of 0.5 BTC")),
            "run {run_number}: {:?}",
            ledgers.warnings
        );
        let pending = ledger.pending(id).unwrap();
        assert_eq!(pending.get(&Stream::new("Ledgers", "")).map(Vec::len), Some(1));
        assert_eq!(ledger.events(&EventFilter::default()).unwrap().len(), 1, "the deposit, not the pending one");
    }
}
