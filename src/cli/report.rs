//! `cointally report --year Y [--method …] [--lots …]`: the year's gains and income.

use std::io::{Seek, Write};

use anyhow::Context as _;

use crate::closed::ClosedJson;
use crate::ledger::Ledger;
use crate::pricing;
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::{Report, money};
use crate::tax::years::{self, PassInfo, Start};
use crate::tax::{self, Computed, Method, Options, Tracking, TransferFees};
use crate::transfers::{self, Matching};

use super::output::{Align, JsonList, Table, print_json};
use super::{Context, Failure};

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
    /// The tax year, 2009 to 2100: the calendar year in the ledger's time zone (US, Canada;
    /// UTC unless `cointally settings timezone` says otherwise), in Berlin time
    /// (Germany), the UK tax year that starts on 6 April of it (2024 = 2024/25), or the
    /// Australian financial year that ends on 30 June of it (2025 = 2024-25)
    // In the struct's group by hand: clap leaves the group of a struct with a flattened part
    // empty, and `Option<TaxArgs>` (export) is `Some` when the group is present.
    #[arg(long, value_parser = parse_year, group = "TaxArgs")]
    pub year: i32,
    #[command(flatten)]
    pub choices: TaxChoices,
}

/// Everything a computation is made with but the year (`report --years` takes these with a
/// range of years).
#[derive(Debug, Clone, clap::Args)]
pub struct TaxChoices {
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

impl std::ops::Deref for TaxArgs {
    type Target = TaxChoices;

    fn deref(&self) -> &TaxChoices {
        &self.choices
    }
}

impl TaxChoices {
    /// The engine's options for `year`.
    pub fn options(&self, year: Option<i32>) -> Options {
        Options {
            method: self.method.unwrap_or(Method::Fifo),
            tracking: self.lots,
            transfer_fees: self.transfer_fees,
            year,
            what_if: self.method.is_some(),
        }
    }

