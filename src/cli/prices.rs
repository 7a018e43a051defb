//! `cointally prices`: value every leg in the reporting currency; `prices missing` lists the
//! legs still without a value; `prices import FILE` adds a user's own prices;
//! `cointally currency [CODE]` shows or changes the reporting currency (and values in it).

use std::path::PathBuf;
use std::sync::Arc;

use cointally_exchanges::amount::format_amount;
use cointally_exchanges::http::{ClientConfig, SystemClock};
use cointally_exchanges::prices::CandleSource;
use cointally_exchanges::registry::open_sources;
use cointally_exchanges::time::{format_rfc3339, from_millis};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ledger::Ledger;
use crate::pricing::{self, Options, Progress, Summary};

use super::init::CURRENCIES;
use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    fill: FillArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List the legs that still have no value (event, asset, time)
    Missing,
    /// Add prices from your own CSV files (header: time,asset,currency,price)
    Import(ImportArgs),
}

/// How `prices` (and `currency CODE`) value legs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FillArgs {
    /// Use the cached prices only; ask no exchange
    #[arg(long)]
    offline: bool,
    /// Value USD stablecoins (USDT, USDC, DAI, ...) at exactly one USD instead of their market
    #[arg(long)]
    stablecoins_at_par: bool,
    /// Forget the values in the reporting currency and value every leg again (from the cache where it can)
    #[arg(long)]
    revalue: bool,
    /// Price both sides of a crypto-to-crypto trade from their own markets instead of one side
    /// from the other (more requests; for comparing both ways)
    #[arg(long)]
    each_leg: bool,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The price files
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CurrencyArgs {
    /// The new reporting currency; without it, the current one is shown
    #[arg(value_parser = CURRENCIES)]
    currency: Option<String>,
    #[command(flatten)]
    fill: FillArgs,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    match args.command {
        None => fill(context, &args.fill),
        Some(Command::Missing) => missing(context),
        Some(Command::Import(import)) => import_files(context, &import.files),
    }
}

/// `cointally currency [CODE]`.
pub fn currency(context: &Context, args: CurrencyArgs) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let Some(currency) = args.currency else {
        let current = ledger.reporting_currency()?;
        if context.json {
            return Ok(print_json(&serde_json::json!({ "currency": current }))?);
        }
        println!("{current}");
        return Ok(());
    };
    ledger.set_reporting_currency(&currency)?;
    context.note(format!("reporting currency is now {currency}; valuing the legs in it"));
    drop(ledger);
    fill(context, &args.fill)
}

/// The environment variable that points a price source elsewhere (tests, the demo).
pub fn base_url_env(source: &str) -> String {
    match source {
        // Coinbase's candles come from Coinbase Exchange, another host than its account API.
        "coinbase" => "COINTALLY_COINBASE_EXCHANGE_BASE_URL".to_owned(),
        other => format!("COINTALLY_{}_BASE_URL", other.to_ascii_uppercase()),
    }
}

/// Every price source, each at its production URL or the one its variable names.
pub fn sources() -> anyhow::Result<Vec<Box<dyn CandleSource>>> {
    let base_url = |name: &str| std::env::var(base_url_env(name)).ok().filter(|v| !v.trim().is_empty());
    Ok(open_sources(&base_url, &ClientConfig::from_env(), Arc::new(SystemClock))?)
}

