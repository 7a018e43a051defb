//! `cointally settings [KEY [VALUE]]`: the ledger's settings — all of them, one, or a change.
//!
//! The settings are the ledger's own choices (kept in it, so an accountant's ledger carries
//! its client's): `jurisdiction` (`us`, `uk`, `ca`, `au` or `de`: whose tax rules reports follow; `report
//! --jurisdiction` overrides it for one run), `ca_treatment` (`capital` or `business`: how
//! Canadian reports treat gains and rewards), `timezone` (an IANA name: the local calendar of US
//! tax years, holding periods and dates; UTC by default), `rebates` (`income` or `basis`: how
//! rebates and cashback are taxed), `reporting_currency` (changed with `cointally currency`,
//! which values the legs in the new one) and `ledger_id` (fixed).

use crate::tax::jurisdiction::{JURISDICTION_SETTING, Jurisdiction};
use crate::tax::rebates::{REBATES_SETTING, Rebates};
use crate::tax::zone::{TIMEZONE_SETTING, Zone};

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The setting (jurisdiction, ca_treatment, timezone, rebates, reporting_currency, ledger_id);
    /// none lists them all
    key: Option<String>,
    /// Its new value (e.g. `cointally settings jurisdiction uk`)
    #[arg(requires = "key")]
    value: Option<String>,
}

/// Checks a new value for `key` and returns it as stored.
fn validate(key: &str, value: &str) -> Result<String, Failure> {
    match key {
        JURISDICTION_SETTING => value
            .parse::<Jurisdiction>()
            .map(|j| j.as_str().to_owned())
            .map_err(|e| Failure::input(e.to_string()).hint("e.g. cointally settings jurisdiction uk")),
        crate::tax::ca::TREATMENT_SETTING => value
            .parse::<crate::tax::ca::Treatment>()
            .map(|t| t.as_str().to_owned())
            .map_err(|e| Failure::input(e.to_string()).hint("e.g. cointally settings ca_treatment business")),
        TIMEZONE_SETTING => value.parse::<Zone>().map(|z| z.name().to_owned()).map_err(|e| {
            Failure::input(e.to_string()).hint("e.g. cointally settings timezone America/New_York (the tz database names)")
        }),
        REBATES_SETTING => value
            .parse::<Rebates>()
            .map(|r| r.as_str().to_owned())
            .map_err(|e| Failure::input(e.to_string()).hint("e.g. cointally settings rebates basis")),
        "reporting_currency" => Err(Failure::input("the reporting currency is changed with `cointally currency`")
            .hint(format!("cointally currency {}", value.to_uppercase()))),
        "ledger_id" => {
            Err(Failure::input("the ledger's id never changes (it keys the ledger's entries in the credentials file)"))
        }
        other => Err(Failure::input(format!("no setting {other:?}"))
            .hint("the settings you can change: jurisdiction (us|uk|ca|au|de), ca_treatment (capital|business), timezone (Area/City), rebates (income|basis); the currency with `cointally currency`")),
    }
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    match (args.key, args.value) {
        (None, _) => {
            let mut settings = ledger.settings()?;
            let defaults = [
                (JURISDICTION_SETTING, Jurisdiction::Us.as_str()),
                (TIMEZONE_SETTING, Zone::UTC.name()),
                (REBATES_SETTING, Rebates::Income.as_str()),
            ];
            for (key, value) in defaults {
                if !settings.iter().any(|(k, _)| k == key) {
                    settings.push((key.to_owned(), value.to_owned()));
                }
            }
            settings.sort();
            if context.json {
                let map: serde_json::Map<String, serde_json::Value> =
                    settings.into_iter().map(|(k, v)| (k, serde_json::Value::from(v))).collect();
                return Ok(print_json(&map)?);
            }
            let mut table = Table::new(&[("Setting", Align::Left), ("Value", Align::Left)]);
            for (key, value) in settings {
                table.row(vec![key, value]);
            }
            Ok(table.print()?)
        }
        (Some(key), None) => {
            let value = match ledger.setting(&key)? {
                Some(value) => value,
                None if key == JURISDICTION_SETTING => Jurisdiction::of_ledger(&ledger)?.as_str().to_owned(),
                None if key == TIMEZONE_SETTING => Zone::UTC.name().to_owned(),
                None if key == REBATES_SETTING => Rebates::Income.as_str().to_owned(),
                None => {
                    return Err(Failure::input(format!("no setting {key:?}"))
                        .hint("`cointally settings` lists them")
                        .into());
                }
            };
            if context.json {
                return Ok(print_json(&serde_json::json!({ key: value }))?);
            }
            println!("{value}");
            Ok(())
        }
        (Some(key), Some(value)) => {
            let stored = validate(&key, &value)?;
            ledger.set_setting(&key, &stored)?;
            if context.json {
                return Ok(print_json(&serde_json::json!({ key: stored }))?);
            }
            context.note(format!("{key} = {stored}"));
            Ok(())
        }
    }
}
