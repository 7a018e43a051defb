//! No panic from data, end to end: out-of-range years and amounts at the bounds give an error
//! and an exit code, never a panic.

mod common;

use common::Sandbox;

#[test]
fn report_year_out_of_range_is_a_usage_error_not_a_panic() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for args in [
        &["report", "--year", "2147483647"][..],
        &["report", "--year=-2147483648"],
        &["report", "--year", "2008"],
        &["export", "form8949", "--year", "2147483647"],
        &["events", "--year", "2147483647"],
    ] {
        let run = sb.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("give a calendar year from 2009 to 2100"), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    sb.ok(&["report", "--year", "2100"]);
}

#[test]
fn amount_of_ten_to_the_twentieth_is_refused_with_its_row() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "w"]);
    let file = sb.path("huge.csv");
    std::fs::write(
        &file,
        "time,kind,received_amount,received_asset\n2025-01-01 00:00:00,deposit,100000000000000000000,BTC\n",
    )
    .unwrap();
    let run = sb.run(&["import", file.to_str().unwrap(), "--account", "w"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("100000000000000000000") && run.stderr.contains("10^20"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
