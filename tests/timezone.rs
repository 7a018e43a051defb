//! The ledger's time zone (`init --timezone`, `settings timezone`) and rebate treatment
//! (`settings rebates`) end to end: tax years, holding periods and Form 8949 dates on local
//! dates; rebates as income or as price reductions; both part of the manifests and of the
//! snapshots' key. Small generic-CSV ledgers, every figure computed by hand.

mod common;

use common::{Sandbox, generic_ledger};

/// Bought 1 BTC for $50,000 on 1 March 2025; sold it for $60,000 at 2026-01-01 01:00 UTC,
/// which is 2025-12-31 20:00 in New York (EST, UTC−5).
fn new_year_eve_sale() -> Sandbox {
    generic_ledger(
        &[(
            "wallet",
            "w",
            "2025-03-01 15:00:00,trade,50000,USD,1,BTC,,,,,,,,,buy\n\
             2026-01-01 01:00:00,trade,1,BTC,60000,USD,,,,,,,,,sell on new year's eve in New York\n",
        )],
        "2025-03-01,BTC,50000\n2025-12-31,BTC,60000\n2026-01-01,BTC,60000",
    )
}

fn disposals(sb: &Sandbox, year: &str) -> Vec<serde_json::Value> {
    let report = sb.ok(&["--json", "report", "--year", year]).json();
    report["disposals"].as_array().unwrap().clone()
}

/// IRS Form 8949 instructions, columns (b) and (c): the date acquired and the date sold or
/// disposed of — the taxpayer's calendar date (<https://www.irs.gov/instructions/i8949>). A sale
/// at 8 pm in New York on 31 December is a 2025 sale dated 12/31/2025, though it is 2026 in UTC.
#[test]
fn a_new_york_evening_sale_on_31_december_lands_in_2025() {
    let sb = new_year_eve_sale();
    // In UTC (the default) the sale is a 2026 sale; computing 2026 stores snapshots.
    assert!(disposals(&sb, "2025").is_empty());
    assert_eq!(disposals(&sb, "2026").len(), 1);
    let again = sb.ok(&["report", "--year", "2026"]);
    assert!(again.stderr.contains("computed from the snapshot"), "{}", again.stderr);

    sb.ok(&["settings", "timezone", "America/New_York"]);
    assert_eq!(sb.ok(&["settings", "timezone"]).stdout.trim(), "America/New_York");
    // The UTC snapshots no longer fit: the first report after the change reads from the start.
    let first = sb.ok(&["--json", "report", "--year", "2026"]);
    assert!(!first.stderr.contains("computed from the snapshot"), "{}", first.stderr);
    assert!(first.json()["disposals"].as_array().unwrap().is_empty());
    assert_eq!(first.json()["timezone"], "America/New_York");

    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();
    let sale = &report["disposals"][0];
    assert_eq!(report["disposals"].as_array().unwrap().len(), 1);
    assert_eq!((sale["acquired"].as_str(), sale["disposed"].as_str()), (Some("2025-03-01"), Some("2025-12-31")));
    assert_eq!(report["totals"]["short_term_gain"], "10000.00");
    assert_eq!(report["timezone"], "America/New_York");
    // Every event is in 2025 in New York: --all-years computes that year only.
    let all = sb.ok(&["--json", "report", "--all-years"]).json();
    let years: Vec<i64> = all.as_array().unwrap().iter().map(|r| r["year"].as_i64().unwrap()).collect();
    assert_eq!(years, [2025]);

    let manifest = sb.ok(&["--json", "export", "form8949", "--year", "2025", "-o", "f8949.csv"]).json();
    assert_eq!(manifest["options"]["timezone"], "America/New_York");
    assert_eq!(manifest["options"]["rebates"], "income");
    let form = std::fs::read_to_string(sb.path("f8949.csv")).unwrap();
    assert!(form.contains("03/01/2025,12/31/2025,60000.00,50000.00"), "{form}");
    for format in ["turbotax", "taxact"] {
        let file = format!("{format}.csv");
        sb.ok(&["export", format, "--year", "2025", "-o", &file]);
        let text = std::fs::read_to_string(sb.path(&file)).unwrap();
        assert!(text.contains("12/31/2025") && !text.contains("01/01/2026"), "{format}: {text}");
    }
    let audit = sb.ok(&["export", "audit", "--year", "2025", "-o", "audit.csv"]);
    assert_eq!(audit.code, 0);
    let audit = std::fs::read_to_string(sb.path("audit.csv")).unwrap();
    assert!(audit.contains("Disposed (America/New_York)") && audit.contains("2025-12-31 20:00:00"), "{audit}");
}

