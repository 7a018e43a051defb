//! How exchange rebates and card cashback (`rebate` events) are taxed: the ledger's `rebates`
//! setting, `income` (the default) or `basis`.
//!
//! - `income`: a rebate is ordinary income at its value when received, and its units are a lot
//!   with that basis (what cointally always did; the cautious reading for referral kickbacks,
//!   sign-up bonuses and anything not tied to a purchase).
//! - `basis`: a rebate is a reduction of the price of a purchase, not income. The IRS: "a
//!   rebate received by a buyer from the party to whom the buyer directly or indirectly paid
//!   the purchase price for an item is an adjustment in purchase price, not an accession to
//!   wealth, and is not includible in the buyer's gross income" (Rev. Rul. 76-96, as modified
//!   by Rev. Rul. 2005-28, quoted in PLR 201005004,
//!   <https://www.irs.gov/pub/irs-wd/1005004.pdf>). There is no IRS guidance on crypto paid as
//!   the rebate; practitioners apply the same rule to crypto card rewards.
//!   - A rebate **tied to its purchase** (`cointally rebates link REBATE PURCHASE`): its value
//!     comes off the basis of the units that purchase bought and still held (in proportion to
//!     their basis, never below zero; units already disposed of keep the basis they were sold
//!     with), and the rebate's own units carry what came off, so the basis of everything held
//!     adds up to what was paid. A cash rebate lowers the purchase's basis and makes no lot.
//!   - A rebate **not tied** (the events do not name the purchase, or the purchase is outside
//!     the ledger, as card cashback on goods is): its units come in with basis **zero**, the
//!     reduction carried by them instead of the lot it relates to, and the value is taxed as
//!     a gain when they are disposed of — never less tax than reducing the related lot's
//!     basis, the same total.
//!
//!   A rebate with no related purchase at all (a referral or sign-up reward) is income under
//!   either setting: reclassify such events as `income` (`cointally reclassify EVENT income`).

use crate::ledger::{Ledger, LedgerError};

/// The settings key.
pub const REBATES_SETTING: &str = "rebates";

/// The treatment of `rebate` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rebates {
    /// Income at value; the units' basis is that value (the default).
    #[default]
    Income,
    /// A reduction of a purchase price: no income; off the tied purchase's basis, else the
    /// units' basis is zero.
    Basis,
}

/// A value of the `rebates` setting that is neither `income` nor `basis`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a rebate treatment: give income or basis")]
pub struct UnknownRebates(pub String);

impl std::str::FromStr for Rebates {
    type Err = UnknownRebates;

    fn from_str(text: &str) -> Result<Rebates, UnknownRebates> {
        match text.trim().to_ascii_lowercase().as_str() {
            "income" => Ok(Rebates::Income),
            "basis" => Ok(Rebates::Basis),
            _ => Err(UnknownRebates(text.to_owned())),
        }
    }
}

impl Rebates {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Rebates::Income => "income",
            Rebates::Basis => "basis",
        }
    }

    /// The ledger's treatment: its `rebates` setting, `income` when unset.
    pub fn of_ledger(ledger: &Ledger) -> Result<Rebates, LedgerError> {
        match ledger.setting(REBATES_SETTING)? {
            None => Ok(Rebates::Income),
            Some(text) => {
                text.parse().map_err(|e: UnknownRebates| LedgerError::Corrupt(format!("setting rebates: {e}")))
            }
        }
    }
}
