//! The German year's report: private sales (taxable within one year, against the
//! Freigrenze), the disposals held longer (tax-free), § 22 Nr. 3 income, and the rows behind
//! them, as `report --json` prints them.
//!
//! Figures are exact and rounded to the cent (half away from zero) only when shown: each row
//! on its own, each total as its exact sum — so the Freigrenze is compared with the exact net
//! gain, and a total can differ from the sum of its rounded rows by cents.

use std::collections::BTreeMap;

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::DeComputed;
use super::day::berlin_date;
use super::year::{DeFigures, Sales, figures};
use crate::tax::report::money;

/// A German year's report.
#[derive(Debug, Clone)]
pub struct DeReport<'a> {
    /// The computation.
    pub computed: &'a DeComputed,
    /// The year's figures.
    pub figures: DeFigures,
    /// Reporting currency (EUR).
    pub currency: String,
    /// Income per kind (exact).
    pub income_by_kind: BTreeMap<String, Decimal>,
    /// Account id → label.
    pub labels: BTreeMap<i64, String>,
}

impl<'a> DeReport<'a> {
    /// Sums up a computation; `labels` name the wallets.
    pub fn new(computed: &'a DeComputed, currency: &str, labels: BTreeMap<i64, String>) -> DeReport<'a> {
        let mut income_by_kind: BTreeMap<String, Decimal> = BTreeMap::new();
        for i in &computed.income {
            *income_by_kind.entry(i.kind.as_str().to_owned()).or_default() += i.value;
        }
        DeReport {
            figures: figures(computed.year.year, &computed.disposals, &computed.income)
                .with_losses_brought_forward(computed.year.year, computed.losses_brought_forward),
            computed,
            currency: currency.to_owned(),
            income_by_kind,
            labels,
        }
    }

    /// A wallet's label (its id when it has none).
    pub fn label(&self, account_id: i64) -> String {
        self.labels.get(&account_id).cloned().unwrap_or_else(|| account_id.to_string())
    }

    /// The `--json` document: the US report's fields where they mean the same (`year`,
    /// `jurisdiction`, `period`, `currency`, `totals`, `income_by_kind`, `assets`,
    /// `disposals`, `inputs_hash`, `cointally`), and Germany's own.
    pub fn to_json(&self) -> Value {
        let c = self.computed;
        let f = &self.figures;
        // asset → (proceeds, cost, taxable gain, tax-free gain, income)
        let mut assets: BTreeMap<&str, [Decimal; 5]> = BTreeMap::new();
        for row in &c.disposals {
            let a = assets.entry(row.row.asset.as_str()).or_default();
            a[0] += row.row.proceeds;
            a[1] += row.row.cost_basis;
            a[if row.held_more_than_one_year { 3 } else { 2 }] += row.gain();
        }
        for i in &c.income {
            assets.entry(i.asset.as_str()).or_default()[4] += i.value;
        }
        let all_proceeds = f.private_sales.proceeds + f.tax_free.proceeds;
        let all_cost = f.private_sales.cost + f.tax_free.cost;
        json!({
            "year": c.year.year,
            "jurisdiction": "DE",
            "period": {"tax_year": c.year.label, "from": c.year.first_day.to_string(), "to": c.year.last_day.to_string(), "time_zone": "Europe/Berlin"},
            "method": "fifo",
            "lots": "per-wallet",
            "currency": self.currency,
            "totals": {
                "disposals": c.disposals.len(),
                "proceeds": money(all_proceeds),
                "cost_basis": money(all_cost),
                "private_sales_gain": money(f.private_sales.net()),
                "tax_free_gain": money(f.tax_free.net()),
                "income": money(f.other_services),
            },
            "private_sales": sales_json(&f.private_sales),
            "held_more_than_one_year": sales_json(&f.tax_free),
            "private_sales_limit": f.private_sales_limit.map(money),
            "taxable_private_sales": f.taxable_private_sales.map(money),
            "loss_to_carry": money(f.loss_to_carry),
            "losses_brought_forward": {
                "available": money(f.losses_brought_forward),
                "applied": money(f.losses_brought_forward_applied),
                "remaining": money(f.losses_brought_forward_remaining),
            },
            "taxable_private_sales_after_losses": f.taxable_after_losses.map(money),
            "other_services": {
                "income": money(f.other_services),
                "limit": money(Decimal::from(super::year::OTHER_SERVICES_LIMIT)),
                "taxable": money(f.taxable_other_services),
            },
            "income_by_kind": self.income_by_kind.iter().map(|(k, v)| (k.clone(), Value::from(money(*v)))).collect::<serde_json::Map<_, _>>(),
            "assets": assets.iter().map(|(asset, [proceeds, cost, taxable, free, income])| json!({
                "asset": asset,
                "proceeds": money(*proceeds),
                "cost_basis": money(*cost),
                "private_sales_gain": money(*taxable),
                "tax_free_gain": money(*free),
                "income": money(*income),
            })).collect::<Vec<_>>(),
            "disposals": c.disposals.iter().map(|d| {
                let r = &d.row;
                json!({
                    "asset": r.asset,
                    "amount": format_amount(r.amount),
                    "acquired": berlin_date(r.acquired_ms).to_string(),
                    "disposed": berlin_date(r.disposed_ms).to_string(),
                    "proceeds": money(r.proceeds),
                    "cost_basis": money(r.cost_basis),
                    "gain": money(d.gain()),
                    "held_more_than_one_year": d.held_more_than_one_year,
                    "account": self.label(r.account_id),
                    "kind": r.kind.as_str(),
                    "event": r.event_id,
                    "basis_missing": r.basis_missing,
                    "price_missing": r.price_missing,
                })
            }).collect::<Vec<_>>(),
            "income": c.income.iter().map(|i| json!({
                "event": i.event_id,
                "date": berlin_date(i.received_ms).to_string(),
                "kind": i.kind.as_str(),
                "asset": i.asset,
                "amount": format_amount(i.amount),
                "value": money(i.value),
                "account": self.label(i.account_id),
                "price_missing": i.price_missing,
            })).collect::<Vec<_>>(),
            "holdings": c.holdings.iter().map(|h| json!({
                "asset": h.asset,
                "account": h.account_id.map(|a| self.label(a)),
                "amount": format_amount(h.amount),
                "acquired": berlin_date(h.acquired_ms).to_string(),
                "cost_basis": money(h.cost_basis),
                "basis_missing": h.basis_missing,
            })).collect::<Vec<_>>(),
            "inputs_hash": c.inputs_hash,
            "cointally": env!("CARGO_PKG_VERSION"),
        })
    }
}

fn sales_json(sales: &Sales) -> Value {
    json!({
        "rows": sales.rows,
        "proceeds": money(sales.proceeds),
        "cost_basis": money(sales.cost),
        "gains": money(sales.gains),
        "losses": money(sales.losses),
        "net_gain": money(sales.net()),
    })
}
