//! What each kind of event is under HMRC's rules: the acquisitions, disposals and income it
//! makes, per token, for the matching rules.
//!
//! - `trade`, `conversion`, `spend`: the tokens given are disposed of; the proceeds are the
//!   market value of what was received (of what was given, when nothing was received). The
//!   tokens received are acquired for the market value of what was given (CRYPTO22257,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22257>; the two values
//!   are kept apart where they differ).
//! - Fees are allowable costs (CRYPTO22150,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22150>): of the
//!   acquisition when buying with money, of the disposal when selling for money; on a
//!   token-for-token trade the fee is attributable to both, and cointally gives half to each
//!   (HMRC leaves the split open). A fee paid in tokens is besides a disposal of those tokens
//!   at market value (CRYPTO22280,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22280>).
//! - Income kinds (`staking`, `mining`, `airdrop`, `interest`, `rebate`, `income`, `fork`):
//!   income at the sterling value on receipt, and an acquisition at that value (CRYPTO21200,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto21200>).
//! - An own transfer (a withdrawal matched to its deposit) is not a disposal (CRYPTO22100,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22100>): the pool is
//!   the person's, across wallets. Units lost on the way and a network fee paid in the token
//!   are a disposal of those units at market value (the fee is consideration for a service,
//!   CRYPTO22280), with no allowable cost besides their pooled cost (no disposal is being made
//!   that they could be a cost of) — cointally's choice where HMRC says nothing more.
//! - `gift`: a disposal at market value (TCGA 1992 s17,
//!   <https://www.legislation.gov.uk/ukpga/1992/12/section/17>). `gift_spouse`: no gain, no
//!   loss (TCGA 1992 s58, <https://www.legislation.gov.uk/ukpga/1992/12/section/58>): the
//!   units leave the pool at its average cost, which is also their proceeds.
//! - `lost` (lost keys, theft): not a disposal (CRYPTO22400,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22400>): the units
//!   stay in the pool, still owned. A negligible value claim (TCGA 1992 s24(2), CRYPTO22500)
//!   is the route to the loss, made by the person on the return when recovery is hopeless;
//!   the report lists the lost units so it can be made.
//! - An unmatched `withdrawal` (to a wallet not in the ledger, or to someone else: `check`
//!   lists it) takes its units out of the pool at average cost, with no gain or loss, as the
//!   US rules do; `reclassify` says what it was.
//! - An unmatched `deposit`: an acquisition at the cost the user gave, or a zero cost flagged
//!   missing. `adjustment`, `fiat_*` and `unknown` with token legs: arrivals at a missing cost,
//!   departures taken out of the pool like an unmatched withdrawal.
//! - `internal_transfer`: nothing moves but its fees.

use std::collections::BTreeMap;

use cointally_exchanges::asset::is_fiat;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;

use super::day::{day_number, uk_date};
use super::matching::Op;
use crate::ledger::{IncomeRow, TaxEvent, TaxLeg};
use crate::tax::engine::{TransferPlan, proportion, share};
use crate::tax::zone::Zone;

/// Units of a token lost or stolen: still in the pool, listed for a negligible value claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostRow {
    /// The event.
    pub event_id: i64,
    /// UK day.
    pub day: i64,
    /// Token.
    pub asset: String,
    /// Units.
    pub units: Decimal,
}

/// The events turned into each token's operations, and the income.
#[derive(Debug, Clone, Default)]
pub struct Sorted {
    /// Token → its operations in time order.
    pub ops: BTreeMap<String, Vec<Op>>,
    /// Income received (all of history; the year is chosen later).
    pub income: Vec<IncomeRow>,
    /// Lost or stolen units.
    pub lost: Vec<LostRow>,
}

/// Which calendar numbers a sorter's days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// UK calendar days ([`uk_date`]).
    Uk,
    /// The local dates of a time zone (Canada: the ledger's `timezone`, UTC unless set).
    Local(Zone),
}

impl Days {
    /// The day number of an instant (UTC ms) on this calendar.
    pub fn of(self, ms: i64) -> i64 {
        match self {
            Days::Uk => day_number(uk_date(ms)),
            Days::Local(zone) => day_number(zone.date(ms)),
        }
    }
}

/// Turns events (in time order) into operations (read at each year's end of a pass over
/// several years: [`crate::tax::pooled_years`]).
pub struct Sorter {
    days: Days,
    outgoing: BTreeMap<i64, TransferPlan>,
    incoming: BTreeMap<i64, Decimal>,
    out: Sorted,
}

fn value(leg: &TaxLeg) -> Decimal {
    leg.value.unwrap_or_default()
}