/// Values what has no value yet and prints the summary (shared with `demo`).
pub fn fill_ledger(
    context: &Context,
    ledger: &mut Ledger,
    sources: &[Box<dyn CandleSource>],
    args: &FillArgs,
) -> anyhow::Result<Summary> {
    let options = Options {
        offline: args.offline,
        stablecoins_at_par: args.stablecoins_at_par,
        revalue: args.revalue,
        each_leg: args.each_leg,
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let bar = Bar::new(context.quiet);
    Ok(pricing::run(ledger, sources, &options, now_ms, &bar)?)
}

fn fill(context: &Context, args: &FillArgs) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let sources = sources()?;
    let summary = fill_ledger(context, &mut ledger, &sources, args)?;
    if context.json {
        print_json(&summary)?;
    } else {
        print_summary(&summary)?;
    }
    if let Some(first) = summary.errors.first() {
        return Err(Failure::exchange(format!(
            "{} price request{} failed; the first: {first}",
            summary.errors.len(),
            if summary.errors.len() == 1 { "" } else { "s" }
        ))
        .hint("run `cointally prices` again later: everything fetched so far is kept")
        .into());
    }
    if summary.missing > 0 {
        return Err(Failure::problems(format!("{} legs still have no value in {}", summary.missing, summary.currency))
            .hint("see them with `cointally prices missing`; give their prices with `cointally prices import FILE`")
            .into());
    }
    Ok(())
}

/// The summary of a run, for people.
pub fn print_summary(summary: &Summary) -> std::io::Result<()> {
    let mut table = Table::new(&[("Valued by", Align::Left), ("Legs", Align::Right)]);
    for (source, count) in &summary.by_source {
        table.row(vec![source.clone(), count.to_string()]);
    }
    if !summary.by_source.is_empty() {
        table.print()?;
    }
    println!(
        "{} legs valued in {} ({} requests, {} candles fetched); {} still without a value",
        summary.valued, summary.currency, summary.requests, summary.candles, summary.missing
    );
    Ok(())
}

fn missing(context: &Context) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let currency = ledger.reporting_currency()?;
    let legs = ledger.missing_legs(&currency)?;
    let time = |ms: i64| format_rfc3339(from_millis(ms));
    if context.json {
        let rows: Vec<serde_json::Value> = legs
            .iter()
            .map(|l| {
                serde_json::json!({
                    "event": l.event, "account": l.account, "kind": l.kind, "time": time(l.time_ms),
                    "asset": l.asset, "amount": format_amount(l.amount), "role": l.role,
                })
            })
            .collect();
        return Ok(print_json(&rows)?);
    }
    if legs.is_empty() {
        context.note(format!("every leg has a value in {currency}"));
        return Ok(());
    }
    let mut table = Table::new(&[
        ("Time", Align::Left),
        ("Account", Align::Left),
        ("Event", Align::Right),
        ("Kind", Align::Left),
        ("Asset", Align::Left),
        ("Amount", Align::Right),
        ("Role", Align::Left),
    ]);
    for l in &legs {
        table.row(vec![
            time(l.time_ms),
            l.account.clone(),
            l.event.to_string(),
            l.kind.clone(),
            l.asset.clone(),
            format_amount(l.amount),
            l.role.clone(),
        ]);
    }
    table.print()?;
    context.note(format!("{} legs without a value in {currency}", legs.len()));
    Ok(())
}

fn import_files(context: &Context, files: &[PathBuf]) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    // Every file is read before anything is stored: one bad row and nothing is written.
    let mut read = Vec::new();
    for file in files {
        read.push((file, pricing::file::read(file)?));
    }
    let new = ledger.store_file_prices(read.iter().flat_map(|(_, rows)| rows))?;
    if context.json {
        let rows: Vec<serde_json::Value> = read
            .iter()
            .map(|(file, rows)| serde_json::json!({ "file": file.display().to_string(), "rows": rows.len() }))
            .collect();
        print_json(&serde_json::json!({ "files": rows, "new_prices": new }))?;
    } else {
        let all: usize = read.iter().map(|(_, rows)| rows.len()).sum();
        println!("{all} prices read from {} file(s), {new} new", files.len());
        context.note("value the legs with them: cointally prices");
    }
    Ok(())
}

/// A progress bar over the planned requests, on a terminal only.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(quiet: bool) -> Bar {
        use std::io::IsTerminal;
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("prices [{bar:25}] {pos}/{len} requests {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Bar(Some(bar))
    }
}

impl Progress for Bar {
    fn planned(&self, _source: &str, count: u64) {
        if let Some(bar) = &self.0 {
            bar.inc_length(count);
        }
    }

    fn done(&self, source: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(source.to_owned());
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
