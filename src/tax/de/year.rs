//! A German year's figures: the private sales of § 23 EStG against their Freigrenze, and the
//! income of § 22 Nr. 3 EStG against its own.
//!
//! - § 23 Abs. 3 Satz 5 EStG (<https://www.gesetze-im-internet.de/estg/__23.html>): the
//!   year's gains from private sales stay tax-free when the total gain of the calendar year
//!   was *less than* €1,000 (from 2024, Wachstumschancengesetz of 27 March 2024, BGBl. 2024 I
//!   Nr. 108) or €600 (2008 to 2023). It is a limit, not an allowance: a total of exactly the
//!   limit, or above it, is taxable in full. The total is the net of the year's gains and
//!   losses from private sales (§ 23 Abs. 3 Satz 7: losses only offset such gains; a net loss
//!   is carried back one year or forward under § 10d, which cointally does not track).
//! - Losses of earlier years (§ 23 Abs. 3 Satz 8 EStG "nach Maßgabe des § 10d"): the year's
//!   `losses_brought_forward` setting, the remaining loss the Finanzamt determined at the end
//!   of the previous year (§ 10d Abs. 4), reduces only a taxable private-sale gain: the
//!   Freigrenze is tested on the year's own gain **first**, and a gain under it stays tax-free
//!   without using up the loss (BFH, judgment of 11 January 2005, IX R 27/04, BStBl II 2005
//!   S. 433, for the carry-back, following BMF letter of 25 October 2004, BStBl I 2004 S. 1034,
//!   Tz. 52: losses reduce the gains "soweit diese in die Ermittlung der Summe der Einkünfte
//!   eingegangen sind oder eingehen würden"; the headnote seen at
//!   <https://deubner-steuern.de/produkte/kanzleitrainer/doc/beruecksichtigung-der-freigrenze-bei-minderung-der-einkuenfte-aus-privaten-veraeusserungsgeschaeften-547899>).
//!   § 10d Abs. 2 (<https://www.gesetze-im-internet.de/estg/__10d.html>): the carry-forward is
//!   unlimited up to €1 million and of the gain above it 60% (70% for 2024 to 2027,
//!   Wachstumschancengesetz; as summarised at
//!   <https://henske.de/de/aktuelles/2024/3/27/1335-erweiterter-verlustvortrag-bgbl/?page=2>);
//!   cointally applies that to the private-sale gain of one person (not €2 million of a joint
//!   assessment).
//! - § 22 Nr. 3 Satz 2 EStG (<https://www.gesetze-im-internet.de/estg/__22.html>): income from
//!   other services (staking and lending rewards, BMF letter of 10 May 2022) is not taxable
//!   when it was *less than* €256 in the year; at €256 or more it is taxable in full.
//!
//! The limits are per person and cover all of a person's private sales and other services,
//! not only crypto: cointally sees only the ledger, so the figures say what the ledger holds.

use rust_decimal::Decimal;

use super::DeDisposal;
use crate::ledger::IncomeRow;

/// The § 22 Nr. 3 Freigrenze: income less than this is not taxable.
pub const OTHER_SERVICES_LIMIT: i64 = 256;

/// The § 23 Abs. 3 Satz 5 Freigrenze of `year`, where cointally knows it (from 2008).
pub fn private_sales_limit(year: i32) -> Option<Decimal> {
    match year {
        2008..=2023 => Some(Decimal::from(600)),
        2024.. => Some(Decimal::from(1_000)),
        _ => None,
    }
}

/// What is taxable of a year's `total` under a Freigrenze of `limit`: nothing below it, all
/// of it at or above it (and nothing of a loss).
pub fn under_limit(total: Decimal, limit: Decimal) -> Decimal {
    if total < limit || total <= Decimal::ZERO { Decimal::ZERO } else { total }
}

/// The figures of a group of disposals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sales {
    /// Rows (one per lot fragment).
    pub rows: usize,
    /// Proceeds (after the costs of selling).
    pub proceeds: Decimal,
    /// Acquisition costs (with the costs of buying).
    pub cost: Decimal,
    /// Gains of the rows with a gain.
    pub gains: Decimal,
    /// Losses of the rows with a loss (a positive figure).
    pub losses: Decimal,
}

impl Sales {
    /// Gains less losses.
    pub fn net(&self) -> Decimal {
        self.gains - self.losses
    }

    fn add(&mut self, row: &DeDisposal) {
        let gain = row.gain();
        self.rows += 1;
        self.proceeds += row.row.proceeds;
        self.cost += row.row.cost_basis;
        if gain > Decimal::ZERO {
            self.gains += gain;
        } else {
            self.losses -= gain;
        }
    }
}

