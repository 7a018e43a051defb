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
//!   the rebate; practitioners apply the same rule to crypto card rewards. The price paid is
//!   the basis of what was bought, so the rebate's units come in with basis **zero**: the
//!   basis of everything held still adds up to what was paid (the reduction is carried by
//!   the rebate's units instead of the lot it relates to, which cointally's events do not
//!   name), and the value is taxed as a gain when those units are disposed of — never less
//!   tax than reducing the related lot's basis, the same total. A rebate with no related
//!   purchase (a referral or sign-up reward) is income under either setting: reclassify such
//!   events as `income` (`cointally reclassify EVENT income`).

use crate::ledger::{Ledger, LedgerError};

/// The settings key.
pub const REBATES_SETTING: &str = "rebates";

/// The treatment of `rebate` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rebates {
    /// Income at value; the units' basis is that value (the default).
    #[default]
    Income,
    /// A reduction of a purchase price: no income; the units' basis is zero.
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
