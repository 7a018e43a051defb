//! Import tests over the fixture files in `fixtures/generic` and `fixtures/koinly`.

use std::path::{Path, PathBuf};

use cointally_exchanges::EventKind;
use rust_decimal::Decimal;

use super::*;
use crate::ledger::{EventFilter, NewAccount, OpenMode};

/// The format called `name` on the command line.
fn named(name: &str) -> Format {
    name.parse().unwrap()
}

#[test]
fn formats_are_listed_in_detection_order_and_parse_back() {
    let names: Vec<&str> = Format::all().into_iter().map(Format::as_str).collect();
    assert_eq!(
        names,
        [
            "generic",
            "koinly",
            "coinbase",
            "kraken",
            "binance",
            "binance-trades",
            "gemini",
            "bitstamp",
            "bitstamp-legacy",
            "kucoin",
            "bybit-log",
            "bitfinex",
            "binanceus",
            "okx-bills"
        ]
    );
    assert_eq!(named("binance-trades").exchange(), Some("binance"));
    assert_eq!(named("generic").exchange(), None);
    assert!("nope".parse::<Format>().unwrap_err().contains("known: generic, koinly, coinbase, kraken"));
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

fn ledger_with(exchange: &str) -> (tempfile::TempDir, Ledger, Account) {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
    let account = ledger.add_account(&NewAccount::files_only("main", exchange)).unwrap();
    (dir, ledger, account)
}

fn import(ledger: &mut Ledger, account: &Account, files: &[&str]) -> Result<Vec<FileSummary>, ImportError> {
    let files: Vec<PathBuf> = files.iter().map(|f| fixture(f)).collect();
    import_files(ledger, account, &files, None, &NoProgress)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn balance(ledger: &Ledger, asset: &str) -> Decimal {
    ledger.balances(None, None).unwrap().into_iter().find(|b| b.asset == asset).map(|b| b.amount).unwrap_or_default()
}

#[test]
fn generic_history_becomes_events_with_signed_legs() {
    let (_dir, mut ledger, account) = ledger_with("wallet");
    let summary = import(&mut ledger, &account, &["generic/history.csv"]).unwrap();
    assert_eq!((summary[0].rows, summary[0].new_events, summary[0].existing_events), (7, 7, 0));
    assert_eq!(summary[0].format, Format::Generic);
    // 50000 - 45000 - 10 + 21000 - 5
    assert_eq!(balance(&ledger, "USD"), dec("25985"));
    // 0.5 - 0.1 - 0.0002 - 0.2 - 0.1 - 0.0001
    assert_eq!(balance(&ledger, "BTC"), dec("0.0997"));
    assert_eq!(balance(&ledger, "ETH"), dec("3.02"));
    let trades = ledger.events(&EventFilter { kind: Some(EventKind::Trade), ..Default::default() }).unwrap();
    assert_eq!(trades.len(), 3);
    assert_eq!(trades[0].external_id, "t-1");
    let legs: Vec<(String, Decimal)> = trades[0].legs.iter().map(|l| (l.asset.clone(), l.amount)).collect();
    assert_eq!(legs, [("USD".into(), dec("-45000")), ("BTC".into(), dec("0.5")), ("USD".into(), dec("-10"))]);
}

#[test]
fn importing_the_same_file_again_adds_nothing() {
    let (_dir, mut ledger, account) = ledger_with("wallet");
    import(&mut ledger, &account, &["generic/history.csv", "koinly/universal.csv"]).unwrap();
    let before = ledger.row_counts().unwrap();
    let again = import(&mut ledger, &account, &["generic/history.csv", "koinly/universal.csv"]).unwrap();
    assert!(again.iter().all(|s| s.new_events == 0 && s.existing_events == s.rows), "{again:?}");
    assert_eq!(ledger.row_counts().unwrap(), before);
}

#[test]
fn identical_rows_in_one_file_stay_two_events() {
    let (_dir, mut ledger, account) = ledger_with("wallet");
    import(&mut ledger, &account, &["generic/history.csv"]).unwrap();
    let rewards = ledger.events(&EventFilter { kind: Some(EventKind::Staking), ..Default::default() }).unwrap();
    assert_eq!(rewards.len(), 2);
    assert_eq!(rewards[1].external_id, format!("{}#1", rewards[0].external_id));
}

/// Each bad file is refused with FILE:LINE and the ledger keeps exactly what it had.
#[test]
fn bad_rows_are_refused_whole_with_file_and_line() {
    let cases = [
        ("generic/bad_date.csv", 3, "\"2025-02-30 10:00:00\" is not a date and time"),
        ("generic/bad_number.csv", 3, "\"1,5\" is not a decimal number"),
        ("generic/unknown_kind.csv", 3, "unknown event kind \"teleport\""),
        ("generic/missing_value.csv", 2, "a trade row needs both"),
        ("generic/unknown_column.csv", 2, "unknown column \"recieved_amount\""),
        ("generic/bad_last_row.csv", 4, "-3 is negative"),
        ("generic/not_utf8.csv", 3, "not valid UTF-8"),
        ("generic/semicolons_decimal_comma.csv", 3, "\"1,5\" is not a decimal number: write it with a point"),
        ("generic/unclosed_quote.csv", 3, "a quote is not closed"),
        ("koinly/unknown_label.csv", 2, "label \"moon bonus\" is not one cointally knows"),
    ];
    for (file, line, message) in cases {
        let (_dir, mut ledger, account) = ledger_with("wallet");
        import(&mut ledger, &account, &["generic/history.csv"]).unwrap();
        let before = ledger.row_counts().unwrap();
        let err = import(&mut ledger, &account, &[file]).unwrap_err();
        let ImportError::BadRows { problems, .. } = &err else { panic!("{file}: expected bad rows, got {err}") };
        assert_eq!(problems[0].line, line, "{file}: {problems:?}");
        assert!(problems[0].to_string().ends_with(&format!("{file}:{line}: {}", problems[0].message)), "{file}");
        assert!(problems[0].message.contains(message), "{file}: {}", problems[0].message);
        assert_eq!(ledger.row_counts().unwrap(), before, "{file} changed the ledger");
    }
}

#[test]
fn a_bad_second_file_leaves_the_first_unimported_too() {
    let (_dir, mut ledger, account) = ledger_with("wallet");
    let before = ledger.row_counts().unwrap();
    let err = import(&mut ledger, &account, &["generic/history.csv", "generic/bad_last_row.csv"]).unwrap_err();
    assert!(matches!(err, ImportError::BadRows { .. }));
    assert_eq!(ledger.row_counts().unwrap(), before);
}

/// A file a spreadsheet saved with semicolons between its fields (its numbers written with
/// points) reads as the same file with commas; a comma inside a field is text.
#[test]
fn a_file_separated_by_semicolons_reads_as_the_same_with_commas() {
    let (_dir, mut commas, account) = ledger_with("wallet");
    import(&mut commas, &account, &["generic/history.csv"]).unwrap();
    let (_dir2, mut semicolons, account) = ledger_with("wallet");
    let summary = import(&mut semicolons, &account, &["generic/semicolons.csv"]).unwrap();
    assert_eq!((summary[0].format, summary[0].new_events), (Format::Generic, 7));
    let events = |ledger: &Ledger| {
        let mut events = ledger.events(&EventFilter::default()).unwrap();
        for e in &mut events {
            e.note = None;
        }
        events
    };
    assert_eq!(events(&semicolons), events(&commas));
    assert_eq!(ledger_balances(&semicolons), ledger_balances(&commas));
    let first = &semicolons.events(&EventFilter::default()).unwrap()[0];
    assert_eq!(first.note.as_deref(), Some("wire from checking, January"));
}

fn ledger_balances(ledger: &Ledger) -> Vec<(String, Decimal)> {
    ledger.balances(None, None).unwrap().into_iter().map(|b| (b.asset, b.amount)).collect()
}

#[test]
fn a_utf16_file_is_named_as_such() {
    let (_dir, mut ledger, account) = ledger_with("wallet");
    let before = ledger.row_counts().unwrap();
    let err = import(&mut ledger, &account, &["generic/utf16.csv"]).unwrap_err();
    assert!(matches!(err, ImportError::Utf16 { .. }), "{err}");
    assert!(err.to_string().contains("is UTF-16 text, not UTF-8"), "{err}");
    assert_eq!(ledger.row_counts().unwrap(), before);
}

#[test]
fn every_bad_row_is_listed_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.csv");
    let mut text = String::from("time,kind,received_amount,received_asset\n");
    for day in 1..=30 {
        text += &format!("2025-01-{day:02} 00:00:00,deposit,x{day},BTC\n");
    }
    std::fs::write(&path, text).unwrap();
    let (_dir, mut ledger, account) = ledger_with("wallet");
    let err = import_files(&mut ledger, &account, &[path], None, &NoProgress).unwrap_err();
    let ImportError::BadRows { problems, truncated } = err else { panic!() };
    assert_eq!(problems.len(), MAX_ERRORS);
    assert!(truncated);
    assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), (2..2 + MAX_ERRORS as u64).collect::<Vec<_>>());
}