/// The year's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeFigures {
    /// Disposals within one year of acquisition: private sales (§ 23).
    pub private_sales: Sales,
    /// Disposals after more than one year: not taxable, listed.
    pub tax_free: Sales,
    /// The § 23 Freigrenze of the year, where known.
    pub private_sales_limit: Option<Decimal>,
    /// The taxable private-sale gain: zero below the limit, the whole net gain at or above it
    /// (`None` when the limit is unknown).
    pub taxable_private_sales: Option<Decimal>,
    /// A net loss from private sales (a positive figure; zero when there is none), to carry
    /// back or forward under § 10d.
    pub loss_to_carry: Decimal,
    /// Losses of earlier years brought forward (the year's `losses_brought_forward` setting).
    pub losses_brought_forward: Decimal,
    /// Of them, deducted from the taxable private-sale gain.
    pub losses_brought_forward_applied: Decimal,
    /// Of them, left for later years (verbleibender Verlustvortrag, the year's own
    /// [`DeFigures::loss_to_carry`] aside).
    pub losses_brought_forward_remaining: Decimal,
    /// The taxable private-sale gain less the losses brought forward applied (`None` when the
    /// limit is unknown).
    pub taxable_after_losses: Option<Decimal>,
    /// Income from other services (§ 22 Nr. 3): staking, lending and other rewards.
    pub other_services: Decimal,
    /// The taxable part of it: zero below €256, all of it from €256.
    pub taxable_other_services: Decimal,
}

/// Sums up a year's rows.
pub fn figures(year: i32, rows: &[DeDisposal], income: &[IncomeRow]) -> DeFigures {
    let (mut private_sales, mut tax_free) = (Sales::default(), Sales::default());
    for row in rows {
        if row.held_more_than_one_year { tax_free.add(row) } else { private_sales.add(row) }
    }
    let limit = private_sales_limit(year);
    let net = private_sales.net();
    let other_services: Decimal = income.iter().map(|i| i.value).sum();
    DeFigures {
        taxable_private_sales: limit.map(|l| under_limit(net, l)),
        losses_brought_forward: Decimal::ZERO,
        losses_brought_forward_applied: Decimal::ZERO,
        losses_brought_forward_remaining: Decimal::ZERO,
        taxable_after_losses: limit.map(|l| under_limit(net, l)),
        loss_to_carry: (-net).max(Decimal::ZERO),
        private_sales_limit: limit,
        taxable_other_services: under_limit(other_services, Decimal::from(OTHER_SERVICES_LIMIT)),
        other_services,
        private_sales,
        tax_free,
    }
}

/// The most of `brought_forward` that § 10d Abs. 2 lets a year's `gain` take: all of it up to
/// €1 million, and of the gain above that 60% (70% in 2024 to 2027).
pub fn deductible(year: i32, gain: Decimal, brought_forward: Decimal) -> Decimal {
    let base = Decimal::from(1_000_000);
    let share = if (2024..=2027).contains(&year) { Decimal::new(7, 1) } else { Decimal::new(6, 1) };
    let room = if gain <= base { gain } else { base + (gain - base) * share };
    brought_forward.min(room).max(Decimal::ZERO)
}

