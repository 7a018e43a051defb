//! `cointally sync [--account L]... [--full] [--since DATE]`: fetch new history from the
//! exchanges through their read-only API keys.

use chrono::NaiveDate;
use cointally_exchanges::Exchange;
use cointally_exchanges::time::to_millis;
use serde::Serialize;

use crate::credentials::CredentialsFile;
use crate::ledger::{CredentialSource, Ledger};
use crate::sync::connect::{self, Connector};
use crate::sync::{AccountSummary, Job, Options, Reporter};

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this account (repeat for several); default: every account with an API key
    #[arg(long = "account", value_name = "LABEL")]
    pub(super) accounts: Vec<String>,
    /// Walk the whole history again (adds nothing twice; slower)
    #[arg(long)]
    full: bool,
    /// Where history starts for endpoints never synced (YYYY-MM-DD, UTC); default: the exchange's launch
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// How many requests may be in flight at once (the exchange's rate limits still apply)
    #[arg(long, default_value_t = 8, value_name = "N")]
    jobs: usize,
}

/// `sync --json`: what was done, per account.
#[derive(Serialize)]
struct SyncJson<'a> {
    accounts: &'a [AccountSummary],
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let options = options(&args)?;
    let mut ledger = context.open_ledger()?;
    let credentials = CredentialsFile::at(context.credentials.clone())?;
    let mut connector = Connector::new();
    let jobs = connect_jobs(&ledger, &args.accounts, &credentials, &mut connector, false, &mut |warning| {
        context.note(format!("warning: {warning}"))
    })?;
    if jobs.is_empty() {
        context.note("no account has an API key; add one with `cointally account add binance --label NAME`");
        return Ok(());
    }
    let reporter = Reporter::new(context.quiet);
    let summaries = crate::sync::run(&mut ledger, &jobs, &options, &reporter)?;
    print_summary(context, &summaries)?;
    verdict(&summaries)
}

/// The run's outcome: an error (exit 3) when an account did not sync completely, or (exit 4)
/// when stored records need attention; `Ok` otherwise.
pub(super) fn verdict(summaries: &[AccountSummary]) -> anyhow::Result<()> {
    let failed: Vec<&AccountSummary> = summaries.iter().filter(|s| s.error.is_some()).collect();
    if let Some(first) = failed.first() {
        let mut failure = Failure::exchange(format!(
            "{} of {} accounts did not sync completely: {}",
            failed.len(),
            summaries.len(),
            first.error.as_deref().unwrap_or_default()
        ));
        failure = if first.auth_error {
            failure.hint("check the account's API key and secret (`cointally account check LABEL`), and that the key allows this machine's IP address")
        } else {
            failure.hint("what was fetched is kept; run `cointally sync` again to go on from there")
        };
        return Err(failure.into());
    }
    let attention: u64 = summaries.iter().map(|s| s.needs_attention).sum();
    if attention > 0 {
        let accounts: Vec<&str> =
            summaries.iter().filter(|s| s.needs_attention > 0).map(|s| s.account.as_str()).collect();
        return Err(Failure::attention(format!(
            "sync finished, but {attention} stored record{s} of {} could not be read by this version of cointally",
            accounts.join(", "),
            s = if attention == 1 { "" } else { "s" }
        ))
        .hint("`cointally check --details` lists each one with what is wrong; they are kept in the raw archive")
        .hint("after upgrading cointally, `cointally renormalize` reads them; nothing else needs re-fetching")
        .into());
    }
    Ok(())
}

/// What `--full`, `--since` and `--jobs` ask of the engine.
pub(super) fn options(args: &Args) -> anyhow::Result<Options> {
    let since_ms = match &args.since {
        Some(text) => Some(
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| to_millis(t.and_utc()))
                .ok_or_else(|| Failure::input(format!("--since {text:?} is not a date like 2021-01-31")))?,
        ),
        None => None,
    };
    Ok(Options { full: args.full, since_ms, workers: args.jobs.max(1) })
}

