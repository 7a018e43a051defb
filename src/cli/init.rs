//! `cointally init`: create a new, empty ledger.

use crate::ledger::{Ledger, OpenMode};
use crate::tax::jurisdiction::{JURISDICTION_SETTING, Jurisdiction};

use super::Context;

/// Reporting currencies a ledger can have.
pub const CURRENCIES: [&str; 5] = ["USD", "GBP", "EUR", "CAD", "AUD"];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The currency reports are made in
    #[arg(long, default_value = "USD", value_parser = CURRENCIES)]
    currency: String,
    /// Whose tax rules reports follow (`cointally settings jurisdiction` changes it later)
    #[arg(long, value_enum, default_value_t = Jurisdiction::Us)]
    jurisdiction: Jurisdiction,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let path = context.ledger_path();
    let mut ledger = Ledger::open(&path, OpenMode::CreateNew)?;
    ledger.set_setting("reporting_currency", &args.currency)?;
    ledger.set_setting(JURISDICTION_SETTING, args.jurisdiction.as_str())?;
    if context.json {
        super::output::print_json(&serde_json::json!({
            "ledger": path.display().to_string(),
            "version": ledger.version()?,
            "currency": args.currency,
            "jurisdiction": args.jurisdiction.as_str(),
        }))?;
    } else {
        println!(
            "created ledger {} (reporting currency {}, {} tax rules)",
            path.display(),
            args.currency,
            args.jurisdiction.as_str().to_uppercase()
        );
        context.note("next: add an account with `cointally account add <exchange> --label NAME`");
    }
    Ok(())
}