fn crypto(leg: &&TaxLeg) -> bool {
    !is_fiat(&leg.asset)
}

impl Sorter {
    /// A sorter knowing the own transfers, numbering days as UK calendar days.
    pub fn new(transfers: &[TransferPlan]) -> Sorter {
        Sorter::with_days(transfers, Days::Uk)
    }

    /// A sorter whose ops carry the day numbers of `days`: another country reads the same
    /// events with its own calendar day (Canada: the local date in the ledger's zone).
    pub fn with_days(transfers: &[TransferPlan], days: Days) -> Sorter {
        Sorter {
            days,
            outgoing: transfers.iter().map(|t| (t.withdrawal, t.clone())).collect(),
            incoming: transfers.iter().map(|t| (t.deposit, t.received.min(t.sent))).collect(),
            out: Sorted::default(),
        }
    }

    /// What was sorted so far.
    pub fn sorted(&self) -> &Sorted {
        &self.out
    }

    fn push(&mut self, asset: &str, op: Op) {
        match self.out.ops.get_mut(asset) {
            Some(ops) => ops.push(op),
            None => {
                self.out.ops.insert(asset.to_owned(), vec![op]);
            }
        }
    }

    fn acquire(&mut self, day: i64, asset: &str, units: Decimal, cost: Decimal, basis_missing: bool) {
        if units > Decimal::ZERO {
            self.push(asset, Op::Acquire { day, units, cost, basis_missing });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn dispose(
        &mut self,
        day: i64,
        event: &TaxEvent,
        asset: &str,
        units: Decimal,
        proceeds: Decimal,
        costs: Decimal,
        price_missing: bool,
    ) {
        let units = units.abs();
        if units > Decimal::ZERO {
            self.push(asset, Op::Dispose { day, units, proceeds, costs, event_id: event.id, price_missing });
        }
    }

    fn leave(&mut self, day: i64, event: &TaxEvent, leg: &TaxLeg, no_gain_no_loss: bool) {
        let units = leg.amount.abs();
        if units > Decimal::ZERO {
            self.push(&leg.asset, Op::Leave { day, units, event_id: event.id, no_gain_no_loss });
        }
    }

    /// Every token fee leg: a disposal at its market value.
    fn fees(&mut self, day: i64, event: &TaxEvent) {
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Fee).filter(crypto) {
            self.dispose(day, event, &leg.asset, leg.amount, value(leg), Decimal::ZERO, leg.value.is_none());
        }
    }

    /// Applies one event (events in time order).
    pub fn process(&mut self, event: &TaxEvent) {
        let day = self.days.of(event.time_ms);
        match event.kind {
            // HMRC has no tax-free token swap: exchanging one token for another is a disposal
            // (CRYPTO22100), so a swap the user marked counts as a trade under UK rules.
            EventKind::Trade | EventKind::Conversion | EventKind::Swap | EventKind::Spend => self.trade(day, event),
            EventKind::Withdrawal if self.outgoing.contains_key(&event.id) => self.transfer_out(day, event),
            EventKind::Deposit if self.incoming.contains_key(&event.id) => {
                let moved = self.incoming.get(&event.id).copied().unwrap_or_default();
                for leg in event.legs.iter().filter(|l| l.role == LegRole::Received).filter(crypto) {
                    let extra = leg.amount - moved.min(leg.amount);
                    self.acquire(day, &leg.asset, extra, Decimal::ZERO, true);
                }
                self.fees(day, event);
            }
            EventKind::Deposit => {
                let arrived: Vec<&TaxLeg> =
                    event.legs.iter().filter(|l| l.role == LegRole::Received).filter(crypto).collect();
                let amounts: Vec<Decimal> = arrived.iter().map(|l| l.amount).collect();
                let given = event.basis.map(|b| share(b, &amounts));
                for (i, leg) in arrived.iter().enumerate() {
                    match &given {
                        Some(costs) => self.acquire(day, &leg.asset, leg.amount, costs[i], false),
                        None => self.acquire(day, &leg.asset, leg.amount, Decimal::ZERO, true),
                    }
                }
                self.fees(day, event);
            }
            kind if kind.is_income() => self.income(day, event),
            EventKind::Gift => {
                for leg in event.legs.iter().filter(|l| l.role == LegRole::Sent).filter(crypto) {
                    self.dispose(day, event, &leg.asset, leg.amount, value(leg), Decimal::ZERO, leg.value.is_none());
                }
                self.fees(day, event);
            }
            EventKind::GiftSpouse => {
                for leg in event.legs.iter().filter(|l| l.role == LegRole::Sent).filter(crypto) {
                    self.leave(day, event, leg, true);
                }
                self.fees(day, event);
            }
            EventKind::Lost => {
                for leg in event.legs.iter().filter(|l| l.role == LegRole::Sent).filter(crypto) {
                    self.out.lost.push(LostRow {
                        event_id: event.id,
                        day,
                        asset: leg.asset.clone(),
                        units: leg.amount.abs(),
                    });
                }
                self.fees(day, event);
            }
            EventKind::InternalTransfer => self.fees(day, event),
            EventKind::Fee => {
                for leg in event.legs.iter().filter(|l| l.amount.is_sign_negative()).filter(crypto) {
                    self.dispose(day, event, &leg.asset, leg.amount, value(leg), Decimal::ZERO, leg.value.is_none());
                }
            }
            _ => {
                for leg in event.legs.iter().filter(crypto) {
                    match leg.role {
                        LegRole::Received => self.acquire(day, &leg.asset, leg.amount, Decimal::ZERO, true),
                        LegRole::Sent => self.leave(day, event, leg, false),
                        LegRole::Fee => {}
                    }
                }
                self.fees(day, event);
            }
        }
    }

    fn trade(&mut self, day: i64, event: &TaxEvent) {
        let legs = |role: LegRole| event.legs.iter().filter(move |l| l.role == role);
        let sent: Vec<&TaxLeg> = legs(LegRole::Sent).collect();
        let received: Vec<&TaxLeg> = legs(LegRole::Received).collect();
        let fees: Decimal = legs(LegRole::Fee).map(value).sum();
        let missing = event.legs.iter().any(|l| l.value.is_none());
        let crypto_sent = sent.iter().any(crypto);
        let bought: Vec<&TaxLeg> = received.iter().copied().filter(crypto).collect();
        // The fee's share of each side: all of it to the side in tokens, half each when both are.
        let disposal_fees = match (crypto_sent, bought.is_empty()) {
            (true, false) => fees / Decimal::TWO,
            (true, true) => fees,
            (false, _) => Decimal::ZERO,
        };
        let acquisition_fees = fees - disposal_fees;
        let given: Decimal = sent.iter().map(|l| value(l)).sum();
        let got: Decimal = received.iter().map(|l| value(l)).sum();
        if crypto_sent {
            let consideration = if received.is_empty() { given } else { got };
            let weights: Vec<Decimal> = sent.iter().map(|l| value(l)).collect();
            let proceeds = share(consideration, &weights);
            let crypto_weights: Vec<Decimal> = sent.iter().filter(|l| crypto(l)).map(|l| value(l)).collect();
            let mut costs = share(disposal_fees, &crypto_weights).into_iter();
            for (leg, proceeds) in sent.iter().zip(proceeds) {
                if crypto(leg) {
                    let costs = costs.next().unwrap_or_default();
                    self.dispose(day, event, &leg.asset, leg.amount, proceeds, costs, missing);
                }
            }
        }
        if !bought.is_empty() {
            let weights: Vec<Decimal> = bought.iter().map(|l| value(l)).collect();
            let cost = if sent.is_empty() { weights.iter().sum::<Decimal>() } else { given } + acquisition_fees;
            for (leg, cost) in bought.iter().zip(share(cost, &weights)) {
                self.acquire(day, &leg.asset, leg.amount, cost, false);
            }
        }
        self.fees(day, event);
    }

    fn income(&mut self, day: i64, event: &TaxEvent) {
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Received) {
            self.out.income.push(IncomeRow {
                event_id: event.id,
                account_id: event.account_id,
                kind: event.kind,
                asset: leg.asset.clone(),
                amount: leg.amount,
                received_ms: event.time_ms,
                value: value(leg),
                price_missing: leg.value.is_none(),
            });
            if !is_fiat(&leg.asset) {
                self.acquire(day, &leg.asset, leg.amount, value(leg), false);
            }
        }
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Sent).filter(crypto) {
            self.leave(day, event, leg, false);
        }
        self.fees(day, event);
    }

    fn transfer_out(&mut self, day: i64, event: &TaxEvent) {
        let Some(plan) = self.outgoing.get(&event.id).cloned() else { return };
        let Some(main) = event.legs.iter().find(|l| l.role == LegRole::Sent && !is_fiat(&l.asset)) else {
            return self.fees(day, event);
        };
        let sent = main.amount.abs();
        let lost = sent - plan.received.min(sent);
        if lost > Decimal::ZERO {
            let worth = proportion(value(main), lost, sent);
            self.dispose(day, event, &main.asset, lost, worth, Decimal::ZERO, main.value.is_none());
        }
        self.fees(day, event);
    }
}