/// The accounts `--account` names (default: every account with a key), connected through
/// `connector`, their keys' permissions checked. `qualifier` goes before each label in what
/// the adapter is told (`client/`, in a batch): per-account budgets are counted under that
/// name, so two clients' accounts of the same label never share one.
pub(super) fn connect_jobs(
    ledger: &Ledger,
    labels: &[String],
    credentials: &CredentialsFile,
    connector: &mut Connector,
    by_key: bool,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Vec<Job>> {
    let accounts = match labels.is_empty() {
        true => ledger.accounts()?.into_iter().filter(|a| a.credential_source != CredentialSource::None).collect(),
        false => labels.iter().map(|label| ledger.account(label)).collect::<Result<Vec<_>, _>>()?,
    };
    let ledger_id = ledger.ledger_id()?;
    let mut jobs = Vec::new();
    for account in accounts {
        let exchange: Exchange = account.exchange.parse().map_err(|e| Failure::input(format!("{e}")))?;
        // Where the key goes is checked against its binding before the key is even read.
        let route = connect::route(&account, exchange, &ledger_id, credentials)?;
        for warning in &route.warnings {
            warn(warning.to_string());
        }
        let key = connect::api_key(&account, &ledger_id, credentials)?;
        let name = match by_key {
            true => {
                let digest = crate::digest::sha256_hex(key.key.expose().as_bytes());
                format!("{} (key {})", account.label, &digest[..8])
            }
            false => account.label.clone(),
        };
        let adapter = connector.adapter(&name, exchange, key, route.base_url.as_deref())?;
        let permissions =
            adapter.key_permissions().map_err(|source| connect::ConnectError::fetch(&account.label, source))?;
        for warning in connect::judge_permissions(&account.label, &permissions, account.allow_withdraw_key)? {
            warn(warning);
        }
        jobs.push(Job { account, exchange, adapter });
    }
    Ok(jobs)
}

fn print_summary(context: &Context, summaries: &[AccountSummary]) -> anyhow::Result<()> {
    if context.json {
        return Ok(print_json(&SyncJson { accounts: summaries })?);
    }
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("Endpoint", Align::Left),
        ("Scopes", Align::Right),
        ("Records", Align::Right),
        ("New", Align::Right),
        ("Pages", Align::Right),
        ("Requests", Align::Right),
        ("Retries", Align::Right),
        ("Warnings", Align::Right),
    ]);
    for summary in summaries {
        for e in &summary.endpoints {
            table.row(vec![
                summary.account.clone(),
                e.endpoint.clone(),
                e.streams.to_string(),
                e.records.to_string(),
                e.new_records.to_string(),
                e.pages.to_string(),
                e.requests.to_string(),
                e.retries.to_string(),
                e.warnings.len().to_string(),
            ]);
        }
    }
    table.print()?;
    for summary in summaries {
        for e in &summary.endpoints {
            for warning in &e.warnings {
                context.note(format!("warning: {} {}: {warning}", summary.account, e.endpoint));
            }
        }
        if summary.details_waiting > 0 {
            context.note(format!(
                "warning: {}: {} deposit/withdrawal detail record{s} (tx hash, address) met no event of the account yet; \
                 the next sync tries again",
                summary.account,
                summary.details_waiting,
                s = if summary.details_waiting == 1 { "" } else { "s" }
            ));
        }
        if summary.error.is_none() {
            if summary.balance_differences.is_empty() {
                context.note(format!("{}: every balance equals what {} reports", summary.account, summary.exchange));
            } else {
                context.note(format!(
                    "{}: {} balances differ from what {} reports (history may be missing; `cointally coverage` shows what was fetched):",
                    summary.account,
                    summary.balance_differences.len(),
                    summary.exchange
                ));
                for d in &summary.balance_differences {
                    context.note(format!("  {}: ledger {}, exchange {}", d.asset, d.ledger, d.exchange));
                }
            }
        }
    }
    Ok(())
}
