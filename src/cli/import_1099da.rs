//! `cointally import-1099da FILE --account L`: a broker's Form 1099-DA statement (CSV, the
//! layout of [`crate::import::form1099da`]) into the ledger, for `reconcile` and the Form 8949
//! boxes. All rows or none; the account's rows of the tax years the file covers are replaced,
//! so importing the same file again changes nothing.

use std::path::PathBuf;

use crate::import::form1099da::read_file;
use crate::tax::boxes::is_us_broker;

use super::output::print_json;
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The statement (CSV: checkbox,dtif_code,asset,units,date_acquired,date_sold,proceeds,cost_basis,basis_reported,gain_type,noncovered)
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The account (at the broker) the statement is for
    #[arg(long)]
    account: String,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let account = ledger.account(&args.account)?;
    let rows = read_file(&args.file).map_err(|e| {
        Failure::input(e.to_string())
            .hint("fix the rows named above and run the same command again; nothing was imported")
            .hint("the README's \"Form 1099-DA\" section lists the columns")
    })?;
    if rows.is_empty() {
        return Err(
            Failure::input(format!("{}: no rows after the header; nothing was imported", args.file.display())).into()
        );
    }
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let years = ledger.store_statement(account.id, &name, &rows)?;
    if context.json {
        return Ok(print_json(&serde_json::json!({
            "file": args.file.display().to_string(),
            "account": account.label,
            "rows": rows.len(),
            "years": years,
        }))?);
    }
    let years: Vec<String> = years.iter().map(i32::to_string).collect();
    context.note(format!(
        "imported {} Form 1099-DA rows into {} (tax year {}; rows stored before for those years were replaced)",
        rows.len(),
        account.label,
        years.join(", ")
    ));
    if !is_us_broker(&account.exchange) {
        context.note(format!(
            "note: {} is a {} account, not one of the US brokers cointally knows (coinbase, kraken, gemini, binanceus); the statement is used all the same",
            account.label, account.exchange
        ));
    }
    context.note(format!("next: cointally reconcile --year {}", years.last().map(String::as_str).unwrap_or("YEAR")));
    Ok(())
}
