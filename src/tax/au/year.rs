//! The year's net capital gain, in the ATO's order: current-year capital losses, then net
//! capital losses of earlier years, each first against the gains that get no discount, then
//! the 50% CGT discount on the discount gains left.
//!
//! The ATO's steps (Guide to capital gains tax, "Working out your net capital gain", steps 5
//! to 10, <https://www.ato.gov.au/Forms/Guide-to-capital-gains-tax-2021/?page=100>, and
//! step 3, <https://www.ato.gov.au/Individuals/Tax-return/2019/In-detail/Publications/Guide-to-capital-gains-tax-2019/?page=97>):
//! losses are deducted "in the order that gives the best result" — against gains that cannot
//! be discounted first — and "do not apply the discount percentage until you have applied
//! current year capital losses and unapplied net capital losses from earlier years". What is
//! left is the net capital gain (label 18A); the total of the year's gains before losses and
//! discount is label 18H; losses not used are carried forward without a time limit (label
//! 18V, "Net capital losses carried forward to later income years").
//!
//! Who gets the discount (individuals and trusts 50%; not companies, and not foreign or
//! temporary residents on gains after 8 May 2012): cointally computes for an Australian
//! resident individual (ITAA 1997 s115-100,
//! <http://classic.austlii.edu.au/au/legis/cth/consol_act/itaa1997240/s115.100.html>).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::tax::holding::anniversary;

/// Whether a parcel acquired on `acquired` and disposed of on `disposed` (local dates) was
/// acquired at least 12 months before the CGT event, "excluding the day of acquisition and the
/// day of the CGT event" (ITAA 1997 s115-25,
/// <http://classic.austlii.edu.au/au/legis/cth/consol_act/itaa1997240/s115.25.html>; ATO:
/// acquired 2 February, the discount applies to a CGT event on or after 3 February a year
/// later). The 12 months end on the acquisition's anniversary (a month's last day maps to the
/// month's last day), so the first discount day is the day after it.
pub fn held_twelve_months(acquired: NaiveDate, disposed: NaiveDate) -> bool {
    disposed > anniversary(acquired)
}

/// The year's capital gains, losses and discount, as the tax return's labels take them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetCapitalGain {
    /// Gains on parcels held at least 12 months (before losses and discount).
    pub discount_gains: Decimal,
    /// Gains on parcels held less (no discount).
    pub other_gains: Decimal,
    /// The year's capital losses (a positive figure).
    pub losses: Decimal,
    /// Of them, deducted from the year's gains.
    pub losses_applied: Decimal,
    /// Net capital losses of earlier years, brought forward (positive).
    pub losses_brought_forward: Decimal,
    /// Of them, deducted from the year's gains.
    pub brought_forward_applied: Decimal,
    /// The 50% CGT discount on the discount gains left after losses.
    pub discount: Decimal,
    /// Label 18A: what is left.
    pub net_capital_gain: Decimal,
    /// Label 18V: losses not used, carried to later years.
    pub carried_forward: Decimal,
}

/// Deducts `loss` from `other` first, then from `discountable`; returns what it deducted and
/// what is left of it. The part left is computed as a difference, never as `loss` less the
/// part deducted: with gains of 28 significant digits that sum could round one unit past
/// `loss` and leave a carry-forward of -1e-24.
fn deduct(loss: Decimal, other: &mut Decimal, discountable: &mut Decimal) -> (Decimal, Decimal) {
    let from_other = loss.min(*other);
    *other -= from_other;
    let rest = loss - from_other;
    let from_discountable = rest.min(*discountable);
    *discountable -= from_discountable;
    let unused = rest - from_discountable;
    (loss - unused, unused)
}

impl NetCapitalGain {
    /// Runs the ATO's steps over the year's gross figures (all non-negative).
    pub fn compute(
        other_gains: Decimal,
        discount_gains: Decimal,
        losses: Decimal,
        losses_brought_forward: Decimal,
    ) -> NetCapitalGain {
        let (mut other, mut discountable) = (other_gains, discount_gains);
        let (losses_applied, losses_unused) = deduct(losses, &mut other, &mut discountable);
        let (brought_forward_applied, brought_forward_unused) =
            deduct(losses_brought_forward, &mut other, &mut discountable);
        let discount = discountable / Decimal::TWO;
        NetCapitalGain {
            discount_gains,
            other_gains,
            losses,
            losses_applied,
            losses_brought_forward,
            brought_forward_applied,
            discount,
            net_capital_gain: other + discountable - discount,
            carried_forward: losses_unused + brought_forward_unused,
        }
    }

    /// Label 18H: total current year capital gains (before losses and discount).
    pub fn total_gains(&self) -> Decimal {
        self.other_gains + self.discount_gains
    }
}

/// Sums one year's parcel outcomes (`gain` signed, `discountable` when held 12 months) into
/// gross figures: (other gains, discount gains, losses).
pub fn gross<I: IntoIterator<Item = (Decimal, bool)>>(outcomes: I) -> (Decimal, Decimal, Decimal) {
    let (mut other, mut discounted, mut losses) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (gain, discountable) in outcomes {
        if gain.is_sign_negative() {
            losses -= gain;
        } else if discountable {
            discounted += gain;
        } else {
            other += gain;
        }
    }
    (other, discounted, losses)
}
