//! `cointally basis allocate|allocation`: the 2025 allocation of unused basis (Rev. Proc.
//! 2024-28, <https://www.irs.gov/irb/2024-31_IRB>), made once and kept.
//!
//! `allocate --as-of 2025-01-01` computes it from the history before the switch (the global
//! rule, or the user's file with `--specific FILE`, checked first) and stores it; reports from
//! 2025 then start from it, and `check` says when the history before 2025 no longer agrees
//! (`allocation_changed`). The allocation is irrevocable under the Revenue Procedure: a
//! stored one is replaced only with `--replace`. `allocation` shows the stored one;
//! `export allocation` writes it as the record to keep.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::{format_rfc3339, from_millis};
use serde::Serialize;

use crate::ledger::{AllocatedLot, AllocationRule, Ledger, StoredAllocation};
use crate::tax::allocation::{self, AtSwitch, SWITCH_MS, specific};
use crate::tax::report::money;
use crate::tax::years::Start;

use super::output::{Align, Table, print_json};
use super::report::prepare_values;
use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Allocate the unused basis at 2025-01-01 to the units each wallet held, and store it
    Allocate(AllocateArgs),
    /// Show the stored allocation
    Allocation,
}

#[derive(Debug, clap::Args)]
pub struct AllocateArgs {
    /// The switch to per-wallet lots: 2025-01-01 (the only date the US rule has)
    #[arg(long, value_parser = parse_as_of, value_name = "DATE")]
    as_of: i64,
    /// Your own unit-by-unit allocation (CSV: wallet,asset,units,acquired,cost_basis; the
    /// README shows the layout) instead of cointally's global rule
    #[arg(long, value_name = "FILE")]
    specific: Option<PathBuf>,
    /// Replace the allocation stored before (it is meant to be made once: reports from 2025 change)
    #[arg(long)]
    replace: bool,
    /// Compute and show it, store nothing
    #[arg(long)]
    dry_run: bool,
    /// Compute even though some legs have no value (they count as zero)
    #[arg(long)]
    allow_missing_prices: bool,
}

fn parse_as_of(text: &str) -> Result<i64, String> {
    match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(date) if date == NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default() => Ok(SWITCH_MS),
        Ok(_) => Err(format!(
            "{text}: US lots switched to per-wallet tracking on 2025-01-01 (Treas. Reg. §1.1012-1(j)); give --as-of 2025-01-01"
        )),
        Err(_) => Err(format!("{text:?} is not a date: give --as-of 2025-01-01")),
    }
}

pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    match command {
        Command::Allocate(args) => allocate(context, &mut ledger, args),
        Command::Allocation => {
            let Some(stored) = ledger.stored_allocation()? else {
                if context.json {
                    return Ok(print_json(&serde_json::Value::Null)?);
                }
                context.note(
                    "no allocation stored: reports from 2025 compute the global rule each time; store it with `cointally basis allocate --as-of 2025-01-01`",
                );
                return Ok(());
            };
            show(context, &ledger, &stored, &[])
        }
    }
}

fn allocate(context: &Context, ledger: &mut Ledger, args: AllocateArgs) -> anyhow::Result<()> {
    if let Some(stored) = ledger.stored_allocation()?.filter(|_| !args.replace && !args.dry_run) {
        return Err(Failure::input(format!(
            "a {} allocation is already stored (since {}); nothing was changed",
            stored.rule.as_str(),
            stored.created_at
        ))
        .hint("the allocation is made once (Rev. Proc. 2024-28 §4.02(6): irrevocable): `cointally basis allocation` shows it")
        .hint("to correct a mistake in it, run the same command with --replace (reports from 2025 then change)")
        .into());
    }
    let (matching, _) = prepare_values(context, ledger, args.allow_missing_prices, Start::Snapshot)?;
    let at = allocation::at_switch(ledger, &matching)?;
    // `--as-of` takes only 2025-01-01 (checked when parsed): the instant is its local midnight.
    debug_assert_eq!(args.as_of, SWITCH_MS);
    let made = match &args.specific {
        None => at.global(),
        Some(path) => read_specific(ledger, path, &at)?,
    };
    if args.dry_run {
        show(context, ledger, &made, &at.unassigned)?;
        context.note("dry run: nothing was stored");
        return Ok(());
    }
    ledger.store_allocation(&made)?;
    let stored = ledger.stored_allocation()?.unwrap_or(made);
    show(context, ledger, &stored, &at.unassigned)?;
    context.note(format!(
        "stored the {} allocation at 2025-01-01: reports from 2025 start from it; `cointally export allocation` writes the record to keep",
        stored.rule.as_str()
    ));
    Ok(())
}