impl DeFigures {
    /// Applies `brought_forward` (the remaining § 23 loss of earlier years) to the taxable
    /// gain: after the Freigrenze test, within § 10d Abs. 2.
    pub fn with_losses_brought_forward(mut self, year: i32, brought_forward: Decimal) -> DeFigures {
        let taxable = self.taxable_private_sales.unwrap_or_default();
        let applied = deductible(year, taxable, brought_forward);
        self.losses_brought_forward = brought_forward;
        self.losses_brought_forward_applied = applied;
        self.losses_brought_forward_remaining = brought_forward - applied;
        self.taxable_after_losses = self.taxable_private_sales.map(|t| t - applied);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// § 23 Abs. 3 Satz 5 EStG: "weniger als 1 000 Euro" (600 until 2023) — €599.99 is free,
    /// €600.00 is taxable in full (2023); €999.99 free, €1,000.00 taxable (2024).
    #[test]
    fn the_freigrenze_is_a_limit_and_at_the_limit_all_is_taxable() {
        assert_eq!(private_sales_limit(2023), Some(d("600")));
        assert_eq!(private_sales_limit(2024), Some(d("1000")));
        assert_eq!(private_sales_limit(2007), None);
        assert_eq!(under_limit(d("599.99"), d("600")), Decimal::ZERO);
        assert_eq!(under_limit(d("600.00"), d("600")), d("600.00"));
        assert_eq!(under_limit(d("999.99"), d("1000")), Decimal::ZERO);
        assert_eq!(under_limit(d("1000.00"), d("1000")), d("1000.00"));
        assert_eq!(under_limit(d("1500"), d("1000")), d("1500"));
        assert_eq!(under_limit(d("-400"), d("1000")), Decimal::ZERO);
        assert_eq!(under_limit(d("255.99"), Decimal::from(OTHER_SERVICES_LIMIT)), Decimal::ZERO);
        assert_eq!(under_limit(d("256"), Decimal::from(OTHER_SERVICES_LIMIT)), d("256"));
    }

    /// The year's figures with a net private-sale gain of `net` in 2024 (Freigrenze €1,000).
    fn with_gain(net: &str, brought_forward: &str) -> DeFigures {
        let mut f = figures(2024, &[], &[]);
        f.taxable_private_sales = Some(under_limit(d(net), d("1000")));
        f.with_losses_brought_forward(2024, d(brought_forward))
    }

    /// Hand figures: a €999.99 gain is under the Freigrenze, tax-free, and leaves a €5,000
    /// loss brought forward untouched (BFH IX R 27/04: the Freigrenze first); a €5,387.50 gain
    /// takes €2,000 in full (€3,387.50 taxable) and takes €5,387.50 of €10,000 (€4,612.50
    /// remaining, nothing taxable).
    #[test]
    fn losses_brought_forward_reduce_only_a_gain_at_or_above_the_freigrenze() {
        let f = with_gain("999.99", "5000");
        assert_eq!((f.taxable_private_sales, f.taxable_after_losses), (Some(d("0")), Some(d("0"))));
        assert_eq!((f.losses_brought_forward_applied, f.losses_brought_forward_remaining), (d("0"), d("5000")));
        let f = with_gain("5387.50", "2000");
        assert_eq!((f.taxable_private_sales, f.taxable_after_losses), (Some(d("5387.50")), Some(d("3387.50"))));
        assert_eq!((f.losses_brought_forward_applied, f.losses_brought_forward_remaining), (d("2000"), d("0")));
        let f = with_gain("5387.50", "10000");
        assert_eq!(f.taxable_after_losses, Some(d("0")));
        assert_eq!(
            (f.losses_brought_forward_applied, f.losses_brought_forward_remaining),
            (d("5387.50"), d("4612.50"))
        );
    }

    /// § 10d Abs. 2: of a €1,500,000 gain, €1,000,000 + 70% × €500,000 = €1,350,000 can take
    /// losses in 2024-2027, €1,000,000 + 60% × €500,000 = €1,300,000 in 2023 and from 2028.
    #[test]
    fn the_carry_forward_above_one_million_is_limited() {
        assert_eq!(deductible(2024, d("1500000"), d("2000000")), d("1350000"));
        assert_eq!(deductible(2027, d("1500000"), d("2000000")), d("1350000"));
        assert_eq!(deductible(2023, d("1500000"), d("2000000")), d("1300000"));
        assert_eq!(deductible(2028, d("1500000"), d("2000000")), d("1300000"));
        assert_eq!(deductible(2024, d("800000"), d("2000000")), d("800000"));
        assert_eq!(deductible(2024, d("1500000"), d("100")), d("100"));
    }

    /// The administration's example as a tax adviser's newsletter gives it (secondary source:
    /// <https://henrich-stb.de/erv/is-stb/2005/05/DW20050505.htm>, on BMF 25 October 2004 and
    /// BFH IX R 27/04): "Im Jahr 2003 erzielte ein Steuerpflichtiger Gewinne aus privaten
    /// Veräußerungsgeschäften von 2.000 Euro" and limits the loss set against them to 1,490
    /// Euro; "Nach Verlustrücktrag ergeben sich für den Veranlagungszeitraum 2003 Einkünfte in
    /// Höhe von 510 Euro. Dieser Betrag ist obwohl die Freigrenze [512 Euro] unterschritten ist
    /// steuerpflichtig". The loss there is carried back; the rule (the Freigrenze before the
    /// loss) is the same for one carried forward (BMF, Tz. 52). 2003 is before the years whose
    /// limit cointally knows, so the figures are given the 2003 limit by hand.
    #[test]
    fn the_freigrenze_is_tested_before_the_loss_so_510_euro_stay_taxable() {
        let mut f = figures(2003, &[], &[]);
        f.taxable_private_sales = Some(under_limit(d("2000"), d("512")));
        let f = f.with_losses_brought_forward(2003, d("1490"));
        assert_eq!(f.losses_brought_forward_applied, d("1490"));
        assert_eq!(f.taxable_after_losses, Some(d("510")), "taxable although under €512");
    }
}
