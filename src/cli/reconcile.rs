//! `cointally reconcile --year Y [--json]`: the imported Form 1099-DA rows against cointally's
//! sales — rows no sale matched, sales of those accounts no row matched, and matched pairs whose
//! proceeds or basis differ by more than a cent or whose term differs. Exit 1 when anything
//! differs (the Form 8949 export then carries the broker's figures with adjustments).

use serde::Serialize;

use crate::tax::reconcile::{Difference, Reconciliation, Sale};
use crate::tax::report::money;
use crate::tax::{self};

use super::output::{Align, Table, print_json};
use super::report::{TaxArgs, compute_year};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    tax: TaxArgs,
}

#[derive(Serialize)]
struct SaleJson {
    account: String,
    event: i64,
    asset: String,
    date_sold: String,
    units: String,
    proceeds: String,
    cost_basis: String,
    term: &'static str,
}

#[derive(Serialize)]
struct RowJson {
    account: String,
    line: u64,
    checkbox: String,
    asset: String,
    date_sold: String,
    units: String,
    proceeds: String,
    cost_basis: Option<String>,
    basis_reported: bool,
    term: Option<&'static str>,
}

#[derive(Serialize)]
struct DifferenceJson {
    field: &'static str,
    broker: String,
    cointally: String,
}

#[derive(Serialize)]
struct MatchedJson {
    statement: RowJson,
    sale: SaleJson,
    differences: Vec<DifferenceJson>,
}

#[derive(Serialize)]
struct Json {
    year: i32,
    clean: bool,
    matched: Vec<MatchedJson>,
    unmatched_statement_rows: Vec<RowJson>,
    unmatched_sales: Vec<SaleJson>,
    /// The year is closed: its sales are the ones filed, not computed from today's ledger.
    filed: bool,
}

fn term_name(term: Option<crate::ledger::Term>) -> &'static str {
    term.map(|t| t.as_str()).unwrap_or("mixed")
}

fn to_json(year: i32, r: &Reconciliation, label: &dyn Fn(i64) -> String) -> Json {
    let sale = |s: &Sale| SaleJson {
        account: label(s.account_id),
        event: s.event_id,
        asset: s.asset.clone(),
        date_sold: s.date_sold.to_string(),
        units: cointally_exchanges::amount::format_amount(s.units),
        proceeds: money(s.proceeds),
        cost_basis: money(s.cost_basis),
        term: term_name(s.term),
    };
    let row = |account: i64, r: &crate::ledger::StatementRow| RowJson {
        account: label(account),
        line: r.line,
        checkbox: r.checkbox.clone(),
        asset: r.asset.clone(),
        date_sold: r.date_sold.to_string(),
        units: cointally_exchanges::amount::format_amount(r.units),
        proceeds: money(r.proceeds),
        cost_basis: r.cost_basis.map(money),
        basis_reported: r.basis_reported,
        term: r.term.map(|t| t.as_str()),
    };
    let difference = |d: &Difference| match d {
        Difference::Proceeds { broker, cointally } => {
            DifferenceJson { field: "proceeds", broker: money(*broker), cointally: money(*cointally) }
        }
        Difference::Basis { broker, cointally } => {
            DifferenceJson { field: "cost_basis", broker: money(*broker), cointally: money(*cointally) }
        }
        Difference::Term { broker, cointally } => {
            DifferenceJson { field: "term", broker: broker.as_str().into(), cointally: term_name(*cointally).into() }
        }
    };
    Json {
        year,
        clean: r.clean(),
        matched: r
            .matched
            .iter()
            .map(|m| MatchedJson {
                statement: row(m.account_id, &m.row),
                sale: sale(&m.sale),
                differences: m.differences.iter().map(difference).collect(),
            })
            .collect(),
        unmatched_statement_rows: r.unmatched_rows.iter().map(|(a, r)| row(*a, r)).collect(),
        unmatched_sales: r.unmatched_sales.iter().map(sale).collect(),
        filed: false,
    }
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    // A closed year is reconciled as it was filed, not as today's ledger computes it.
    let filed = crate::closed::filed(&ledger, args.tax.year, &args.tax.options())?;
    let reconciliation = match &filed {
        Some(filed) => {
            context.note(format!(
                "{} is closed: its sales as filed on {} (`cointally year reopen {} --yes` computes it again)",
                args.tax.year, filed.closed.closed_at, args.tax.year
            ));
            let rows = ledger.statement_rows(args.tax.year)?;
            tax::reconcile::reconcile(&filed.report.lines, &filed.disposals, &rows, filed.report.zone)
        }
        None => {
            let (computed, _) = compute_year(context, &mut ledger, &args.tax)?;
            let report = tax::year_report(&ledger, args.tax.year, args.tax.options(), &computed)?;
            tax::year_reconciliation(&ledger, &report, &computed)?
        }
    };
    if reconciliation.accounts.is_empty() {
        return Err(Failure::input(format!("no Form 1099-DA was imported for {}", args.tax.year))
            .hint("import your broker's statement first: cointally import-1099da FILE --account LABEL")
            .into());
    }
    let labels: std::collections::BTreeMap<i64, String> =
        ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let label = |id: i64| labels.get(&id).cloned().unwrap_or_default();
    let mut json = to_json(args.tax.year, &reconciliation, &label);
    json.filed = filed.is_some();
    if context.json {
        print_json(&json)?;
    } else {
        print_text(&json)?;
    }
    if json.clean {
        return Ok(());
    }
    Err(Failure::problems("the Form 1099-DA and cointally differ")
        .hint("the form8949 export writes the broker's figures with the adjustment codes and amounts for the rows that differ")
        .hint("a sale cointally has that the broker did not report goes in box I/L; a broker row with no sale here usually means history is missing: import or sync it")
        .into())
}

fn print_text(json: &Json) -> std::io::Result<()> {
    println!(
        "Form 1099-DA {}: {} rows matched ({} differ), {} statement rows unmatched, {} sales unmatched",
        json.year,
        json.matched.len(),
        json.matched.iter().filter(|m| !m.differences.is_empty()).count(),
        json.unmatched_statement_rows.len(),
        json.unmatched_sales.len()
    );
    let mut table = Table::new(&[
        ("What", Align::Left),
        ("Account", Align::Left),
        ("Asset", Align::Left),
        ("Sold", Align::Left),
        ("Units", Align::Right),
        ("Broker", Align::Right),
        ("cointally", Align::Right),
    ]);
    for m in &json.matched {
        for d in &m.differences {
            table.row(vec![
                format!("{} differs (line {})", d.field, m.statement.line),
                m.sale.account.clone(),
                m.sale.asset.clone(),
                m.sale.date_sold.clone(),
                m.sale.units.clone(),
                d.broker.clone(),
                d.cointally.clone(),
            ]);
        }
    }
    for r in &json.unmatched_statement_rows {
        table.row(vec![
            format!("no sale for line {}", r.line),
            r.account.clone(),
            r.asset.clone(),
            r.date_sold.clone(),
            r.units.clone(),
            r.proceeds.clone(),
            String::new(),
        ]);
    }
    for s in &json.unmatched_sales {
        table.row(vec![
            format!("not on the 1099-DA (event {})", s.event),
            s.account.clone(),
            s.asset.clone(),
            s.date_sold.clone(),
            s.units.clone(),
            String::new(),
            s.proceeds.clone(),
        ]);
    }
    table.print()
}