    /// These choices for one year.
    pub fn for_year(&self, year: i32) -> TaxArgs {
        TaxArgs { year, choices: self.clone() }
    }
}

impl TaxArgs {
    /// The engine's options.
    pub fn options(&self) -> Options {
        self.choices.options(Some(self.year))
    }
}

/// Reads a `--years` value: `FIRST-LAST` (or one year), each within [`YEARS`].
pub fn parse_years(text: &str) -> Result<(i32, i32), String> {
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (parse_year(first)?, parse_year(last)?),
        None => {
            let year = parse_year(text)?;
            (year, year)
        }
    };
    if first > last {
        return Err(format!("{text}: the first year comes after the last; write them as FIRST-LAST (2021-2024)"));
    }
    Ok((first, last))
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which_years").required(true).args(["year", "years", "all_years"])))]
pub struct Args {
    /// The tax year, 2009 to 2100: the calendar year in the ledger's time zone (US, Canada), in
    /// Berlin time (Germany), the UK tax year that starts on 6 April of it (2024 = 2024/25), or
    /// the Australian financial year that ends on 30 June of it (2025 = 2024-25)
    #[arg(long, value_parser = parse_year)]
    year: Option<i32>,
    /// Several years in one pass over history, FIRST-LAST (2021-2024), each a tax year as
    /// `--year` names it; each is printed as `--year` would (`--json`: an array of the years'
    /// documents)
    #[arg(long, value_parser = parse_years, value_name = "FIRST-LAST")]
    years: Option<(i32, i32)>,
    /// Every year from the first event's to the last event's, in one pass (as --years)
    #[arg(long)]
    all_years: bool,
    /// Compute from the first event, not from the latest year-end snapshot that still fits
    /// the ledger (the results are the same; this proves it, or rebuilds the snapshots)
    #[arg(long)]
    from_scratch: bool,
    #[command(flatten)]
    choices: TaxChoices,
}

/// Warns of legs without value (or refuses, unless allowed) and matches the transfers: what
/// every computation of gains does first.
fn prepare(
    context: &Context,
    ledger: &mut Ledger,
    choices: &TaxChoices,
    start: Start,
) -> anyhow::Result<(Matching, usize)> {
    prepare_values(context, ledger, choices.allow_missing_prices, start)
}

/// [`prepare`] with only what it reads of the choices: whether legs without value are allowed.
/// The values are checked on a second connection while the transfers are matched; from the
/// first event (`--from-scratch`) the transfers too are matched again over every deposit and
/// withdrawal read from the events, not through the copy the last matching kept.
pub(super) fn prepare_values(
    context: &Context,
    ledger: &mut Ledger,
    allow_missing_prices: bool,
    start: Start,
) -> anyhow::Result<(Matching, usize)> {
    let (missing, matching) = pricing::require_values_while(ledger, allow_missing_prices, |ledger| match start {
        Start::Snapshot => transfers::refresh(ledger),
        Start::Scratch => transfers::refresh_whole(ledger),
    })?;
    if !missing.is_empty() {
        context.note(format!(
            "warning: {} legs have no value and count as zero; the rows they touch are marked (`cointally prices missing` lists them)",
            missing.len()
        ));
    }
    Ok((matching?, missing.len()))
}

/// Checks the prices, matches transfers, computes and stores the year: the one way every
/// report and export gets its rows. It starts from the latest year-end snapshot that fits.
pub fn compute_year(context: &Context, ledger: &mut Ledger, args: &TaxArgs) -> anyhow::Result<(Computed, usize)> {
    let (mut computed, missing) =
        compute_years(context, ledger, &args.choices, (args.year, args.year), Start::Snapshot)?;
    let computed = computed.pop().context("the year was not computed")?;
    Ok((computed, missing))
}

/// [`compute_year`] for every year of `years` in one pass; each year's run is stored, replacing
/// the one stored before for that year.
pub fn compute_years(
    context: &Context,
    ledger: &mut Ledger,
    choices: &TaxChoices,
    years: (i32, i32),
    start: Start,
) -> anyhow::Result<(Vec<Computed>, usize)> {
    let (computed, missing, options) = compute_unstored(context, ledger, choices, years, start)?;
    tax::store_years(ledger, &options, years.0, &computed)?;
    Ok((computed, missing))
}

/// [`compute_years`], running `beside` on the years computed (on another thread, with a
/// second connection to the ledger) while their rows are stored: a report's summing up costs
/// about what storing the rows does, and neither needs the other.
pub fn compute_years_beside<T: Send>(
    context: &Context,
    ledger: &mut Ledger,
    choices: &TaxChoices,
    years: (i32, i32),
    start: Start,
    beside: impl FnOnce(&Ledger, &[Computed]) -> anyhow::Result<T> + Send,
) -> anyhow::Result<(Vec<Computed>, usize, T)> {
    let (computed, missing, options) = compute_unstored(context, ledger, choices, years, start)?;
    let made = tax::store_years_beside(ledger, &options, years.0, &computed, beside)?;
    Ok((computed, missing, made?))
}

/// The years computed as [`compute_years`] does, not yet stored, with the options they were
/// computed under.
fn compute_unstored(
    context: &Context,
    ledger: &mut Ledger,
    choices: &TaxChoices,
    (first, last): (i32, i32),
    start: Start,
) -> anyhow::Result<(Vec<Computed>, usize, Options)> {
    let options = choices.options(Some(first));
    // The events (after the latest snapshot, or from the first) are read on a second
    // connection while the values are checked and the transfers matched; the pass takes them
    // if it starts where they do.
    let (_, ahead) = years::ReadAhead::start(ledger, &options, first..=last, start)?;
    let (matching, missing) = prepare(context, ledger, choices, start)?;
    let (computed, info) = years::compute_years_with(ledger, options, &matching, first..=last, start, Some(ahead))?;
    let closed = years::closed_years(ledger, &options)?;
    match info.started_after {
        Some(year) if closed.contains(&year) => context.note(format!(
            "computed from the lots filed with {year} (closed; `cointally year list`), not from history before it"
        )),
        Some(_) => note_start(context, &info, Jurisdiction::Us),
        None if start == Start::Scratch && closed.iter().any(|c| *c < last) => context.note(format!(
            "what-if: --from-scratch does not start from the closed years ({}): these figures are history as the ledger holds it now, not what was filed",
            closed.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
        )),
        None => {}
    }
    if start == Start::Snapshot {
        for c in ledger.closed_years()?.iter().filter(|c| c.inputs_changed && c.year < last && closed.contains(&c.year))
        {
            context.note(format!(
                "note: the ledger changed in or before {} since it was closed; later years still start from what was filed (`cointally check` says whether {} would compute differently)",
                c.year, c.year
            ));
        }
    }
    Ok((computed, missing, options))
}

/// Says on stderr that a pass started from a year-end snapshot (its year named as
/// `jurisdiction` names tax years).
pub(super) fn note_start(context: &Context, info: &PassInfo, jurisdiction: Jurisdiction) {
    if let Some(year) = info.started_after {
        context.note(format!(
            "computed from the snapshot at the end of {} ({} events read; --from-scratch reads them all)",
            jurisdiction.rules().tax_year(year).label,
            info.events_read
        ));
    }
}

/// The years of `--year Y`, `--years FIRST-LAST` or `--all-years` (the tax years under
/// `jurisdiction` of the first and the last event; US and Canadian years in the ledger's time
/// zone): what `report` and `export` compute.
pub(super) fn year_range(
    ledger: &Ledger,
    jurisdiction: Jurisdiction,
    year: Option<i32>,
    years: Option<(i32, i32)>,
    all_years: bool,
) -> anyhow::Result<(i32, i32)> {
    Ok(match (year, years) {
        (Some(year), _) => (year, year),
        (None, Some(range)) => range,
        (None, None) if all_years => match ledger.event_time_bounds()? {
            Some((first, last)) => {
                // The years of the ledger's time zone: an evening event on 31 December in New
                // York is that year's, though 1 January in UTC. The UK's, Australia's and
                // Germany's years are their own (6 April, 1 July; Berlin time).
                let zone = crate::tax::zone::Zone::of_ledger(ledger)?;
                let year = |ms: i64| {
                    let year = match jurisdiction {
                        Jurisdiction::Us | Jurisdiction::Ca => zone.year(ms),
                        Jurisdiction::Au => {
                            use crate::tax::jurisdiction::Rules as _;
                            let rules = crate::tax::au::AuRules { zone: crate::tax::au::day::AuZone::of(zone) };
                            rules.year_of_ms(ms)
                        }
                        other => other.rules().year_of_ms(ms),
                    };
                    year.clamp(*YEARS.start(), *YEARS.end())
                };
                (year(first), year(last))
            }
            None => {
                return Err(Failure::input("the ledger has no events: there is no year to report")
                    .hint("import or sync history first: cointally import FILE")
                    .into());
            }
        },
        (None, None) => {
            return Err(Failure::input("no year given")
                .hint("give --year Y, --years FIRST-LAST or --all-years")
                .into());
        }
    })
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let probe = args.choices.for_year(args.year.unwrap_or(*YEARS.start()));
    let jurisdiction = super::report_uk::jurisdiction(&ledger, &probe)?;
    let range = year_range(&ledger, jurisdiction, args.year, args.years, args.all_years)?;
    let years = Years { range, single: args.year.is_some() };
    type CountryRun = fn(&Context, &mut Ledger, &TaxChoices, Years, Start) -> anyhow::Result<()>;
    let country: Option<CountryRun> = match jurisdiction {
        Jurisdiction::Us => None,
        Jurisdiction::Uk => Some(super::report_uk::run),
        Jurisdiction::Ca => Some(super::report_ca::run),
        Jurisdiction::Au => Some(super::report_au::run),
        Jurisdiction::De => Some(super::report_de::run),
    };
    let start = if args.from_scratch { Start::Scratch } else { Start::Snapshot };
    if let Some(run_country) = country {
        return run_country(context, &mut ledger, &args.choices, years, start);
    }
    // Each year's report is summed up while its rows are stored, and written out at once: as
    // text (a few tables) or, with --json, as its document into a spooled file (all years'
    // lines of a million events are some hundreds of MB, their JSON more). Nothing is printed
    // before the rows are stored.
    let json = context.json;
    let single = args.year.is_some();
    let (_, _, (made, documents)) =
        compute_years_beside(context, &mut ledger, &args.choices, range, start, |reader, computed| {
            let mut made = Vec::with_capacity(computed.len());
            let spool = || std::io::BufWriter::new(tempfile::spooled_tempfile(JSON_IN_MEMORY));
            // --json: a range's documents as a list, one year's alone.
            let (mut list, mut one) = ((json && !single).then(|| JsonList::new(spool())), (json && single).then(spool));
            for (year, c) in (range.0..=range.1).zip(computed) {
                let options = args.choices.options(Some(year));
                let report = tax::year_report(reader, year, options, c)?;
                let allocation = report.allocation.clone();
                // A closed year shows what was filed, not what was computed now.
                let closed = ClosedJson::of(reader, year, &options, start)?;
                let filed = if closed.this_year { reader.closed_year(year)? } else { None };
                if !json {
                    let mut text = Vec::new();
                    if filed.is_none() {
                        write_report(&report, &mut text)?;
                    }
                    made.push((year, allocation, text, filed));
                    continue;
                }
                let document = match &filed {
                    Some(filed) => {
                        let mut document: serde_json::Value = serde_json::from_str(&filed.report_json)?;
                        document["closed"] = serde_json::to_value(&closed)?;
                        Document::Filed(document)
                    }
                    None => Document::Made(Box::new(report.into_json_document(Some(closed))?)),
                };
                if let Some(list) = list.as_mut() {
                    list.push(&document)?;
                } else if let Some(out) = one.as_mut() {
                    serde_json::to_writer_pretty(&mut *out, &document)?;
                    writeln!(out)?;
                }
                made.push((year, allocation, Vec::new(), None));
            }
            let documents = match (list, one) {
                (Some(list), _) => Some(list.finish()?),
                (None, one) => one,
            };
            let documents = documents.map(|out| out.into_inner().map_err(|e| e.into_error())).transpose()?;
            Ok((made, documents))
        })?;
    if let Some(note) = made.iter().find_map(|(_, allocation, _, _)| allocation.as_ref()) {
        context.note(format!("note: 2025 allocation: {note}"));
    }
    if let Some(mut documents) = documents {
        documents.seek(std::io::SeekFrom::Start(0))?;
        let mut out = std::io::stdout().lock();
        std::io::copy(&mut documents, &mut out)?;
        return Ok(out.flush()?);
    }
    let closed_years = years::closed_years(&ledger, &args.choices.options(None))?;
    for (i, (year, _, text, filed)) in made.iter().enumerate() {
        if i > 0 {
            println!();
        }
        match filed {
            Some(filed) => {
                println!(
                    "{} is closed: the result as filed on {} (`cointally year reopen {} --yes` computes it again)",
                    filed.year, filed.closed_at, filed.year
                );
                print!("{}", filed.report_text);
            }
            None => {
                if start == Start::Scratch && closed_years.contains(year) {
                    println!(
                        "what-if: {year} is closed; these figures are computed from scratch, not what was filed (`cointally report --year {year}` shows the filed result)"
                    );
                }
                std::io::stdout().write_all(text)?;
            }
        }
    }
    Ok(std::io::stdout().flush()?)
}

/// How much of `report --json`'s output is held in memory before it spills to a temporary
/// file (it is printed once the rows are stored).
const JSON_IN_MEMORY: usize = 8 << 20;

/// A year's `report --json` document: as filed (a closed year), or as computed now.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Document {
    Filed(serde_json::Value),
    Made(Box<tax::report::JsonDocument>),
}

