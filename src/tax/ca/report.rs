//! The Canadian year's report: the Schedule 3 figures, the superficial losses denied (each
//! with the acquisitions that caused it), the holdings and their ACB at 31 December, and the
//! rows behind them, as `report --json` prints them.
//!
//! Figures are computed exactly and rounded to the cent (half away from zero) only when shown,
//! as the UK report does ([`crate::tax::report::money`]).

use std::collections::BTreeMap;

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::acb::{Denial, Disposition};
use super::year::{LINE_GAIN, LINE_PROCEEDS, LINE_TAXABLE, YearFigures, figures, inclusion_rate};
use super::{CaComputed, Treatment};
use crate::tax::report::money;
use crate::tax::uk::day::date_of;

/// A Canadian year's report.
#[derive(Debug, Clone)]
pub struct CaReport<'a> {
    /// The computation.
    pub computed: &'a CaComputed,
    /// The year's figures.
    pub figures: YearFigures,
    /// Reporting currency (CAD).
    pub currency: String,
    /// Capital or business treatment.
    pub treatment: Treatment,
    /// Income per kind (exact).
    pub income_by_kind: BTreeMap<String, Decimal>,
}

impl<'a> CaReport<'a> {
    /// Sums up a computation.
    pub fn new(computed: &'a CaComputed, currency: &str, treatment: Treatment) -> CaReport<'a> {
        let mut income_by_kind: BTreeMap<String, Decimal> = BTreeMap::new();
        for i in &computed.income {
            *income_by_kind.entry(i.kind.as_str().to_owned()).or_default() += i.value;
        }
        CaReport {
            figures: figures(&computed.disposals),
            computed,
            currency: currency.to_owned(),
            treatment,
            income_by_kind,
        }
    }

    /// Total income received (staking, mining, ...) at its value on receipt.
    pub fn income(&self) -> Decimal {
        self.income_by_kind.values().sum()
    }

    /// The `--json` document: the US report's fields where they mean the same (`year`,
    /// `jurisdiction`, `period`, `currency`, `totals`, `income_by_kind`, `assets`,
    /// `disposals`, `inputs_hash`, `cointally`), and Canada's own beside them.
    pub fn to_json(&self) -> Value {
        let c = self.computed;
        let f = &self.figures;
        let mut assets: BTreeMap<&str, (Decimal, Decimal, Decimal, Decimal)> = BTreeMap::new();
        for d in &c.disposals {
            let a = assets.entry(d.asset.as_str()).or_default();
            a.0 += d.row.proceeds;
            a.1 += d.row.acb + d.row.outlays;
            a.2 += d.row.gain();
        }
        for i in &c.income {
            assets.entry(i.asset.as_str()).or_default().3 += i.value;
        }
        let capital = self.treatment == Treatment::Capital;
        json!({
            "year": c.year.year,
            "jurisdiction": "CA",
            "period": {"tax_year": c.year.label, "from": c.year.first_day.to_string(), "to": c.year.last_day.to_string()},
            "method": "cra_average_cost",
            "currency": self.currency,
            "timezone": c.zone.name(),
            "treatment": self.treatment.as_str(),
            "totals": {
                "disposals": f.dispositions,
                "proceeds": money(f.proceeds),
                "adjusted_cost_base": money(f.acb),
                "outlays": money(f.outlays),
                "gains": money(f.gains),
                "losses": money(f.losses),
                "superficial_losses_denied": money(f.denied),
                "net_gain": money(f.net()),
                "income": money(self.income()),
            },
            "inclusion_rate": inclusion_rate().normalize().to_string(),
            "taxable_capital_gain": if capital { money(f.taxable_capital_gain()) } else { money(Decimal::ZERO) },
            "allowable_capital_loss": if capital { money(f.allowable_capital_loss()) } else { money(Decimal::ZERO) },
            "net_capital_losses_of_other_years": {
                "available": money(c.losses_brought_forward),
                "line_25300_applied": money(f.net_capital_losses_applied(self.treatment, c.losses_brought_forward)),
                "remaining": money(c.losses_brought_forward - f.net_capital_losses_applied(self.treatment, c.losses_brought_forward)),
            },
            "business_income": money(f.business_income(self.treatment) + if capital { Decimal::ZERO } else { self.income() }),
            "schedule3": if capital { json!({
                format!("line_{LINE_PROCEEDS}_proceeds"): money(f.proceeds),
                "adjusted_cost_base": money(f.schedule3_acb()),
                "outlays": money(f.outlays),
                format!("line_{LINE_GAIN}_gain"): money(f.net()),
                format!("line_{LINE_TAXABLE}_taxable_capital_gain"): money(f.taxable_capital_gain()),
            }) } else { Value::Null },
            "income_by_kind": self.income_by_kind.iter().map(|(k, v)| (k.clone(), Value::from(money(*v)))).collect::<serde_json::Map<_, _>>(),
            "assets": assets.iter().map(|(asset, (proceeds, cost, gain, income))| json!({
                "asset": asset,
                "proceeds": money(*proceeds),
                "cost_basis": money(*cost),
                "gain": money(*gain),
                "income": money(*income),
            })).collect::<Vec<_>>(),
            "disposals": c.disposals.iter().map(|d| disposal_json(&d.asset, &d.row)).collect::<Vec<_>>(),
            "superficial_losses": c.disposals.iter().filter_map(|d| d.row.denial.as_ref().map(|denial| denial_json(&d.asset, &d.row, denial))).collect::<Vec<_>>(),
            "holdings": c.holdings.iter().map(|h| json!({
                "asset": h.asset,
                "units": format_amount(h.holding.units),
                "adjusted_cost_base": money(h.holding.cost),
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
                "date": c.zone.date(i.received_ms).to_string(),
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

fn disposal_json(asset: &str, row: &Disposition) -> Value {
    json!({
        "asset": asset,
        "event": row.event_id,
        "kind": row.kind.as_str(),
        "amount": format_amount(row.units),
        "disposed": date_of(row.day).to_string(),
        "proceeds": money(row.proceeds),
        "adjusted_cost_base": money(row.acb),
        "outlays": money(row.outlays),
        "cost_basis": money(row.acb + row.outlays),
        "gain_before_denial": money(row.gain_before_denial()),
        "superficial_loss_denied": money(row.denied()),
        "gain": money(row.gain()),
        "before": {"units": format_amount(row.units_before), "adjusted_cost_base": money(row.acb_before)},
        "after": {"units": format_amount(row.units_after), "adjusted_cost_base": money(row.acb_after)},
        "basis_missing": row.basis_missing,
        "price_missing": row.price_missing,
    })
}

fn denial_json(asset: &str, row: &Disposition, denial: &Denial) -> Value {
    json!({
        "asset": asset,
        "event": row.event_id,
        "disposed": date_of(row.day).to_string(),
        "units_sold": format_amount(denial.sold),
        "units_acquired_in_window": format_amount(denial.acquired),
        "units_held_30_days_after": format_amount(denial.held_after),
        "loss": money(denial.loss),
        "denied": money(denial.denied),
        "acquisitions": denial.acquisitions.iter().map(|(day, units)| json!({
            "date": date_of(*day).to_string(),
            "units": format_amount(*units),
        })).collect::<Vec<_>>(),
    })
}
