//! The normalised event vocabulary: what every adapter and every file format emits.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What kind of balance-changing happening an event is.
///
/// The snake_case names are a contract: they appear in `events --json`, in the ledger and
/// in the generic CSV format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// One asset given for another (crypto or fiat on either side).
    Trade,
    /// Crypto arriving from outside the account (own wallet, other exchange, other person).
    Deposit,
    /// Crypto leaving the account.
    Withdrawal,
    /// Fiat money arriving from a bank or card.
    FiatDeposit,
    /// Fiat money leaving to a bank.
    FiatWithdrawal,
    /// Staking reward.
    Staking,
    /// Interest from lending or savings products.
    Interest,
    /// Airdrop or distribution.
    Airdrop,
    /// Mining reward.
    Mining,
    /// Fee rebate, cashback, referral kickback.
    Rebate,
    /// Any other income (salary, payments received, learning rewards).
    Income,
    /// Coins received from a chain fork.
    Fork,
    /// Conversion inside the exchange that is not a market trade (dust to BNB, rebrands).
    Conversion,
    /// A tax-free exchange of one token for another that the user says is not a disposal (a
    /// token migration, a rebase, a rename): the received units carry the given units' basis
    /// and acquisition dates (Koinly's `swap` tag, `cointally reclassify EVENT swap`).
    Swap,
    /// A fee standing alone, not part of another event.
    Fee,
    /// Crypto spent on goods or services.
    Spend,
    /// Crypto given away as a gift or donation.
    Gift,
    /// Crypto given to the owner's spouse or civil partner (UK: no gain, no loss); only ever
    /// the user's word (`cointally reclassify EVENT gift_spouse`).
    GiftSpouse,
    /// Crypto lost or stolen.
    Lost,
    /// A move between the exchange's own sub-accounts (spot ↔ staking); changes nothing taxable.
    InternalTransfer,
    /// A correction the exchange made to a balance.
    Adjustment,
    /// A record of a type cointally does not know (yet): its legs count in balances, but it
    /// makes no gain, loss or income until the user says what it is (`cointally reclassify`);
    /// `check` lists it as `unknown_kind`. The exchange's own type is in the event's note.
    Unknown,
}

impl EventKind {
    /// Every kind, in a stable order (for help texts and validation messages).
    pub const ALL: [EventKind; 22] = [
        EventKind::Trade,
        EventKind::Deposit,
        EventKind::Withdrawal,
        EventKind::FiatDeposit,
        EventKind::FiatWithdrawal,
        EventKind::Staking,
        EventKind::Interest,
        EventKind::Airdrop,
        EventKind::Mining,
        EventKind::Rebate,
        EventKind::Income,
        EventKind::Fork,
        EventKind::Conversion,
        EventKind::Swap,
        EventKind::Fee,
        EventKind::Spend,
        EventKind::Gift,
        EventKind::GiftSpouse,
        EventKind::Lost,
        EventKind::InternalTransfer,
        EventKind::Adjustment,
        EventKind::Unknown,
    ];

    /// The name used in files, the ledger and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Trade => "trade",
            EventKind::Deposit => "deposit",
            EventKind::Withdrawal => "withdrawal",
            EventKind::FiatDeposit => "fiat_deposit",
            EventKind::FiatWithdrawal => "fiat_withdrawal",
            EventKind::Staking => "staking",
            EventKind::Interest => "interest",
            EventKind::Airdrop => "airdrop",
            EventKind::Mining => "mining",
            EventKind::Rebate => "rebate",
            EventKind::Income => "income",
            EventKind::Fork => "fork",
            EventKind::Conversion => "conversion",
            EventKind::Swap => "swap",
            EventKind::Fee => "fee",
            EventKind::Spend => "spend",
            EventKind::Gift => "gift",
            EventKind::GiftSpouse => "gift_spouse",
            EventKind::Lost => "lost",
            EventKind::InternalTransfer => "internal_transfer",
            EventKind::Adjustment => "adjustment",
            EventKind::Unknown => "unknown",
        }
    }

    /// Whether the event is income received at fair market value.
    pub fn is_income(self) -> bool {
        matches!(
            self,
            EventKind::Staking
                | EventKind::Interest
                | EventKind::Airdrop
                | EventKind::Mining
                | EventKind::Rebate
                | EventKind::Income
                | EventKind::Fork
        )
    }

    /// The list of names, comma-separated, for error messages.
    pub fn names() -> String {
        EventKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of an event kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?} (expected one of: {names})", names = EventKind::names())]
pub struct UnknownKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The ledger's own names (every stored event's) are found without copying the text.
        if let Some(kind) = EventKind::ALL.into_iter().find(|k| k.as_str() == s) {
            return Ok(kind);
        }
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        EventKind::ALL.into_iter().find(|k| k.as_str() == wanted).ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// Which side of an event a leg is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegRole {
    /// What left the account (negative amount).
    Sent,
    /// What arrived in the account (positive amount).
    Received,
    /// A fee paid (negative amount).
    Fee,
}

