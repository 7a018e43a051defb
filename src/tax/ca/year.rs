//! A Canadian year's figures: the Schedule 3 crypto-asset figures, the superficial losses
//! denied, the inclusion rate and the taxable capital gain (or allowable capital loss).
//!
//! Inclusion rate (Income Tax Act s38; CRA line 12700,
//! <https://www.canada.ca/en/revenue-agency/services/tax/individuals/topics/about-your-tax-return/tax-return/completing-a-tax-return/personal-income/line-12700-capital-gains.html>):
//! one half of a capital gain is a taxable capital gain and one half of a capital loss an
//! allowable capital loss, for every year cointally computes (2009 on). The proposed increase
//! to two thirds for gains realized from 25 June 2024 (Budget 2024), whose start was deferred
//! to 1 January 2026, was cancelled on 21 March 2025 and never became law (the Prime
//! Minister's announcement of that day; the official page was not reachable here, the date
//! and content are as reported the same day, e.g. <https://betakit.com/liberals-capital-gains-tax-hike-is-dead-lifetime-exemption-limit-increase-to-stay/>),
//! so no year is split. An allowable capital loss above the year's taxable capital gains is
//! not deducted from other income: it is a net capital loss to carry back three years or
//! forward indefinitely (CRA line 25300).
//!
//! Schedule 3 (form 5000-S3), section "Bonds, debentures, promissory notes, crypto-assets,
//! and other similar properties"
//! (<https://www.canada.ca/en/revenue-agency/services/tax/individuals/topics/about-your-tax-return/tax-return/completing-a-tax-return/personal-income/line-12700-capital-gains/completing-schedule-3/bonds-debentures-promissory-notes-other-similar-properties.html>):
//! proceeds of disposition on line 15199, gain (or loss) on line 15300; the taxable capital
//! gain goes to line 12700 of the return. A denied superficial loss is not a loss: its
//! disposition's gain column shows only the allowed part (the ACB column is reduced by the
//! denied amount, which moves into the ACB of the units still held).

use rust_decimal::Decimal;

use super::CaDisposal;
use super::Treatment;
use super::acb::RowKind;

/// The inclusion rate of capital gains and losses: one half.
pub fn inclusion_rate() -> Decimal {
    Decimal::new(5, 1)
}

/// Schedule 3 line of the crypto-assets section's proceeds of disposition.
pub const LINE_PROCEEDS: &str = "15199";
/// Schedule 3 line of the crypto-assets section's gain (or loss).
pub const LINE_GAIN: &str = "15300";
/// Line of the return (T1) that takes the taxable capital gain.
pub const LINE_TAXABLE: &str = "12700";

/// The year's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearFigures {
    /// Dispositions (spouse rollovers aside).
    pub dispositions: usize,
    /// Proceeds of disposition.
    pub proceeds: Decimal,
    /// ACB of the units disposed of (before any denied loss).
    pub acb: Decimal,
    /// Outlays and expenses.
    pub outlays: Decimal,
    /// Gains of the dispositions with a gain.
    pub gains: Decimal,
    /// Allowed losses of the dispositions with a loss (a positive figure).
    pub losses: Decimal,
    /// Superficial losses denied (a positive figure), moved into ACBs.
    pub denied: Decimal,
    /// Dispositions with a loss denied in whole or in part.
    pub denials: usize,
}

impl YearFigures {
    /// Net gain (or loss): gains less allowed losses = proceeds − ACB − outlays + denied.
    pub fn net(&self) -> Decimal {
        self.gains - self.losses
    }

    /// The ACB column of Schedule 3: the ACB less the denied losses (so that proceeds − ACB −
    /// outlays is the gain column).
    pub fn schedule3_acb(&self) -> Decimal {
        self.acb - self.denied
    }

    /// The taxable capital gain (net gain × inclusion rate; zero for a net loss).
    pub fn taxable_capital_gain(&self) -> Decimal {
        (self.net().max(Decimal::ZERO) * inclusion_rate()).max(Decimal::ZERO)
    }

    /// The allowable capital loss (net loss × inclusion rate, a positive figure; zero for a gain).
    pub fn allowable_capital_loss(&self) -> Decimal {
        (-self.net()).max(Decimal::ZERO) * inclusion_rate()
    }

    /// Line 25300: of `available` net capital losses of other years, what the report applies:
    /// up to the year's taxable capital gain (line 12700), nothing under business treatment.
    /// The CRA lets a person claim less (<https://www.canada.ca/en/revenue-agency/services/tax/individuals/topics/about-your-tax-return/tax-return/completing-a-tax-return/deductions-credits-expenses/line-25300-net-capital-losses-other-years.html>:
    /// "You can use a net capital loss from a previous year to reduce a taxable capital gain");
    /// cointally shows the most that can be applied.
    pub fn net_capital_losses_applied(&self, treatment: Treatment, available: Decimal) -> Decimal {
        match treatment {
            Treatment::Capital => available.min(self.taxable_capital_gain()).max(Decimal::ZERO),
            Treatment::Business => Decimal::ZERO,
        }
    }

    /// Business income from dispositions under [`Treatment::Business`]: the whole net gain
    /// (zero under capital treatment).
    pub fn business_income(&self, treatment: Treatment) -> Decimal {
        match treatment {
            Treatment::Capital => Decimal::ZERO,
            Treatment::Business => self.net(),
        }
    }
}

/// Sums up the year's rows (those of the year only).
pub fn figures(rows: &[CaDisposal]) -> YearFigures {
    let mut out = YearFigures::default();
    for row in rows.iter().map(|r| &r.row).filter(|r| r.kind == RowKind::Disposition) {
        out.dispositions += 1;
        out.proceeds += row.proceeds;
        out.acb += row.acb;
        out.outlays += row.outlays;
        out.denied += row.denied();
        out.denials += usize::from(row.denial.is_some());
        let gain = row.gain();
        if gain > Decimal::ZERO {
            out.gains += gain;
        } else {
            out.losses -= gain;
        }
    }
    out
}
