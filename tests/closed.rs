//! Closed years end to end (issue #16, #22): `year close|list|reopen`, later years starting
//! from the filed lots, `check`'s `closed_year_changed`, `diff --against-closed`. Small
//! ledgers from generic CSV text and a price file, figures computed by hand.

mod common;

use common::{Sandbox, generic_ledger};

/// One wallet: lot 1 (1 BTC for 20,000, 2023), lot 2 (1 BTC for 60,000, 2024), 0.5 BTC sold
/// in 2024 for 25,000 and 0.5 in 2025 for 40,000. FIFO in 2024: half of lot 1, basis 10,000.
fn two_lots() -> Sandbox {
    generic_ledger(
        &[(
            "wallet",
            "w",
            "2023-01-10 10:00:00,trade,20000,USD,1,BTC,,,,,,,,lot-1,\n\
             2024-03-01 10:00:00,trade,60000,USD,1,BTC,,,,,,,,lot-2,\n\
             2024-08-01 10:00:00,trade,0.5,BTC,25000,USD,,,,,,,,sell-2024,\n\
             2025-03-01 10:00:00,trade,0.5,BTC,40000,USD,,,,,,,,sell-2025,\n",
        )],
        "2022-06-01,BTC,10000\n2023-01-10,BTC,20000\n2024-03-01,BTC,60000\n2024-08-01,BTC,50000\n2025-03-01,BTC,80000",
    )
}

/// Adds a buy of 1 BTC for 10,000 on 2022-06-01 that the user found after filing 2024: FIFO
/// now sells half of it in 2024 (basis 5,000, not 10,000).
fn add_old_buy(sb: &Sandbox) {
    let file = sb.path("found.csv");
    std::fs::write(
        &file,
        format!("{}2022-06-01 10:00:00,trade,10000,USD,1,BTC,,,,,,,,late-buy,\n", common::GENERIC_HEADER),
    )
    .unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "w", "--format", "generic"]);
    sb.ok(&["prices", "--offline"]);
}

fn gains_files(sb: &Sandbox, dir: &str) -> Vec<(String, Vec<u8>)> {
    std::fs::create_dir_all(sb.path(dir)).unwrap();
    let mut out = Vec::new();
    for format in ["form8949", "schedule-d", "turbotax", "taxact", "income", "holdings", "audit"] {
        let path = sb.path(&format!("{dir}/{format}-2024.csv"));
        sb.ok(&["export", format, "--year", "2024", "-o", path.to_str().unwrap()]);
        let manifest = std::fs::read(format!("{}.manifest.json", path.display())).unwrap();
        out.push((format.to_owned(), [std::fs::read(&path).unwrap(), manifest].concat()));
    }
    out
}

fn basis(report: &serde_json::Value) -> &str {
    report["disposals"][0]["cost_basis"].as_str().unwrap()
}

/// Treas. Reg. §1.1012-1(j): a standing order identifies units for later sales and does not
/// reach back; a filed year stays filed. HIFO elected from 2025 — and even one backdated to
/// 2024 — leaves the closed 2024 result and every gains file of it byte-identical.
#[test]
fn an_election_change_leaves_the_closed_year_and_its_files_byte_identical() {
    let sb = two_lots();
    let report_before = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(basis(&report_before), "10000.00", "FIFO: half of lot 1");
    let text_before = sb.ok(&["report", "--year", "2024"]).stdout;
    let files_before = gains_files(&sb, "before");
    sb.ok(&["year", "close", "2024"]);
    let again = sb.run(&["year", "close", "2024"]);
    assert_eq!(again.code, 2, "closing twice is refused: {}", again.stderr);
    assert!(again.stderr.contains("reopen"), "{}", again.stderr);

    sb.ok(&["method", "set", "hifo", "--from", "2025-01-01"]);
    assert_eq!(gains_files(&sb, "after-2025-election"), files_before);
    // 2025 under HIFO from the filed lots: 0.5 of lot 2 (30,000).
    assert_eq!(basis(&sb.ok(&["--json", "report", "--year", "2025"]).json()), "30000.00");

    // An election backdated into the closed year would change it: the filed year does not move.
    sb.ok(&["method", "set", "hifo", "--from", "2024-01-01"]);
    assert_eq!(gains_files(&sb, "after-backdated-election"), files_before);
    let filed = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(filed["totals"], report_before["totals"]);
    assert_eq!(filed["disposals"], report_before["disposals"]);
    assert_eq!(
        (filed["closed"]["this_year"].as_bool(), filed["closed"]["years"][0]["year"].as_i64()),
        (Some(true), Some(2024))
    );
    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    assert!(text.starts_with("2024 is closed: the result as filed on "), "{text}");
    assert!(text.ends_with(&text_before), "the filed text report:\n{text}");
    // The from-scratch what-if applies the backdated election, and says so.
    let what_if = sb.ok(&["--json", "report", "--year", "2024", "--from-scratch"]).json();
    assert_eq!(basis(&what_if), "30000.00");
    assert_eq!(what_if["closed"]["this_year"], false);
    assert!(sb.ok(&["report", "--year", "2024", "--from-scratch"]).stdout.starts_with("what-if: 2024 is closed"));
    // check names the closed year that would now compute differently.
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let findings = check.json()["findings"].clone();
    let changed: Vec<&serde_json::Value> =
        findings.as_array().unwrap().iter().filter(|f| f["kind"] == "closed_year_changed").collect();
    assert_eq!(changed.len(), 1, "{findings}");
    assert!(
        changed[0]["items"][0]["detail"].as_str().unwrap().contains("filed 25000.00 / 10000.00 / 15000.00"),
        "{findings}"
    );

    let list = sb.ok(&["--json", "year", "list"]).json();
    assert_eq!(list[0]["year"], 2024);
    assert_eq!(list[0]["totals"], report_before["totals"]);
    assert_eq!(list[0]["options"]["method"], "fifo");
}