/// The tax years a command computes: `--year` (one, `single`) or a range (`--years`,
/// `--all-years`), first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Years {
    /// The first and the last year.
    pub range: (i32, i32),
    /// Whether `--year` gave it (one document, one file), not a range.
    pub single: bool,
}

impl Years {
    /// One year, as `--year` gives it.
    pub fn one(year: i32) -> Years {
        Years { range: (year, year), single: true }
    }

    /// The years, as the range a computation takes.
    pub fn all(self) -> std::ops::RangeInclusive<i32> {
        self.range.0..=self.range.1
    }
}

/// Prints a country's `report --json` documents: for `--year` the one document, for a range
/// an array of them in year order (each the document `--year` prints for its year). Each is
/// made, written and freed before the next is made.
pub(super) fn print_documents(
    mut documents: impl Iterator<Item = serde_json::Value>,
    years: Years,
) -> anyhow::Result<()> {
    if years.single {
        return Ok(print_json(&documents.next().context("the year was not computed")?)?);
    }
    let mut list = JsonList::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()));
    for document in documents {
        list.push(&document)?;
    }
    Ok(list.finish()?.flush()?)
}

/// Prints a country's reports as text, one after the other with an empty line between
/// (each written whole by `print`).
pub(super) fn print_each<R>(reports: &[R], print: impl Fn(&R) -> anyhow::Result<()>) -> anyhow::Result<()> {
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print(report)?;
    }
    Ok(())
}

