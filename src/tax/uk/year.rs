//! A UK tax year's figures: the SA108 totals, the annual exempt amount and the gain after it,
//! the 2024/25 split at the rate change, and whether the year must be reported.
//!
//! Annual exempt amounts for individuals (TCGA 1992 s1K; HMRC's tax-free allowance page,
//! <https://www.gov.uk/capital-gains-tax/allowances>, and earlier years' rates and allowances):
//! £11,100 (2016/17), £11,300, £11,700, £12,000, £12,300 (2020/21 to 2022/23), £6,000
//! (2023/24), £3,000 (2024/25 and 2025/26). Main rates 10% / 20% until 29 October 2024,
//! 18% / 24% for disposals on or after 30 October 2024 (<https://www.gov.uk/capital-gains-tax/rates>).
//! Reporting (<https://www.gov.uk/capital-gains-tax/reporting-and-paying-capital-gains-tax>):
//! a return is needed when the gains are above the exempt amount, or when the proceeds of
//! all disposals are above £50,000 (from 2023/24; four times the exempt amount before).
//!
//! Figures are per disposal: all of a token's disposals on one day are one disposal (the
//! same-day rule), its gain the sum of its matched parts. No-gain/no-loss transfers to a
//! spouse are listed with the rows but are not in the SA108 figures.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::UkDisposal;
use super::matching::Rule;

/// 30 October 2024: the main rates rose from this day (tax year 2024/25).
pub fn rate_change_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 10, 30).unwrap_or(NaiveDate::MIN)
}

/// The annual exempt amount of an individual for tax year `year`/`year + 1`, where cointally
/// knows it.
pub fn annual_exempt_amount(year: i32) -> Option<Decimal> {
    let pounds = match year {
        2016 => 11_100,
        2017 => 11_300,
        2018 => 11_700,
        2019 => 12_000,
        2020..=2022 => 12_300,
        2023 => 6_000,
        2024 | 2025 => 3_000,
        _ => return None,
    };
    Some(Decimal::from(pounds))
}

/// Proceeds above which the year must be reported even when the gains are covered.
pub fn proceeds_threshold(year: i32) -> Option<Decimal> {
    if year >= 2023 {
        return (year <= 2025).then(|| Decimal::from(50_000));
    }
    annual_exempt_amount(year).map(|aea| aea * Decimal::from(4))
}

/// The figures of one part of the year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// Disposals (a token's disposals of one day count once).
    pub disposals: usize,
    /// Disposal proceeds.
    pub proceeds: Decimal,
    /// Allowable costs.
    pub allowable_costs: Decimal,
    /// Gains of the disposals with a gain.
    pub gains: Decimal,
    /// Losses of the disposals with a loss (a positive figure).
    pub losses: Decimal,
}

impl Part {
    /// Gains less losses.
    pub fn net(&self) -> Decimal {
        self.gains - self.losses
    }
}

/// The year's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFigures {
    /// The whole year (SA108's cryptoasset figures).
    pub total: Part,
    /// 2024/25 only: disposals before 30 October 2024, and on or after it.
    pub split: Option<(Part, Part)>,
    /// The annual exempt amount, where known.
    pub exempt_amount: Option<Decimal>,
    /// Net gains less the exempt amount (zero when covered); `None` when the amount is unknown.
    pub after_exempt_amount: Option<Decimal>,
    /// The proceeds threshold, where known.
    pub proceeds_threshold: Option<Decimal>,
    /// Why the year must be reported (empty: no need, on these figures alone).
    pub report_reasons: Vec<&'static str>,
}

fn part<'a>(rows: impl Iterator<Item = &'a UkDisposal>) -> Part {
    // (token, day) → (proceeds, allowable costs)
    let mut disposals: BTreeMap<(&str, i64), (Decimal, Decimal)> = BTreeMap::new();
    for row in rows.filter(|r| r.matched.rule != Rule::NoGainNoLoss) {
        let entry = disposals.entry((row.asset.as_str(), row.matched.day)).or_default();
        entry.0 += row.matched.proceeds;
        entry.1 += row.matched.allowable_cost();
    }
    let mut out = Part { disposals: disposals.len(), ..Part::default() };
    for (proceeds, costs) in disposals.into_values() {
        let gain = proceeds - costs;
        out.proceeds += proceeds;
        out.allowable_costs += costs;
        if gain > Decimal::ZERO {
            out.gains += gain;
        } else {
            out.losses -= gain;
        }
    }
    out
}

/// Sums up the year's rows (those of tax year `year` only).
pub fn figures(year: i32, rows: &[UkDisposal]) -> YearFigures {
    let total = part(rows.iter());
    let split = (year == 2024).then(|| {
        let change = super::day::day_number(rate_change_day());
        (part(rows.iter().filter(|r| r.matched.day < change)), part(rows.iter().filter(|r| r.matched.day >= change)))
    });
    let exempt_amount = annual_exempt_amount(year);
    let after_exempt_amount = exempt_amount.map(|aea| (total.net() - aea).max(Decimal::ZERO));
    let threshold = proceeds_threshold(year);
    let mut report_reasons = Vec::new();
    if exempt_amount.is_some_and(|aea| total.net() > aea) {
        report_reasons.push("gains above the annual exempt amount");
    }
    if threshold.is_some_and(|t| total.proceeds > t) {
        report_reasons.push("disposal proceeds above the reporting threshold");
    }
    YearFigures { total, split, exempt_amount, after_exempt_amount, proceeds_threshold: threshold, report_reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_amounts_and_thresholds_by_year() {
        assert_eq!(annual_exempt_amount(2022), Some(Decimal::from(12_300)));
        assert_eq!(annual_exempt_amount(2023), Some(Decimal::from(6_000)));
        assert_eq!(annual_exempt_amount(2024), Some(Decimal::from(3_000)));
        assert_eq!(annual_exempt_amount(2015), None);
        assert_eq!(proceeds_threshold(2022), Some(Decimal::from(49_200)));
        assert_eq!(proceeds_threshold(2024), Some(Decimal::from(50_000)));
        assert_eq!(proceeds_threshold(2026), None);
    }
}
