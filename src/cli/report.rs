//! `cointally report --year Y [--method …] [--lots …]`: the year's gains and income.

use crate::ledger::Ledger;
use crate::pricing;
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::{Report, money};
use crate::tax::{self, Computed, Method, Options, Tracking, TransferFees};
use crate::transfers;

use super::Context;
use super::output::{Align, Table, print_json};

/// The years `--year` accepts, wherever it is taken: from 2009, the year of Bitcoin's first
/// block (nothing earlier can hold a crypto event), to 2100. Date arithmetic on a year far
/// outside (`2147483647`) would overflow; this range keeps every year-end date valid.
pub const YEARS: std::ops::RangeInclusive<i32> = 2009..=2100;

/// Reads a `--year` value, refusing one outside [`YEARS`] with a message that says the range.
pub fn parse_year(text: &str) -> Result<i32, String> {
    let (first, last) = (YEARS.start(), YEARS.end());
    let wanted = format!("give a calendar year from {first} to {last}");
    match text.trim().parse::<i32>() {
        Ok(year) if YEARS.contains(&year) => Ok(year),
        Ok(_) => Err(format!("{text} is outside the years cointally computes: {wanted}")),
        Err(_) => Err(format!("{text:?} is not a year: {wanted}")),
    }
}

/// The choices of a computation, shared by every command that computes gains.
#[derive(Debug, Clone, clap::Args)]
pub struct TaxArgs {
    /// The tax year, 2009 to 2100: the calendar year in UTC (US, Canada) or in Berlin time
    /// (Germany), the UK tax year that starts on 6 April of it (2024 = 2024/25), or the
    /// Australian financial year that ends on 30 June of it (2025 = 2024-25)
    #[arg(long, value_parser = parse_year)]
    pub year: i32,
    /// Whose tax rules, for this run only [default: the ledger's `jurisdiction` setting]
    #[arg(long, value_enum)]
    pub jurisdiction: Option<crate::tax::jurisdiction::Jurisdiction>,
    /// A what-if: this method for every disposal of all history, instead of the elections
    /// (`cointally method list`; FIFO where none is in force); under AU rules the parcel
    /// order (FIFO by default)
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Lot queues: one per asset (universal), one per asset and wallet (per-wallet), or the
    /// US rule: universal before 1 January 2025, per wallet from then on (us)
    #[arg(long, value_enum, default_value_t = Tracking::Us)]
    pub lots: Tracking,
    /// The network fee of an own transfer: disposed of at its value, or its basis carried
    /// into the units that arrived
    #[arg(long, value_enum, default_value_t = TransferFees::Dispose)]
    pub transfer_fees: TransferFees,
    /// Compute even though some legs have no value: they count as zero and the rows they
    /// touch are marked
    #[arg(long)]
    pub allow_missing_prices: bool,
}

impl TaxArgs {
    /// The engine's options.
    pub fn options(&self) -> Options {
        Options {
            method: self.method.unwrap_or(Method::Fifo),
            tracking: self.lots,
            transfer_fees: self.transfer_fees,
            year: Some(self.year),
            what_if: self.method.is_some(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    tax: TaxArgs,
}

/// Checks the prices, matches transfers, computes and stores the year: the one way every
/// report and export gets its rows.
pub fn compute_year(context: &Context, ledger: &mut Ledger, args: &TaxArgs) -> anyhow::Result<(Computed, usize)> {
    let missing = pricing::require_values(ledger, args.allow_missing_prices)?;
    if !missing.is_empty() {
        context.note(format!(
            "warning: {} legs have no value and count as zero; the rows they touch are marked (`cointally prices missing` lists them)",
            missing.len()
        ));
    }
    let matching = transfers::refresh(ledger)?;
    let options = args.options();
    let computed = tax::compute(ledger, options, &matching)?;
    tax::store(ledger, &options, args.year, &computed)?;
    Ok((computed, missing.len()))
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    match super::report_uk::jurisdiction(&ledger, &args.tax)? {
        Jurisdiction::Uk => return super::report_uk::run(context, &mut ledger, &args.tax),
        Jurisdiction::Ca => return super::report_ca::run(context, &mut ledger, &args.tax),
        Jurisdiction::Au => return super::report_au::run(context, &mut ledger, &args.tax),
        Jurisdiction::De => return super::report_de::run(context, &mut ledger, &args.tax),
        Jurisdiction::Us => {}
    }
    let (computed, _) = compute_year(context, &mut ledger, &args.tax)?;
    let report = tax::year_report(&ledger, args.tax.year, args.tax.options(), &computed)?;
    if context.json {
        return Ok(print_json(&report.to_json())?);
    }
    print_report(&report)
}

/// Prints a report as tables.
pub fn print_report(report: &Report) -> anyhow::Result<()> {
    let lots = report.options.tracking.in_year(report.year);
    println!(
        "Tax year {} (US rules, {}), {}, lots {}{}, transfer fees {}",
        report.year,
        report.currency,
        report.options.method.as_str().to_uppercase(),
        lots.as_str(),
        if report.options.tracking == Tracking::Us { " (US rule)" } else { "" },
        report.options.transfer_fees.as_str(),
    );
    if report.options.what_if {
        println!(
            "what-if: {} for every disposal of all history; the elections (`cointally method list`) are not applied and past years may differ from what was filed",
            report.options.method.as_str().to_uppercase()
        );
    } else if !report.elections.is_empty() {
        let shown: Vec<String> = report
            .elections
            .iter()
            .map(|e| {
                let date = crate::tax::holding::utc_date(e.from_ms);
                format!(
                    "{} from {date} for {}",
                    e.method.to_uppercase(),
                    e.account.as_deref().unwrap_or("all accounts")
                )
            })
            .collect();
        println!("elections: {} (FIFO where none is in force)", shown.join("; "));
    }
    let mut table = Table::new(&[
        ("Asset", Align::Left),
        ("Proceeds", Align::Right),
        ("Cost basis", Align::Right),
        ("Short-term", Align::Right),
        ("Long-term", Align::Right),
        ("Income", Align::Right),
    ]);
    let row = |name: &str, f: &tax::report::Figures| {
        vec![
            name.to_owned(),
            money(f.proceeds),
            money(f.cost_basis),
            money(f.short_term_gain),
            money(f.long_term_gain),
            money(f.income),
        ]
    };
    for (asset, figures) in &report.assets {
        table.row(row(asset, figures));
    }
    table.row(row("Total", &report.totals));
    table.print()?;
    if !report.income_by_kind.is_empty() {
        println!();
        println!("Income by kind:");
        let mut table = Table::new(&[("Kind", Align::Left), ("Value", Align::Right)]);
        for (kind, value) in &report.income_by_kind {
            table.row(vec![kind.clone(), money(*value)]);
        }
        table.print()?;
    }
    let missing_basis = report.lines.iter().filter(|l| l.basis_missing).count();
    let missing_price = report.lines.iter().filter(|l| l.price_missing).count();
    println!();
    println!("{} disposals (one per lot used; `--json` lists them)", report.lines.len());
    if missing_basis > 0 {
        println!("{missing_basis} of them have no known basis (counted as zero): `cointally check` says why");
    }
    if missing_price > 0 {
        println!("{missing_price} of them use a leg without a price (counted as zero)");
    }
    println!(
        "manifest: cointally {}, {}, inputs sha256 {}",
        env!("CARGO_PKG_VERSION"),
        report.options,
        report.inputs_hash
    );
    Ok(())
}