/// Prints a report as tables (the demo's; `report` writes each year as its rows are stored).
#[cfg(feature = "sandbox")]
pub fn print_report(report: &Report) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write_report(report, &mut out)?;
    Ok(out.flush()?)
}

/// Writes a report as tables (what `report` prints; `year close` keeps it as filed).
pub fn write_report(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let lots = report.options.tracking.in_year(report.year);
    writeln!(
        out,
        "Tax year {} (US rules, {}), {}, lots {}{}, transfer fees {}",
        report.year,
        report.currency,
        report.options.method.as_str().to_uppercase(),
        lots.as_str(),
        if report.options.tracking == Tracking::Us { " (US rule)" } else { "" },
        report.options.transfer_fees.as_str(),
    )?;
    if !report.zone.is_utc() {
        writeln!(out, "dates, holding periods and the year's bounds: local dates in {}", report.zone.name())?;
    }
    if report.rebates == crate::tax::rebates::Rebates::Basis {
        writeln!(out, "rebates: price reductions (not income; their units have basis zero)")?;
    }
    if report.options.what_if {
        writeln!(
            out,
            "what-if: {} for every disposal of all history; the elections (`cointally method list`) are not applied and past years may differ from what was filed",
            report.options.method.as_str().to_uppercase()
        )?;
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
        writeln!(out, "elections: {} (FIFO where none is in force)", shown.join("; "))?;
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
    table.write(out)?;
    if !report.income_by_kind.is_empty() {
        writeln!(out)?;
        writeln!(out, "Income by kind:")?;
        let mut table = Table::new(&[("Kind", Align::Left), ("Value", Align::Right)]);
        for (kind, value) in &report.income_by_kind {
            table.row(vec![kind.clone(), money(*value)]);
        }
        table.write(out)?;
    }
    let missing_basis = report.lines.iter().filter(|l| l.basis_missing).count();
    let missing_price = report.lines.iter().filter(|l| l.price_missing).count();
    writeln!(out)?;
    writeln!(out, "{} disposals (one per lot used; `--json` lists them)", report.lines.len())?;
    if missing_basis > 0 {
        writeln!(out, "{missing_basis} of them have no known basis (counted as zero): `cointally check` says why")?;
    }
    if missing_price > 0 {
        writeln!(out, "{missing_price} of them use a leg without a price (counted as zero)")?;
    }
    writeln!(
        out,
        "manifest: cointally {}, {}, inputs sha256 {}",
        env!("CARGO_PKG_VERSION"),
        report.options,
        report.inputs_hash
    )?;
    Ok(())
}
