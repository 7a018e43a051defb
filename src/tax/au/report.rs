//! The Australian year's report: the tax return's capital gains labels (18H, 18A, 18V), the
//! steps between them, the parcels held at 30 June, and the rows behind them, as
//! `report --json` prints them.
//!
//! Figures are computed exactly and rounded to the cent (half away from zero) only when shown:
//! a row is rounded on its own, a total is the exact sum rounded (the ATO's examples compute
//! in full and show the result).

use std::collections::BTreeMap;

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::AuComputed;
use crate::tax::Method;
use crate::tax::report::money;

/// Capital proceeds, cost base and income of one token in the year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFigures {
    /// Capital proceeds (net of disposal costs).
    pub proceeds: Decimal,
    /// Cost base of the parcels disposed of.
    pub cost_base: Decimal,
    /// Ordinary income received in the token.
    pub income: Decimal,
}

/// An Australian year's report.
#[derive(Debug, Clone)]
pub struct AuReport<'a> {
    /// The computation.
    pub computed: &'a AuComputed,
    /// Reporting currency (AUD).
    pub currency: String,
    /// Per token.
    pub assets: BTreeMap<String, AssetFigures>,
    /// Income per kind (exact).
    pub income_by_kind: BTreeMap<String, Decimal>,
}

/// How the parcels were identified, in words for the report.
pub fn identification(method: Method) -> &'static str {
    match method {
        Method::Fifo => "first in, first out (FIFO)",
        Method::Lifo => "specific identification: the latest parcel first (LIFO)",
        Method::Hifo => "specific identification: the dearest parcel first (HIFO)",
        Method::Lofo => "specific identification: the cheapest parcel first (LOFO)",
    }
}

impl<'a> AuReport<'a> {
    /// Sums up a computation.
    pub fn new(computed: &'a AuComputed, currency: &str) -> AuReport<'a> {
        let mut assets: BTreeMap<String, AssetFigures> = BTreeMap::new();
        let mut income_by_kind: BTreeMap<String, Decimal> = BTreeMap::new();
        for row in &computed.disposals {
            let a = assets.entry(row.disposal.asset.clone()).or_default();
            a.proceeds += row.disposal.proceeds;
            a.cost_base += row.disposal.cost_basis;
        }
        for i in &computed.income {
            assets.entry(i.asset.clone()).or_default().income += i.value;
            *income_by_kind.entry(i.kind.as_str().to_owned()).or_default() += i.value;
        }
        AuReport { computed, currency: currency.to_owned(), assets, income_by_kind }
    }

    /// The year's totals over every token.
    pub fn totals(&self) -> AssetFigures {
        self.assets.values().fold(AssetFigures::default(), |t, a| AssetFigures {
            proceeds: t.proceeds + a.proceeds,
            cost_base: t.cost_base + a.cost_base,
            income: t.income + a.income,
        })
    }

    /// The `--json` document: the fields of the other jurisdictions' reports where they mean
    /// the same (`year`, `jurisdiction`, `period`, `method`, `currency`, `totals`,
    /// `income_by_kind`, `assets`, `disposals`, `inputs_hash`, `cointally`), and Australia's own.
    pub fn to_json(&self) -> Value {
        let c = self.computed;
        let f = &c.figures;
        let t = self.totals();
        json!({
            "year": c.year.year,
            "jurisdiction": "AU",
            "period": {"tax_year": c.year.label, "from": c.year.first_day.to_string(), "to": c.year.last_day.to_string()},
            "method": c.method.as_str(),
            "identification": identification(c.method),
            "currency": self.currency,
            "timezone": c.zone.name(),
            "totals": {
                "disposals": c.disposals.len(),
                "proceeds": money(t.proceeds),
                "cost_base": money(t.cost_base),
                "gains": money(f.total_gains()),
                "losses": money(f.losses),
                "net_gain": money(f.total_gains() - f.losses),
                "income": money(t.income),
            },
            "net_capital_gain": {
                "total_current_year_capital_gains": money(f.total_gains()),
                "discount_gains": money(f.discount_gains),
                "other_gains": money(f.other_gains),
                "current_year_capital_losses": money(f.losses),
                "current_year_losses_applied": money(f.losses_applied),
                "losses_brought_forward": money(f.losses_brought_forward),
                "losses_brought_forward_applied": money(f.brought_forward_applied),
                "losses_brought_forward_setting": c.losses_set.map(money),
                "losses_brought_forward_ledger": money(c.ledger_carried_in),
                "cgt_discount": money(f.discount),
                "net_capital_gain": money(f.net_capital_gain),
                "net_capital_losses_carried_forward": money(f.carried_forward),
            },
            "labels": {"18H": money(f.total_gains()), "18A": money(f.net_capital_gain), "18V": money(f.carried_forward)},
            "income_by_kind": self.income_by_kind.iter().map(|(k, v)| (k.clone(), Value::from(money(*v)))).collect::<serde_json::Map<_, _>>(),
            "assets": self.assets.iter().map(|(asset, a)| json!({
                "asset": asset,
                "proceeds": money(a.proceeds),
                "cost_base": money(a.cost_base),
                "gain": money(a.proceeds - a.cost_base),
                "income": money(a.income),
            })).collect::<Vec<_>>(),
            "disposals": c.disposals.iter().map(|row| {
                let d = &row.disposal;
                json!({
                    "event": d.event_id,
                    "kind": row.kind,
                    "asset": d.asset,
                    "amount": format_amount(d.amount),
                    "acquired": row.acquired.map(|a| a.to_string()),
                    "disposed": row.disposed.to_string(),
                    "proceeds": money(d.proceeds),
                    "cost_base": money(d.cost_basis),
                    "gain": money(row.gain()),
                    "held_12_months": row.held_12_months,
                    "discountable": row.discountable(),
                    "parcel_event": d.lot_event_id,
                    "basis_missing": d.basis_missing,
                    "price_missing": d.price_missing,
                })
            }).collect::<Vec<_>>(),
            "parcels": c.parcels.iter().map(|p| json!({
                "asset": p.asset,
                "amount": format_amount(p.amount),
                "acquired": c.zone.date(p.acquired_ms).to_string(),
                "cost_base": money(p.cost_basis),
                "basis_missing": p.basis_missing,
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
            "short": c.short.iter().map(|(asset, units)| (asset.clone(), Value::from(format_amount(*units)))).collect::<serde_json::Map<_, _>>(),
            "inputs_hash": c.inputs_hash,
            "cointally": env!("CARGO_PKG_VERSION"),
        })
    }
}