impl LegRole {
    /// The name used in the ledger and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LegRole::Sent => "sent",
            LegRole::Received => "received",
            LegRole::Fee => "fee",
        }
    }

    /// Parses the ledger name back.
    pub fn from_name(s: &str) -> Option<LegRole> {
        match s {
            "sent" => Some(LegRole::Sent),
            "received" => Some(LegRole::Received),
            "fee" => Some(LegRole::Fee),
            _ => None,
        }
    }
}

/// One signed movement of one asset: the sum of legs per account and asset is the balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leg {
    /// Canonical asset symbol, upper case (`BTC`, `USD`).
    pub asset: String,
    /// Signed amount: negative for what left, positive for what arrived.
    pub amount: Decimal,
    /// Which side of the event this leg is on.
    pub role: LegRole,
}

impl Leg {
    /// What arrived: a positive amount of `asset`.
    pub fn received(asset: impl Into<String>, amount: Decimal) -> Leg {
        Leg { asset: asset.into(), amount: amount.abs(), role: LegRole::Received }
    }

    /// What left: stored as a negative amount of `asset`.
    pub fn sent(asset: impl Into<String>, amount: Decimal) -> Leg {
        Leg { asset: asset.into(), amount: -amount.abs(), role: LegRole::Sent }
    }

    /// A fee paid: stored as a negative amount of `asset`.
    pub fn fee(asset: impl Into<String>, amount: Decimal) -> Leg {
        Leg { asset: asset.into(), amount: -amount.abs(), role: LegRole::Fee }
    }
}

/// An event as a source emits it, before the ledger gives it an id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The source's stable id for this happening; unique per account. Re-importing the same
    /// happening from a file or the API gives the same id, which is how nothing is doubled.
    pub external_id: String,
    /// When it happened, UTC (millisecond precision).
    pub time: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// The signed amounts it moved. Zero-amount legs are dropped by the ledger.
    pub legs: Vec<Leg>,
    /// On-chain transaction hash, where known.
    pub tx_hash: Option<String>,
    /// Address sent to or received from, where known.
    pub address: Option<String>,
    /// Network (chain) of a deposit or withdrawal, where known.
    pub network: Option<String>,
    /// Free text from the source (description, remark).
    pub note: Option<String>,
    /// The value the source itself gives for the event in fiat, with its currency.
    pub fiat_value: Option<FiatValue>,
}

/// A fiat value a source reports for an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiatValue {
    /// The amount, positive.
    pub amount: Decimal,
    /// The fiat currency (`USD`).
    pub currency: String,
}

/// The external-id prefix of a details record: a record that is not an event of its own but
/// adds its tx hash, address and network to the event another stream of the same account
/// already made for the same movement (see [`NewEvent::details`]).
pub const DETAILS_PREFIX: &str = "details:";

impl NewEvent {
    /// An event with no optional details; set them with struct update syntax.
    pub fn new(external_id: impl Into<String>, time: DateTime<Utc>, kind: EventKind, legs: Vec<Leg>) -> NewEvent {
        NewEvent {
            external_id: external_id.into(),
            time,
            kind,
            legs,
            tx_hash: None,
            address: None,
            network: None,
            note: None,
            fiat_value: None,
        }
    }

    /// A details record: a deposit's or withdrawal's tx hash, address and network from a history
    /// that repeats a movement another stream (the exchange's ledger) already records as an
    /// event. The ledger attaches them to the account's event of the same `kind`, the same asset
    /// and the same absolute amount in its one non-fee leg, closest in time (within three days),
    /// and makes no event of it: nothing is counted twice. `id` is the history's own id.
    pub fn details(id: impl std::fmt::Display, time: DateTime<Utc>, kind: EventKind, leg: Leg) -> NewEvent {
        NewEvent::new(format!("{DETAILS_PREFIX}{id}"), time, kind, vec![leg])
    }

    /// Whether this is a [details record](NewEvent::details), not an event.
    pub fn is_details(&self) -> bool {
        self.external_id.starts_with(DETAILS_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>().unwrap(), kind);
        }
        assert_eq!("Fiat Deposit".parse::<EventKind>().unwrap(), EventKind::FiatDeposit);
        assert!("teleport".parse::<EventKind>().is_err());
    }

    #[test]
    fn legs_carry_their_sign() {
        let one = Decimal::ONE;
        assert_eq!(Leg::sent("BTC", one).amount, -one);
        assert_eq!(Leg::sent("BTC", -one).amount, -one);
        assert_eq!(Leg::fee("BNB", one).amount, -one);
        assert_eq!(Leg::received("ETH", -one).amount, one);
    }
}