#[test]
fn koinly_rows_follow_koinly_semantics() {
    let (_dir, mut ledger, account) = ledger_with("other");
    let summary = import(&mut ledger, &account, &["koinly/universal.csv"]).unwrap();
    assert_eq!(summary[0].format, Format::Koinly);
    let kinds: Vec<EventKind> = ledger.events(&EventFilter::default()).unwrap().into_iter().map(|e| e.kind).collect();
    use EventKind::*;
    assert_eq!(kinds, [FiatDeposit, Trade, Trade, Staking, Swap, Spend, Interest]);
    assert_eq!(balance(&ledger, "STETH"), dec("0.0021"));
    assert_eq!(balance(&ledger, "USD"), dec("492.5"));
    assert_eq!(balance(&ledger, "BTC"), dec("0.02869"));
}

#[test]
fn unknown_headers_and_wrong_formats_are_named() {
    let (_dir, mut ledger, account) = ledger_with("wallet");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("songs.csv");
    std::fs::write(&path, "title,artist\nHey Jude,The Beatles\n").unwrap();
    let err = import_files(&mut ledger, &account, std::slice::from_ref(&path), None, &NoProgress).unwrap_err();
    assert!(matches!(&err, ImportError::UnknownFormat { first_line, .. } if first_line == "title,artist"), "{err}");
    let err =
        import_files(&mut ledger, &account, &[fixture("koinly/universal.csv")], Some(Format::Generic), &NoProgress)
            .unwrap_err();
    assert!(matches!(err, ImportError::WrongFormat { format: Format::Generic, .. }), "{err}");
}