/// Pub. 544, ch. 4 (<https://www.irs.gov/publications/p544>): "start counting on the day after
/// the day you acquired the property. The day you disposed of the property is part of your
/// holding period." Bought at 9 pm on 19 June 2024 in New York (20 June in UTC), sold on 20
/// June 2025: more than a year counted from the local day after, exactly a year in UTC dates.
#[test]
fn the_holding_period_counts_the_local_dates() {
    let sb = generic_ledger(
        &[(
            "wallet",
            "w",
            "2024-06-20 01:00:00,trade,30000,USD,1,BTC,,,,,,,,,buy at 21:00 on 19 June in New York\n\
             2025-06-20 13:00:00,trade,1,BTC,40000,USD,,,,,,,,,sell\n",
        )],
        "2024-06-20,BTC,30000\n2025-06-20,BTC,40000",
    );
    assert_eq!(disposals(&sb, "2025")[0]["term"], "short");
    sb.ok(&["settings", "timezone", "America/New_York"]);
    let sale = &disposals(&sb, "2025")[0];
    assert_eq!(sale["term"], "long");
    assert_eq!(sale["acquired"], "2024-06-19");
}

#[test]
fn unknown_time_zones_are_refused_and_init_stores_the_zone() {
    let sb = Sandbox::new();
    let refused = sb.run(&["init", "--timezone", "Mars/Olympus"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("Mars/Olympus") && refused.stderr.contains("America/New_York"),
        "{}",
        refused.stderr
    );
    assert!(!sb.ledger().exists(), "nothing created");

    let made = sb.ok(&["--json", "init", "--timezone", "Europe/Paris"]).json();
    assert_eq!(made["timezone"], "Europe/Paris");
    assert_eq!(sb.ok(&["settings", "timezone"]).stdout.trim(), "Europe/Paris");
    let wrong = sb.run(&["settings", "timezone", "Nowhere"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("not an IANA time zone"), "{}", wrong.stderr);
    assert_eq!(sb.ok(&["settings", "timezone"]).stdout.trim(), "Europe/Paris", "unchanged");
    let all = sb.ok(&["--json", "settings"]).json();
    assert_eq!((all["timezone"].as_str(), all["rebates"].as_str()), (Some("Europe/Paris"), Some("income")));
}

/// A $1,000 rebate in 0.01 BTC (February 2024), sold for $1,100 (March 2025, long term). As income (the default): $1,000
/// of 2024 income and a $100 gain. As a price reduction (Rev. Rul. 76-96; see
/// `src/tax/rebates.rs`): no income, the units' basis is zero, a $1,100 gain.
#[test]
fn rebates_are_income_or_price_reductions_by_the_setting() {
    let sb = generic_ledger(
        &[(
            "wallet",
            "w",
            "2024-02-01 10:00:00,rebate,,,0.01,BTC,,,,,,,,,card cashback\n\
             2025-03-01 10:00:00,trade,0.01,BTC,1100,USD,,,,,,,,,sell\n",
        )],
        "2024-02-01,BTC,100000\n2025-03-01,BTC,110000",
    );
    let income_2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(income_2024["totals"]["income"], "1000.00");
    let r = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(
        (r["totals"]["cost_basis"].as_str(), r["totals"]["long_term_gain"].as_str()),
        (Some("1000.00"), Some("100.00"))
    );
    assert_eq!(r["rebates"], "income");

    let wrong = sb.run(&["settings", "rebates", "sometimes"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    sb.ok(&["settings", "rebates", "basis"]);
    // The snapshot at the end of 2024 (a lot with basis 1000) no longer fits.
    let r = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(
        (r["totals"]["cost_basis"].as_str(), r["totals"]["long_term_gain"].as_str()),
        (Some("0.00"), Some("1100.00"))
    );
    assert_eq!(r["rebates"], "basis");
    let income_2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(income_2024["totals"]["income"], "0.00");
    let text = sb.ok(&["report", "--year", "2025"]).stdout;
    assert!(text.contains("rebates: price reductions"), "{text}");
}

/// The cost bases of a year's disposals, in report order.
fn bases(sb: &Sandbox, year: &str) -> Vec<String> {
    disposals(sb, year).iter().map(|d| d["cost_basis"].as_str().unwrap().to_owned()).collect()
}

/// `method set --from 2025-07-01` in New York: in force from local midnight starting 1 July
/// (04:00 UTC, EDT). Constructed: lots of 10,000, 30,000 and 20,000; a sale at 22:00 on
/// 30 June in New York (02:00 UTC on 1 July) is still FIFO (10,000), a sale on 1 July HIFO
/// (30,000). Read as a UTC date, the first sale would be HIFO (30,000), the second 20,000.
#[test]
fn an_election_starts_at_local_midnight() {
    let sb = generic_ledger(
        &[(
            "wallet",
            "w",
            "2025-01-10 15:00:00,trade,10000,USD,1,BTC,,,,,,,,,lot A\n\
             2025-02-10 15:00:00,trade,30000,USD,1,BTC,,,,,,,,,lot B\n\
             2025-03-10 15:00:00,trade,20000,USD,1,BTC,,,,,,,,,lot C\n\
             2025-07-01 02:00:00,trade,1,BTC,50000,USD,,,,,,,,,sell on 30 June in New York\n\
             2025-07-01 16:00:00,trade,1,BTC,50000,USD,,,,,,,,,sell on 1 July\n",
        )],
        "2025-01-10,BTC,10000\n2025-02-10,BTC,30000\n2025-03-10,BTC,20000\n2025-07-01,BTC,50000",
    );
    sb.ok(&["method", "set", "hifo", "--from", "2025-07-01"]);
    assert_eq!(bases(&sb, "2025"), ["30000.00", "20000.00"], "UTC: both sales on 1 July");
    sb.ok(&["settings", "timezone", "America/New_York"]);
    assert_eq!(bases(&sb, "2025"), ["10000.00", "30000.00"], "New York: the first sale is on 30 June");
    // The election keeps its date (the zone changes the instant, not the day shown).
    let list = sb.ok(&["--json", "method", "list"]).json();
    assert_eq!(list[0]["from"], "2025-07-01");
}

/// The 2025 switch to per-wallet lots (Treas. Reg. §1.1012-1(j); Rev. Proc. 2024-28: the units
/// each wallet holds "as of January 1, 2025") is at local midnight. Constructed: the exchange
/// holds a 2021 lot (10,000) and a 2023 lot (50,000) and sends 1 BTC at 21:00 on 31 December
/// 2024 in New York (02:00 UTC on 1 January), received at 22:00 (03:00 UTC); the wallet sells
/// it on 1 March. In New York the transfer is before the switch: the wallet holds 1 BTC at the
/// switch and the global rule (oldest lots first, wallets by label) gives it the 2023 lot. In
/// UTC the transfer is after the switch: the exchange holds both lots at the switch and the
/// transfer moves its first lot (FIFO), the 2021 one.
#[test]
fn the_2025_switch_is_at_local_midnight() {
    let sb = generic_ledger(
        &[
            (
                "wallet",
                "exchange",
                "2021-01-10 12:00:00,trade,10000,USD,1,BTC,,,,,,,,,buy\n\
                 2023-01-10 12:00:00,trade,50000,USD,1,BTC,,,,,,,,,buy\n\
                 2025-01-01 02:00:00,withdrawal,1,BTC,,,,,,,TXNY,,bitcoin,,to the wallet\n",
            ),
            (
                "wallet",
                "wallet",
                "2025-01-01 03:00:00,deposit,,,1,BTC,,,,,TXNY,,bitcoin,,from the exchange\n\
                 2025-03-01 12:00:00,trade,1,BTC,100000,USD,,,,,,,,,sell\n",
            ),
        ],
        "2021-01-10,BTC,10000\n2023-01-10,BTC,50000\n2025-01-01,BTC,94000\n2025-03-01,BTC,100000",
    );
    assert_eq!(bases(&sb, "2025"), ["10000.00"], "UTC: moved after the switch, FIFO");
    sb.ok(&["settings", "timezone", "America/New_York"]);
    assert_eq!(bases(&sb, "2025"), ["50000.00"], "New York: held by the wallet at the switch");
    let planned = sb.ok(&["--json", "basis", "allocate", "--as-of", "2025-01-01", "--dry-run"]).json();
    assert_eq!(planned["as_of"], "2025-01-01T05:00:00Z");
    // Stored in New York, then the zone changed: `check` says the stored switch is no longer
    // the ledger's (and the figures at the new instant differ).
    sb.ok(&["basis", "allocate", "--as-of", "2025-01-01"]);
    assert_eq!(bases(&sb, "2025"), ["50000.00"]);
    sb.ok(&["settings", "timezone", "UTC"]);
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let text = check.stdout;
    assert!(text.contains("allocation_changed") && text.contains("the ledger's time zone (UTC)"), "{text}");
}

/// The BTC balance `balances --at` gives (zero when no row).
fn btc_at(sb: &Sandbox, at: &str) -> String {
    let rows = sb.ok(&["--json", "balances", "--at", at]).json();
    let btc = rows.as_array().unwrap().iter().find(|r| r["asset"] == "BTC");
    btc.map_or("0".to_owned(), |r| r["amount"].as_str().unwrap().to_owned())
}

/// `events --year` and `balances --at DATE` follow the ledger's zone; `events` prints local
/// times (`--json` keeps `time` in UTC and adds `local_time`).
#[test]
fn events_and_balances_take_local_dates() {
    let sb = new_year_eve_sale();
    let years = |year: &str| sb.ok(&["--json", "events", "--year", year]).json().as_array().unwrap().len();
    assert_eq!((years("2025"), years("2026")), (1, 1), "UTC: the sale is in 2026");
    assert_eq!(btc_at(&sb, "2025-12-31"), "1");

    sb.ok(&["settings", "timezone", "America/New_York"]);
    assert_eq!((years("2025"), years("2026")), (2, 0), "New York: both in 2025");
    let events = sb.ok(&["--json", "events", "--year", "2025"]).json();
    let sale = &events[1];
    assert_eq!(sale["time"], "2026-01-01T01:00:00Z");
    assert_eq!(sale["local_time"], "2025-12-31T20:00:00-05:00");
    let text = sb.ok(&["events"]).stdout;
    assert!(text.contains("Time (America/New_York)") && text.contains("2025-12-31 20:00:00"), "{text}");
    assert!(!text.contains("2026-01-01"), "{text}");
    // The end of 31 December in New York is after the sale; 19:00 that evening before it.
    assert_eq!(btc_at(&sb, "2025-12-31"), "0");
    assert_eq!(btc_at(&sb, "2025-12-31 19:00:00"), "1");
    assert_eq!(btc_at(&sb, "2026-01-01T00:30:00Z"), "1", "an explicit offset is kept");
}

/// The generic CSV: a time without an offset (or a bare date) is local time in the ledger's
/// zone; a time with `Z` or an offset is that instant, as before. (A UTC ledger reads every
/// file as before: the other tests here import before setting the zone.)
#[test]
fn generic_times_without_an_offset_are_local() {
    let sb = Sandbox::new();
    sb.ok(&["init", "--timezone", "America/New_York"]);
    sb.ok(&["account", "add", "wallet", "--label", "w", "--no-key"]);
    let file = sb.path("w.csv");
    std::fs::write(
        &file,
        format!(
            "{}2025-12-31 20:00:00,deposit,,,1,BTC,,,,,,,,a,local\n\
             2025-12-31T20:00:00Z,deposit,,,1,BTC,,,,,,,,b,utc\n\
             2025-12-31T20:00:00+01:00,deposit,,,1,BTC,,,,,,,,c,offset\n\
             2025-07-01,deposit,,,1,BTC,,,,,,,,d,a date\n",
            common::GENERIC_HEADER
        ),
    )
    .unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "w", "--format", "generic"]);
    let events = sb.ok(&["--json", "events"]).json();
    let mut times: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["external_id"].as_str().unwrap().to_owned(), e["time"].as_str().unwrap().to_owned()))
        .collect();
    times.sort();
    assert_eq!(
        times,
        [
            ("a".to_owned(), "2026-01-01T01:00:00Z".to_owned()),
            ("b".to_owned(), "2025-12-31T20:00:00Z".to_owned()),
            ("c".to_owned(), "2025-12-31T19:00:00Z".to_owned()),
            ("d".to_owned(), "2025-07-01T04:00:00Z".to_owned()),
        ]
    );
    // A time it cannot read names the layouts, local ones included.
    std::fs::write(&file, format!("{}31/12/2025,deposit,,,1,BTC,,,,,,,,e,\n", common::GENERIC_HEADER)).unwrap();
    let bad = sb.run(&["import", file.to_str().unwrap(), "--account", "w", "--format", "generic"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("w.csv:2") && bad.stderr.contains("in the ledger's time zone"), "{}", bad.stderr);
}
