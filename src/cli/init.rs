//! `cointally init`: create a new, empty ledger.

use crate::ledger::{Ledger, OpenMode};
use crate::tax::jurisdiction::{JURISDICTION_SETTING, Jurisdiction};
use crate::tax::zone::{TIMEZONE_SETTING, Zone};

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
    /// The local time zone (IANA name, e.g. America/New_York) whose calendar US tax years,
    /// holding periods and exported dates follow [default: UTC]
    #[arg(long, value_name = "AREA/CITY", value_parser = parse_zone)]
    timezone: Option<Zone>,
}

/// Reads `--timezone`, refusing a name the IANA database does not know.
fn parse_zone(text: &str) -> Result<Zone, String> {
    text.parse::<Zone>().map_err(|e| e.to_string())
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let path = context.ledger_path();
    let mut ledger = Ledger::open(&path, OpenMode::CreateNew)?;
    ledger.set_setting("reporting_currency", &args.currency)?;
    ledger.set_setting(JURISDICTION_SETTING, args.jurisdiction.as_str())?;
    let zone = args.timezone.unwrap_or_default();
    if let Some(zone) = args.timezone {
        ledger.set_setting(TIMEZONE_SETTING, zone.name())?;
    }
    if context.json {
        super::output::print_json(&serde_json::json!({
            "ledger": path.display().to_string(),
            "version": ledger.version()?,
            "currency": args.currency,
            "jurisdiction": args.jurisdiction.as_str(),
            "timezone": zone.name(),
        }))?;
    } else {
        println!(
            "created ledger {} (reporting currency {}, {} tax rules, time zone {})",
            path.display(),
            args.currency,
            args.jurisdiction.as_str().to_uppercase(),
            zone.name()
        );
        context.note("next: add an account with `cointally account add <exchange> --label NAME`");
    }
    Ok(())
}