/// Every good exchange fixture is detected as its format, imports, and imports once only.
#[test]
fn exchange_exports_are_detected_and_imported_once() {
    let cases: &[(&str, &str, Format)] = &[
        ("coinbase", "coinbase/csv/current_2024.csv", named("coinbase")),
        ("coinbase", "coinbase/csv/current_2025_addresses.csv", named("coinbase")),
        ("coinbase", "coinbase/csv/current_two_row_types.csv", named("coinbase")),
        ("coinbase", "coinbase/csv/v3_2023.csv", named("coinbase")),
        ("coinbase", "coinbase/csv/legacy_2022.csv", named("coinbase")),
        ("coinbase", "coinbase/csv/legacy_2021_gbp.csv", named("coinbase")),
        ("kraken", "kraken/csv/ledgers_2019_no_subtype.csv", named("kraken")),
        ("kraken", "kraken/csv/ledgers_2021.csv", named("kraken")),
        ("kraken", "kraken/csv/ledgers_2022_trailing_column.csv", named("kraken")),
        ("kraken", "kraken/csv/ledgers_2023_amountusd.csv", named("kraken")),
        ("kraken", "kraken/csv/ledgers_2024_wallet.csv", named("kraken")),
        ("kraken", "kraken/csv/ledgers_2024_wallet_amountusd.csv", named("kraken")),
        ("kraken", "kraken/csv/ledgers_2025.csv", named("kraken")),
        ("binance", "binance/csv/transactions_2021.csv", named("binance")),
        ("binance", "binance/csv/transactions_2024.csv", named("binance")),
        ("binance", "binance/csv/transactions_2025.csv", named("binance")),
        ("binance", "binance/csv/same_second_pairs.csv", named("binance")),
        ("binance", "binance/csv/trade_history.csv", named("binance-trades")),
    ];
    for (exchange, file, format) in cases {
        let (_dir, mut ledger, account) = ledger_with(exchange);
        let first = import(&mut ledger, &account, &[file]).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(first[0].format, *format, "{file}");
        assert!(first[0].new_events > 0 && first[0].rows >= first[0].new_events, "{file}: {first:?}");
        let counts = ledger.row_counts().unwrap();
        let again = import(&mut ledger, &account, &[file]).unwrap();
        assert_eq!(again[0].new_events, 0, "{file}");
        assert_eq!(ledger.row_counts().unwrap(), counts, "{file}");
    }
}

