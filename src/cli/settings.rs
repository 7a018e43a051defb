//! `cointally settings [KEY [VALUE]]`: the ledger's settings — all of them, one, or a change.
//!
//! The settings are the ledger's own choices (kept in it, so an accountant's ledger carries
//! its client's): `jurisdiction` (`us`, `uk`, `ca`, `au` or `de`: whose tax rules reports follow; `report
//! --jurisdiction` overrides it for one run), `ca_treatment` (`capital` or `business`: how
//! Canadian reports treat gains and rewards), `timezone` (an IANA name: the local calendar of US
//! tax years, holding periods and dates; UTC by default), `rebates` (`income` or `basis`: how
//! rebates and cashback are taxed), `reporting_currency` (changed with `cointally currency`,
//! which values the legs in the new one) and `ledger_id` (fixed). `losses_brought_forward YEAR
//! AMOUNT` keeps, per tax year, the capital losses of years outside the ledger
//! ([`crate::tax::losses`]; stored as `losses_brought_forward.YEAR`, 0 removes it).

use crate::ledger::Ledger;
use crate::tax::jurisdiction::{JURISDICTION_SETTING, Jurisdiction};
use crate::tax::losses;
use crate::tax::rebates::{REBATES_SETTING, Rebates};
use crate::tax::zone::{TIMEZONE_SETTING, Zone};

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The setting (jurisdiction, ca_treatment, timezone, rebates, losses_brought_forward,
    /// reporting_currency, ledger_id);
    /// none lists them all
    key: Option<String>,
    /// Its new value (e.g. `cointally settings jurisdiction uk`)
    #[arg(requires = "key")]
    value: Option<String>,
    /// For `losses_brought_forward YEAR AMOUNT` only: the amount (reporting currency; 0 removes it)
    #[arg(requires = "value", allow_hyphen_values = true)]
    amount: Option<String>,
}

/// `settings losses_brought_forward [YEAR [AMOUNT]]` (also `losses_brought_forward.YEAR [AMOUNT]`):
/// lists, shows or sets the losses brought forward from outside the ledger.
fn losses(context: &Context, ledger: &mut Ledger, year: Option<&str>, amount: Option<&str>) -> anyhow::Result<()> {
    let hint = "e.g. cointally settings losses_brought_forward 2025 1250.00 (the year the losses are brought into)";
    let Some(year) = year else {
        let all = losses::of_ledger(ledger)?;
        if context.json {
            let map: serde_json::Map<String, serde_json::Value> =
                all.iter().map(|(y, a)| (y.to_string(), serde_json::Value::from(a.to_string()))).collect();
            return Ok(print_json(&serde_json::json!({ losses::LOSSES_SETTING: map }))?);
        }
        if all.is_empty() {
            context.note(format!("no losses brought forward are set; {hint}"));
            return Ok(());
        }
        let mut table = Table::new(&[("Year", Align::Left), ("Losses brought forward", Align::Right)]);
        for (y, a) in all {
            table.row(vec![y.to_string(), a.to_string()]);
        }
        return Ok(table.print()?);
    };
    let year = losses::parse_year(year).map_err(|e| Failure::input(e.to_string()).hint(hint))?;
    let key = losses::key(year);
    let Some(amount) = amount else {
        let value = ledger.setting(&key)?.unwrap_or_else(|| "0".to_owned());
        if context.json {
            return Ok(print_json(&serde_json::json!({ key: value }))?);
        }
        println!("{value}");
        return Ok(());
    };
    let amount = losses::parse_amount(amount).map_err(|e| Failure::input(e.to_string()).hint(hint))?;
    if amount.is_zero() {
        ledger.remove_setting(&key)?;
    } else {
        ledger.set_setting(&key, &amount.to_string())?;
    }
    if context.json {
        return Ok(print_json(&serde_json::json!({ key: amount.to_string() }))?);
    }
    context.note(format!("{key} = {amount}{}", if amount.is_zero() { " (removed)" } else { "" }));
    Ok(())
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
            .hint("the settings you can change: jurisdiction (us|uk|ca|au|de), ca_treatment (capital|business), timezone (Area/City), rebates (income|basis), losses_brought_forward YEAR AMOUNT; the currency with `cointally currency`")),
    }
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    if let Some(key) = args.key.as_deref() {
        if key == losses::LOSSES_SETTING {
            return losses(context, &mut ledger, args.value.as_deref(), args.amount.as_deref());
        }
        if let Some(year) = key.strip_prefix(&format!("{}.", losses::LOSSES_SETTING)) {
            if args.amount.is_some() {
                return Err(Failure::input("one amount only")
                    .hint(format!("cointally settings {} {year} AMOUNT", losses::LOSSES_SETTING))
                    .into());
            }
            return losses(context, &mut ledger, Some(year), args.value.as_deref());
        }
    }
    if let Some(extra) = &args.amount {
        return Err(Failure::input(format!("unexpected {extra:?}: a setting takes one value"))
            .hint("only `losses_brought_forward YEAR AMOUNT` takes two")
            .into());
    }
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
