//! `cointally init`: create a new, empty ledger.

use crate::ledger::{Ledger, OpenMode};

use super::Context;

/// Reporting currencies a ledger can have.
pub const CURRENCIES: [&str; 5] = ["USD", "GBP", "EUR", "CAD", "AUD"];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The currency reports are made in
    #[arg(long, default_value = "USD", value_parser = CURRENCIES)]
    currency: String,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let path = context.ledger_path();
    let mut ledger = Ledger::open(&path, OpenMode::CreateNew)?;
    ledger.set_setting("reporting_currency", &args.currency)?;
    if context.json {
        super::output::print_json(&serde_json::json!({
            "ledger": path.display().to_string(),
            "version": ledger.version()?,
            "currency": args.currency,
        }))?;
    } else {
        println!("created ledger {} (reporting currency {})", path.display(), args.currency);
        context.note("next: add an account with `cointally account add <exchange> --label NAME`");
    }
    Ok(())
}
