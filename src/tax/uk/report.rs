//! The UK year's report: the SA108 figures, the exempt amount, the pools at the year's end,
//! and the rows behind them, as `report --json` prints them.
//!
//! Figures are computed exactly and rounded to the penny (half away from zero) only when
//! shown: a row's money is rounded on its own, the totals are the exact sums rounded, so a
//! total can differ from the sum of its rounded rows by pennies (HMRC's own examples compute
//! in full and round the result).

use std::collections::BTreeMap;

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::UkComputed;
use super::day::{date_of, uk_date};
use super::year::{Part, YearFigures, figures};
use crate::tax::report::money;

/// A UK year's report.
#[derive(Debug, Clone)]
pub struct UkReport<'a> {
    /// The computation.
    pub computed: &'a UkComputed,
    /// The year's figures.
    pub figures: YearFigures,
    /// Reporting currency (GBP).
    pub currency: String,
    /// Income per kind (exact).
    pub income_by_kind: BTreeMap<String, Decimal>,
}

impl<'a> UkReport<'a> {
    /// Sums up a computation.
    pub fn new(computed: &'a UkComputed, currency: &str) -> UkReport<'a> {
        let mut income_by_kind: BTreeMap<String, Decimal> = BTreeMap::new();
        for i in &computed.income {
            *income_by_kind.entry(i.kind.as_str().to_owned()).or_default() += i.value;
        }
        UkReport {
            figures: figures(computed.year.year, &computed.disposals),
            computed,
            currency: currency.to_owned(),
            income_by_kind,
        }
    }

    /// Total income of the year.
    pub fn income(&self) -> Decimal {
        self.income_by_kind.values().sum()
    }

    /// The `--json` document: the US report's fields where they mean the same (`year`,
    /// `jurisdiction`, `currency`, `totals`, `income_by_kind`, `assets`, `disposals`,
    /// `inputs_hash`, `cointally`), and the UK's own.
    pub fn to_json(&self) -> Value {
        let c = self.computed;
        let mut assets: BTreeMap<&str, (Decimal, Decimal, Decimal)> = BTreeMap::new();
        for row in &c.disposals {
            let a = assets.entry(row.asset.as_str()).or_default();
            a.0 += row.matched.proceeds;
            a.1 += row.matched.allowable_cost();
        }
        for i in &c.income {
            assets.entry(i.asset.as_str()).or_default().2 += i.value;
        }
        let f = &self.figures;
        json!({
            "year": c.year.year,
            "jurisdiction": "UK",
            "period": {"tax_year": c.year.label, "from": c.year.first_day.to_string(), "to": c.year.last_day.to_string()},
            "method": "hmrc_pooling",
            "currency": self.currency,
            "totals": {
                "disposals": f.total.disposals,
                "proceeds": money(f.total.proceeds),
                "allowable_costs": money(f.total.allowable_costs),
                "gains": money(f.total.gains),
                "losses": money(f.total.losses),
                "net_gain": money(f.total.net()),
                "income": money(self.income()),
            },
            "annual_exempt_amount": f.exempt_amount.map(money),
            "gain_after_exempt_amount": f.after_exempt_amount.map(money),
            "proceeds_threshold": f.proceeds_threshold.map(money),
            "must_report": !f.report_reasons.is_empty(),
            "report_reasons": f.report_reasons,
            "rate_change_split": f.split.as_ref().map(|(before, after)| json!({
                "before_30_october_2024": part_json(before),
                "from_30_october_2024": part_json(after),
            })),
            "income_by_kind": self.income_by_kind.iter().map(|(k, v)| (k.clone(), Value::from(money(*v)))).collect::<serde_json::Map<_, _>>(),
            "assets": assets.iter().map(|(asset, (proceeds, costs, income))| json!({
                "asset": asset,
                "proceeds": money(*proceeds),
                "allowable_costs": money(*costs),
                "gain": money(*proceeds - *costs),
                "income": money(*income),
            })).collect::<Vec<_>>(),
            "disposals": c.disposals.iter().map(|row| {
                let m = &row.matched;
                json!({
                    "asset": row.asset,
                    "amount": format_amount(m.units),
                    "disposed": date_of(m.day).to_string(),
                    "acquired": m.acquired_day.map(|d| date_of(d).to_string()),
                    "rule": m.rule.as_str(),
                    "proceeds": money(m.proceeds),
                    "cost_basis": money(m.allowable_cost()),
                    "gain": money(m.gain()),
                    "events": m.events,
                    "pool_after": {"units": format_amount(m.pool_after.units), "cost": money(m.pool_after.cost)},
                    "basis_missing": m.basis_missing,
                    "price_missing": m.price_missing,
                })
            }).collect::<Vec<_>>(),
            "pools": c.pools.iter().map(|p| json!({
                "asset": p.asset,
                "units": format_amount(p.pool.units),
                "cost": money(p.pool.cost),
            })).collect::<Vec<_>>(),
            "lost": c.lost.iter().map(|l| json!({
                "event": l.event_id,
                "date": date_of(l.day).to_string(),
                "asset": l.asset,
                "units": format_amount(l.units),
            })).collect::<Vec<_>>(),
            "removed": c.removals.iter().map(|(asset, r)| json!({
                "event": r.event_id,
                "date": date_of(r.day).to_string(),
                "asset": asset,
                "units": format_amount(r.units),
                "cost": money(r.cost),
            })).collect::<Vec<_>>(),
            "income": c.income.iter().map(|i| json!({
                "event": i.event_id,
                "date": uk_date(i.received_ms).to_string(),
                "kind": i.kind.as_str(),
                "asset": i.asset,
                "amount": format_amount(i.amount),
                "value": money(i.value),
                "price_missing": i.price_missing,
            })).collect::<Vec<_>>(),
            "inputs_hash": c.inputs_hash,
            "cointally": env!("CARGO_PKG_VERSION"),
        })
    }
}

fn part_json(part: &Part) -> Value {
    json!({
        "disposals": part.disposals,
        "proceeds": money(part.proceeds),
        "allowable_costs": money(part.allowable_costs),
        "gains": money(part.gains),
        "losses": money(part.losses),
        "net_gain": money(part.net()),
    })
}