/// A later year starts from the filed lots even after an older event is found; `check` and
/// `diff --against-closed` name that event; reopening computes everything again.
#[test]
fn a_later_year_starts_from_the_filed_lots_until_the_year_is_reopened() {
    let sb = two_lots();
    sb.ok(&["year", "close", "2024"]);
    assert_eq!(sb.ok(&["check"]).code, 0, "clean right after the close");
    add_old_buy(&sb);

    // 2025 from the filed lots: the rest of lot 1 (0.5 for 10,000), not the found buy.
    let run = sb.ok(&["--json", "report", "--year", "2025"]);
    let y2025 = run.json();
    assert_eq!(basis(&y2025), "10000.00", "{y2025}");
    assert_eq!(y2025["closed"]["starts_from"], 2024);
    assert_eq!(y2025["closed"]["years"][0]["inputs_changed"], true);
    assert!(run.stderr.contains("lots filed with 2024"), "{}", run.stderr);
    assert!(run.stderr.contains("changed in or before 2024"), "{}", run.stderr);
    // The filed 2024 stands, and a range through it starts 2025 from what was filed.
    assert_eq!(basis(&sb.ok(&["--json", "report", "--year", "2024"]).json()), "10000.00");
    let range = sb.ok(&["--json", "report", "--years", "2023-2025"]).json();
    let bases: Vec<&str> = range.as_array().unwrap()[1..].iter().map(basis).collect();
    assert_eq!(bases, ["10000.00", "10000.00"], "{range}");
    assert_eq!(range[1]["closed"]["this_year"], true);
    assert_eq!(range[2]["closed"]["starts_from"], 2024);

    let check = sb.run(&["--json", "check", "--details"]);
    assert_eq!(check.code, 1);
    let findings = check.json()["findings"].clone();
    let changed = findings.as_array().unwrap().iter().find(|f| f["kind"] == "closed_year_changed").unwrap();
    assert_eq!(changed["account"], "year 2024");
    let items = changed["items"].as_array().unwrap();
    let event = items.iter().find(|i| i["detail"].as_str().unwrap().contains("w/late-buy added")).unwrap();
    let events = sb.ok(&["--json", "events"]).json();
    let late_id = events.as_array().unwrap().iter().find(|e| e["external_id"] == "late-buy").unwrap()["id"].clone();
    assert_eq!(event["event"], late_id, "{changed}");
    assert!(
        items.iter().any(|i| i["asset"] == "BTC" && i["detail"].as_str().unwrap().contains("now 25000.00 / 5000.00 / 20000.00")),
        "{changed}"
    );
    assert!(items.iter().any(|i| i["detail"].as_str().unwrap().starts_with("held at the end of 2024")), "{changed}");

    let diff = sb.ok(&["--json", "diff", "--year", "2024", "--against-closed"]).json();
    let added: Vec<&String> = diff["events"]["added"].as_object().unwrap().keys().collect();
    assert_eq!(added, ["w/late-buy"], "{diff}");
    assert!(diff["assets"]["BTC"].is_array(), "{diff}");
    assert!(!diff["disposals"]["added"].as_object().unwrap().is_empty(), "{diff}");
    let text = sb.ok(&["diff", "--year", "2024", "--against-closed"]).stdout;
    assert!(text.contains("+ w/late-buy"), "{text}");
    assert_eq!(sb.run(&["diff", "--year", "2023", "--against-closed"]).code, 2);

    let refused = sb.run(&["year", "reopen", "2024"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    sb.ok(&["year", "reopen", "2024", "--yes"]);
    assert_eq!(basis(&sb.ok(&["--json", "report", "--year", "2024"]).json()), "5000.00");
    assert_eq!(basis(&sb.ok(&["--json", "report", "--year", "2025"]).json()), "5000.00");
    assert_eq!(sb.ok(&["--json", "year", "list"]).json(), serde_json::json!([]));
}

/// Closing follows US rules only: a UK ledger is refused with what to do instead.
#[test]
fn closing_a_year_of_a_uk_ledger_is_refused() {
    let sb = two_lots();
    let run = sb.run(&["year", "close", "2024", "--jurisdiction", "uk"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("US rules only"), "{}", run.stderr);
    assert_eq!(sb.run(&["year", "close", "2024", "--method", "hifo"]).code, 2);
}

/// A problem bundle keeps closed years with their lots (later years start from them in the
/// rebuilt ledger too) but not their filed files.
#[test]
fn a_bundle_keeps_closed_years_so_later_reports_are_the_same() {
    let sb = two_lots();
    sb.ok(&["year", "close", "2024"]);
    add_old_buy(&sb);
    let y2025 = sb.ok(&["--json", "report", "--year", "2025"]).json();
    let zip = sb.path("problem.zip");
    sb.ok(&["bundle", "-o", zip.to_str().unwrap()]);
    let rebuilt = sb.path("rebuilt.sqlite");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
            .arg("--ledger")
            .arg(&rebuilt)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    };
    run(&["import-bundle", zip.to_str().unwrap()]);
    let again: serde_json::Value = serde_json::from_slice(&run(&["--json", "report", "--year", "2025"])).unwrap();
    assert_eq!(basis(&again), "10000.00", "from the filed lots: {again}");
    assert_eq!(again["totals"], y2025["totals"]);
}

/// The part of a summary page with the year's figures (totals to holdings), without the check
/// findings and the manifest, which are today's ledger.
fn figures_of(page: &str) -> String {
    let start = page.find("<h2>Totals</h2>").expect("totals");
    let end = page.find("<h2>Check</h2>").expect("check");
    page[start..end].to_owned()
}

/// `export html` of a closed year shows the year as filed: after an old buy is found (FIFO would
/// now sell half of it in 2024, basis 5,000), the page still shows the filed figures (basis
/// 10,000, gain 15,000, 1.51 BTC held at 70,500 with the staked 0.01; today 2.51 BTC at
/// 85,500), says the year is closed, and is the page
/// written before the close in every figure. Reopened, it is computed again.
#[test]
fn the_html_page_of_a_closed_year_shows_it_as_filed() {
    let sb = two_lots();
    // Income in May 2024 (0.01 BTC staked, worth 500): the page's months come from the filed
    // income file.
    let staking = sb.path("staking.csv");
    std::fs::write(
        &staking,
        format!("{}2024-05-01 10:00:00,staking,,,0.01,BTC,,,500,USD,,,,stake-1,\n", common::GENERIC_HEADER),
    )
    .unwrap();
    sb.ok(&["import", staking.to_str().unwrap(), "--account", "w", "--format", "generic"]);
    sb.ok(&["prices", "--offline"]);
    sb.ok(&["export", "html", "--year", "2024", "-o", "before.html"]);
    let before = std::fs::read_to_string(sb.path("before.html")).unwrap();
    assert!(before.contains("10000.00") && before.contains("70500.00"), "{before}");
    assert!(before.contains("<td>2024-05</td><td class=\"n\">0.00</td><td class=\"n\">500.00</td>"), "{before}");
    sb.ok(&["year", "close", "2024"]);
    add_old_buy(&sb);
    let recomputed = sb.ok(&["--json", "report", "--year", "2024", "--from-scratch"]).json();
    assert_eq!(basis(&recomputed), "5000.00", "today's ledger computes 2024 differently");

    let run = sb.ok(&["export", "html", "--year", "2024", "-o", "filed.html"]);
    assert!(run.stderr.contains("2024 is closed"), "{}", run.stderr);
    let filed = std::fs::read_to_string(sb.path("filed.html")).unwrap();
    assert!(filed.contains("2024 is closed: these are the figures as filed on"), "{filed}");
    assert_eq!(figures_of(&filed), figures_of(&before));
    assert!(!figures_of(&filed).contains("85500.00"), "{filed}");
    // Today's check is on the page: the closed year would compute differently.
    assert!(filed.contains("closed_year_changed"), "{filed}");

    sb.ok(&["year", "reopen", "2024", "--yes"]);
    sb.ok(&["export", "html", "--year", "2024", "-o", "reopened.html"]);
    let reopened = std::fs::read_to_string(sb.path("reopened.html")).unwrap();
    assert!(!reopened.contains("is closed"), "{reopened}");
    assert!(figures_of(&reopened).contains("5000.00") && figures_of(&reopened).contains("85500.00"), "{reopened}");
}

/// `reconcile` of a closed year matches the broker's rows to the sales as filed. Constructed: a
/// Coinbase sale of 0.5 BTC in 2025 filed with a basis of 10,000 (FIFO, half of a 20,000 lot),
/// the 1099-DA agreeing; an old buy found after the close (1 BTC for 10,000 in 2024) would make
/// today's FIFO basis 5,000 and the basis differ from the broker's.
#[test]
fn reconcile_of_a_closed_year_uses_the_filed_sales() {
    let sb = generic_ledger(
        &[(
            "coinbase",
            "cb",
            "2025-01-10 10:00:00,trade,20000,USD,1,BTC,,,,,,,,lot-1,\n\
             2025-08-01 10:00:00,trade,0.5,BTC,25000,USD,,,,,,,,sell,\n",
        )],
        "2024-06-01,BTC,10000\n2025-01-10,BTC,20000\n2025-08-01,BTC,50000",
    );
    let statement = sb.path("1099da.csv");
    std::fs::write(
        &statement,
        "checkbox,asset,units,date_sold,proceeds,cost_basis,basis_reported\nG,BTC,0.5,2025-08-01,25000.00,10000.00,X\n",
    )
    .unwrap();
    sb.ok(&["import-1099da", statement.to_str().unwrap(), "--account", "cb"]);
    let open = sb.ok(&["--json", "reconcile", "--year", "2025"]).json();
    assert_eq!((open["clean"].as_bool(), open["filed"].as_bool()), (Some(true), Some(false)));
    sb.ok(&["year", "close", "2025"]);

    let file = sb.path("found.csv");
    std::fs::write(
        &file,
        format!("{}2024-06-01 10:00:00,trade,10000,USD,1,BTC,,,,,,,,late-buy,\n", common::GENERIC_HEADER),
    )
    .unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "cb", "--format", "generic"]);
    sb.ok(&["prices", "--offline"]);

    let run = sb.run(&["--json", "reconcile", "--year", "2025"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("2025 is closed"), "{}", run.stderr);
    let json = run.json();
    assert_eq!((json["clean"].as_bool(), json["filed"].as_bool()), (Some(true), Some(true)));
    assert_eq!(json["matched"][0]["sale"]["cost_basis"], "10000.00");

    // Reopened, the year is computed from today's ledger: the basis differs from the broker's.
    sb.ok(&["year", "reopen", "2025", "--yes"]);
    let reopened = sb.run(&["--json", "reconcile", "--year", "2025"]);
    assert_eq!(reopened.code, 1, "{}", reopened.stderr);
    let json = reopened.json();
    assert_eq!(json["filed"], false);
    assert_eq!(
        json["matched"][0]["differences"],
        serde_json::json!([{"field": "cost_basis", "broker": "10000.00", "cointally": "5000.00"}])
    );
}

/// `export --years` over a closed year writes that year's files as filed, like `--year`, and
/// the later year from the filed lots: after an old buy is found, 2024's form stays the filed
/// one and every file equals the single-year export byte for byte.
#[test]
fn an_export_over_a_range_writes_a_closed_year_as_filed() {
    let sb = two_lots();
    let filed = gains_files(&sb, "before");
    sb.ok(&["year", "close", "2024"]);
    add_old_buy(&sb);
    let manifests = sb.ok(&["--json", "export", "form8949", "--years", "2024-2025", "-o", "range"]).json();
    assert_eq!(manifests.as_array().map(Vec::len), Some(2), "{manifests}");
    let form = |path: &str| std::fs::read(sb.path(path)).unwrap();
    let (_, filed_form) = filed.iter().find(|(f, _)| f == "form8949").unwrap();
    let range_2024 = [form("range/form8949-2024.csv"), form("range/form8949-2024.csv.manifest.json")].concat();
    assert_eq!(&range_2024, filed_form, "2024 as filed, not recomputed with the old buy");
    for year in ["2024", "2025"] {
        sb.ok(&["export", "form8949", "--year", year]);
        let name = format!("form8949-{year}.csv");
        assert_eq!(form(&format!("range/{name}")), form(&name), "{name}");
        assert_eq!(form(&format!("range/{name}.manifest.json")), form(&format!("{name}.manifest.json")), "{name}");
    }
}