#[test]
fn exchange_bad_files_name_their_line() {
    let cases: &[(&str, &str)] = &[
        ("coinbase", "coinbase/csv/bad_number.csv"),
        ("coinbase", "coinbase/csv/bad_date.csv"),
        ("coinbase", "coinbase/csv/bad_convert_notes.csv"),
        ("kraken", "kraken/csv/bad_number.csv"),
        ("kraken", "kraken/csv/bad_date.csv"),
        ("binance", "binance/csv/bad_number.csv"),
        ("binance", "binance/csv/bad_date.csv"),
    ];
    for (exchange, file) in cases {
        let (_dir, mut ledger, account) = ledger_with(exchange);
        let before = ledger.row_counts().unwrap();
        let err = import(&mut ledger, &account, &[file]).unwrap_err();
        let ImportError::BadRows { problems, .. } = &err else { panic!("{file}: {err}") };
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        let lines = text.lines().count() as u64;
        assert!(problems.iter().all(|p| p.line >= 1 && p.line <= lines), "{file}: {problems:?}");
        assert_eq!(ledger.row_counts().unwrap(), before, "{file}");
    }
}

#[test]
fn an_export_into_another_exchanges_account_is_refused() {
    let (_dir, mut ledger, account) = ledger_with("binance");
    let err = import(&mut ledger, &account, &["kraken/csv/ledgers_2021.csv"]).unwrap_err();
    assert!(matches!(err, ImportError::WrongAccount { format, .. } if format == named("kraken")), "{err}");
}

/// Line numbers count physical lines, whatever the line endings and blank lines.
#[test]
fn line_numbers_are_physical_lines_with_crlf_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.csv");
    let text = "\r\nnotes before the header\r\ntime,kind,received_amount,received_asset\r\n\
                2025-01-01 00:00:00,deposit,1,BTC\r\n\r\n\r\n2025-01-02 00:00:00,deposit,x,BTC\r\n";
    std::fs::write(&path, text).unwrap();
    let (_dir, mut ledger, account) = ledger_with("wallet");
    let err = import_files(&mut ledger, &account, &[path], None, &NoProgress).unwrap_err();
    let ImportError::BadRows { problems, .. } = err else { panic!() };
    assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [7]);
}