fn read_specific(ledger: &Ledger, path: &Path, at: &AtSwitch) -> anyhow::Result<StoredAllocation> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::input(format!("cannot read {shown}: {e}")).hint("check the --specific path and that it can be read")
    })?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| Failure::input(format!("{shown} is not UTF-8 text")).hint("save it as a UTF-8 CSV file"))?;
    let accounts: BTreeMap<String, i64> = ledger.accounts()?.into_iter().map(|a| (a.label, a.id)).collect();
    let lots = specific::read(&shown, &text, &accounts, at).map_err(|e| match e {
        specific::SpecificError::Problems { ref problems, .. } => {
            let listed: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            Failure::input(format!("{e}\n{}", listed.join("\n")))
                .hint("fix the rows listed and run the same command again; the file's layout is in the README (Cost basis: the 2025 allocation)")
        }
        specific::SpecificError::Layout { .. } => Failure::input(e.to_string())
            .hint(format!("the first line must be the header {}", specific::COLUMNS.join(","))),
    })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let source = format!("{name} sha256 {}", crate::digest::sha256_hex(&bytes));
    Ok(at.stored(AllocationRule::Specific, Some(source), lots))
}

#[derive(Serialize)]
struct LotJson {
    units: String,
    cost_basis: String,
    acquired: String,
    lot_event: Option<i64>,
    basis_missing: bool,
}

#[derive(Serialize)]
struct WalletJson {
    wallet: String,
    asset: String,
    units: String,
    cost_basis: String,
    lots: Vec<LotJson>,
}

#[derive(Serialize)]
struct AllocationJson {
    rule: &'static str,
    as_of: String,
    stored_at: Option<String>,
    source: Option<String>,
    history_hash: String,
    wallets: Vec<WalletJson>,
    unassigned: Vec<WalletJson>,
}

/// Groups lots per (wallet label, asset), in that order.
fn wallets(lots: &[AllocatedLot], labels: &BTreeMap<i64, String>) -> Vec<WalletJson> {
    let mut grouped: BTreeMap<(String, String), Vec<&AllocatedLot>> = BTreeMap::new();
    for lot in lots {
        let label = labels.get(&lot.account_id).cloned().unwrap_or_else(|| "(no wallet)".to_owned());
        grouped.entry((label, lot.asset.clone())).or_default().push(lot);
    }
    grouped
        .into_iter()
        .map(|((wallet, asset), mut lots)| {
            lots.sort_by_key(|l| (l.acquired_ms, l.lot_id));
            WalletJson {
                wallet,
                asset,
                units: format_amount(lots.iter().map(|l| l.units).sum()),
                cost_basis: format_amount(lots.iter().map(|l| l.basis).sum()),
                lots: lots
                    .iter()
                    .map(|l| LotJson {
                        units: format_amount(l.units),
                        cost_basis: format_amount(l.basis),
                        acquired: format_rfc3339(from_millis(l.acquired_ms)),
                        lot_event: (l.event_id > 0).then_some(l.event_id),
                        basis_missing: l.basis_missing,
                    })
                    .collect(),
            }
        })
        .collect()
}