#[test]
fn a_file_is_kept_whole_once_and_each_event_names_its_lines() {
    use sha2::{Digest, Sha256};
    let (_dir, mut ledger, account) = ledger_with("wallet");
    import(&mut ledger, &account, &["generic/history.csv"]).unwrap();
    let files = ledger.imported_files(account.id).unwrap();
    let original = std::fs::read(fixture("generic/history.csv")).unwrap();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(
        (file.source.as_str(), file.name.as_str(), file.bytes),
        ("csv:generic", "history.csv", original.len() as u64)
    );
    assert_eq!(file.sha256, crate::digest::hex(&Sha256::digest(&original)));
    let mut back = Vec::new();
    assert_eq!(ledger.write_imported_file(file.id, &mut back).unwrap(), original.len() as u64);
    assert_eq!(back, original, "the bytes as they were read");
    // Each event names its line (the header is line 1), in file order.
    let events = ledger.events(&EventFilter::default()).unwrap();
    assert_eq!(events.len(), 7);
    for (i, event) in events.iter().enumerate() {
        let want = crate::ledger::RawRef::Lines {
            file_id: file.id,
            source: "csv:generic".into(),
            name: "history.csv".into(),
            lines: (i + 2).to_string(),
        };
        assert_eq!(ledger.sources_of_event(event.id).unwrap(), std::slice::from_ref(&want));
        assert_eq!(want.to_string(), format!("csv:generic file #{} history.csv line {}", file.id, i + 2));
    }

    // Again, and the same rows separated by semicolons: nothing new, so no file is kept.
    let counts = ledger.row_counts().unwrap();
    import(&mut ledger, &account, &["generic/history.csv", "generic/semicolons.csv"]).unwrap();
    assert_eq!(ledger.row_counts().unwrap(), counts);
    // A refused import keeps nothing of its files.
    assert!(import(&mut ledger, &account, &["generic/bad_last_row.csv"]).is_err());
    assert_eq!(ledger.row_counts().unwrap(), counts);
}

#[test]
fn an_event_of_several_rows_names_every_line() {
    let (_dir, mut ledger, account) = ledger_with("kraken");
    import(&mut ledger, &account, &["kraken/csv/ledgers_2021.csv"]).unwrap();
    let events = ledger.events(&EventFilter::default()).unwrap();
    let several: Vec<String> = events
        .iter()
        .flat_map(|e| ledger.sources_of_event(e.id).unwrap())
        .map(|r| r.to_string())
        .filter(|text| text.contains(" lines "))
        .collect();
    assert!(!several.is_empty(), "a trade is two ledger rows");
    assert!(several.iter().all(|t| t.starts_with("csv:kraken file #1 ledgers_2021.csv lines ")), "{several:?}");
}

#[test]
fn a_row_archived_before_files_were_kept_gets_its_line_when_imported_again() {
    use crate::ledger::RawRef;
    let (_dir, mut ledger, account) = ledger_with("wallet");
    // The first row of history.csv as a ledger of schema 34 held it: an event under the file's
    // id and a raw record of the row.
    let time = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 1, 10, 9, 0, 0).unwrap();
    let event = cointally_exchanges::NewEvent::new(
        "bank-1",
        time,
        EventKind::FiatDeposit,
        vec![cointally_exchanges::Leg::received("USD", dec("50000"))],
    );
    let mut writer = ledger.writer().unwrap();
    let (raw, _) = writer.raw(account.id, "csv:generic", "bank-1", "{}", 0).unwrap();
    let id = match writer.event(account.id, "csv:generic", &event, &[raw]).unwrap() {
        Written::New(id) => id,
        Written::Existing(_) => panic!("a fresh ledger"),
    };
    writer.commit().unwrap();

    let summary = import(&mut ledger, &account, &["generic/history.csv"]).unwrap();
    assert_eq!((summary[0].new_events, summary[0].existing_events), (6, 1));
    let file = ledger.imported_files(account.id).unwrap()[0].id;
    let lines =
        RawRef::Lines { file_id: file, source: "csv:generic".into(), name: "history.csv".into(), lines: "2".into() };
    let record = RawRef::Record { raw_record_id: raw, source: "csv:generic".into(), external_id: "bank-1".into() };
    assert_eq!(ledger.sources_of_event(id).unwrap(), [lines, record]);
}