fn show(
    context: &Context,
    ledger: &Ledger,
    allocation: &StoredAllocation,
    unassigned: &[AllocatedLot],
) -> anyhow::Result<()> {
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let shown = AllocationJson {
        rule: allocation.rule.as_str(),
        as_of: format_rfc3339(from_millis(allocation.as_of_ms)),
        stored_at: (!allocation.created_at.is_empty()).then(|| allocation.created_at.clone()),
        source: allocation.source.clone(),
        history_hash: allocation.history_hash.clone(),
        wallets: wallets(&allocation.lots, &labels),
        unassigned: wallets(unassigned, &labels),
    };
    if context.json {
        return Ok(print_json(&shown)?);
    }
    println!(
        "2025 allocation of unused basis: {} rule, as of {}{}",
        shown.rule,
        shown.as_of,
        shown.stored_at.as_ref().map(|t| format!(", stored {t}")).unwrap_or_default()
    );
    let zone = crate::tax::zone::Zone::of_ledger(ledger)?;
    let mut table = Table::new(&[
        ("Wallet", Align::Left),
        ("Asset", Align::Left),
        ("Units", Align::Right),
        ("Cost basis", Align::Right),
        ("Lots", Align::Right),
        ("Earliest acquired", Align::Left),
    ]);
    for w in &shown.wallets {
        let basis = w.cost_basis.parse().map(money).unwrap_or_else(|_| w.cost_basis.clone());
        // The local date in the ledger's zone (the JSON keeps the instant in UTC).
        let earliest = w
            .lots
            .first()
            .map(|l| match cointally_exchanges::time::parse_utc(&l.acquired) {
                Ok(t) => zone.date(t.timestamp_millis()).to_string(),
                Err(_) => l.acquired.get(..10).unwrap_or_default().to_owned(),
            })
            .unwrap_or_default();
        table.row(vec![w.wallet.clone(), w.asset.clone(), w.units.clone(), basis, w.lots.len().to_string(), earliest]);
    }
    table.print()?;
    for w in &shown.unassigned {
        context.note(format!(
            "note: {} {} of basis {} is held by no wallet at the switch (the ledger saw more acquired than any wallet held): it is not allocated",
            w.units, w.asset, w.cost_basis
        ));
    }
    Ok(())
}

/// `cointally export allocation [-o FILE]`: the stored allocation as the record to keep, with
/// its manifest beside it (`-o -`: the CSV on stdout, the manifest on stderr).
pub fn export(context: &Context, output: Option<PathBuf>) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let Some(stored) = ledger.stored_allocation()? else {
        return Err(Failure::input("no allocation is stored: there is nothing to export")
            .hint("store it first: cointally basis allocate --as-of 2025-01-01 (or --specific FILE)")
            .into());
    };
    let accounts: BTreeMap<i64, (String, String)> =
        ledger.accounts()?.into_iter().map(|a| (a.id, (a.label, a.exchange))).collect();
    let currency = ledger.reporting_currency()?;
    let zone = crate::tax::zone::Zone::of_ledger(&ledger)?;
    let path = output.unwrap_or_else(|| PathBuf::from("allocation-2025.csv"));
    if path.as_os_str() == "-" {
        let (bytes, manifest) = crate::export::allocation::render(&stored, &accounts, &currency, zone, "-")?;
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&bytes)?;
        stdout.flush()?;
        let mut json = serde_json::to_vec_pretty(&manifest)?;
        json.push(b'\n');
        std::io::stderr().write_all(&json)?;
        return Ok(());
    }
    let manifest = crate::export::allocation::write_file(&stored, &accounts, &currency, zone, &path)?;
    if context.json {
        return Ok(print_json(&manifest)?);
    }
    context.note(format!(
        "wrote {} ({} rows, sha256 {}) and its manifest {}",
        path.display(),
        manifest.output.rows,
        manifest.output.sha256,
        crate::export::manifest_path(&path).display()
    ));
    Ok(())
}
