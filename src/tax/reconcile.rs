//! Form 1099-DA against cointally's sales: which broker row is which sale, what differs, and
//! the Form 8949 columns (d)–(g) a differing row carries.
//!
//! A sale is one event's disposal of one asset (its lot fragments together). A statement row
//! matches an unmatched sale of the same account, asset, date sold (the local date in the
//! ledger's time zone, as Form 8949 column (c) dates it) and units, the one
//! nearest in proceeds among several (ties to the earlier event). A matched pair differs when
//! the proceeds, or a basis the broker gave, differ by more than a cent, or the broker's
//! short/long term is not cointally's.
//!
//! Where they differ, the row is written as the Form 8949 instructions say
//! (<https://www.irs.gov/instructions/i8949>, columns (d)–(g)): column (d) holds the proceeds
//! shown on the 1099-DA, with code E when cointally's are lower (selling expenses the form does
//! not reflect) or O otherwise, and the difference in (g); in boxes G/J column (e) holds the
//! basis shown on the form, code B, and the correction in (g); in boxes H/K a wrong basis gets
//! code B with cointally's basis in (e) and nothing in (g); a wrong term gets code T and the
//! row goes in the part of cointally's term. So (d) − (e) + (g) is always cointally's gain.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::engine::proportion;
use super::report::{Adjustment, Line};
use super::rounding::spread_cents;
use super::zone::Zone;
use crate::ledger::{Disposal, DisposalKind, StatementRow, Term};

/// One sale of cointally's: the report lines of one event's disposal of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// The account.
    pub account_id: i64,
    /// The disposing event.
    pub event_id: i64,
    /// Asset.
    pub asset: String,
    /// The date sold, local in the ledger's time zone.
    pub date_sold: NaiveDate,
    /// Units.
    pub units: Decimal,
    /// Proceeds, to the cent (the sum of its rows).
    pub proceeds: Decimal,
    /// Basis, to the cent.
    pub cost_basis: Decimal,
    /// Short or long; `None` when its lots mix both.
    pub term: Option<Term>,
    /// Its rows in the report.
    pub lines: Range<usize>,
}

/// A figure that differs between the broker and cointally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Proceeds (box 1f).
    Proceeds {
        /// The broker's.
        broker: Decimal,
        /// cointally's.
        cointally: Decimal,
    },
    /// Basis (box 1g).
    Basis {
        /// The broker's.
        broker: Decimal,
        /// cointally's.
        cointally: Decimal,
    },
    /// Short or long (box 6).
    Term {
        /// The broker's.
        broker: Term,
        /// cointally's (`None`: mixed).
        cointally: Option<Term>,
    },
}

/// A statement row and the sale it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The row's account.
    pub account_id: i64,
    /// The broker's row.
    pub row: StatementRow,
    /// cointally's sale.
    pub sale: Sale,
    /// What differs (empty: they agree).
    pub differences: Vec<Difference>,
}

/// The year's statements against the year's sales.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Pairs, by account then statement line.
    pub matched: Vec<Matched>,
    /// Statement rows no sale matched, with their accounts.
    pub unmatched_rows: Vec<(i64, StatementRow)>,
    /// Sales of accounts with a statement that no row matched, in time order.
    pub unmatched_sales: Vec<Sale>,
    /// The accounts a statement was imported for.
    pub accounts: BTreeSet<i64>,
}

impl Reconciliation {
    /// Whether everything matched and agreed.
    pub fn clean(&self) -> bool {
        self.unmatched_rows.is_empty()
            && self.unmatched_sales.is_empty()
            && self.matched.iter().all(|m| m.differences.is_empty())
    }
}

fn beyond_a_cent(a: Decimal, b: Decimal) -> bool {
    (a - b).abs() > Decimal::new(1, 2)
}

/// The sales behind the report's lines (`disposals` are the engine's rows, same order), dated
/// in `zone`.
pub fn sales(lines: &[Line], disposals: &[Disposal], zone: Zone) -> Vec<Sale> {
    let mut out: Vec<Sale> = Vec::new();
    for (i, (line, d)) in lines.iter().zip(disposals).enumerate() {
        if d.kind != DisposalKind::Sale {
            continue;
        }
        if let Some(sale) =
            out.last_mut().filter(|s| s.lines.end == i && s.event_id == d.event_id && s.asset == d.asset)
        {
            sale.lines.end = i + 1;
            sale.units += line.amount;
            sale.proceeds += line.proceeds;
            sale.cost_basis += line.cost_basis;
            sale.term = sale.term.filter(|t| *t == line.term);
            continue;
        }
        out.push(Sale {
            account_id: d.account_id,
            event_id: d.event_id,
            asset: d.asset.clone(),
            date_sold: zone.date(d.disposed_ms),
            units: line.amount,
            proceeds: line.proceeds,
            cost_basis: line.cost_basis,
            term: Some(line.term),
            lines: i..i + 1,
        });
    }
    out
}

fn differences(row: &StatementRow, sale: &Sale) -> Vec<Difference> {
    let mut out = Vec::new();
    if beyond_a_cent(row.proceeds, sale.proceeds) {
        out.push(Difference::Proceeds { broker: row.proceeds, cointally: sale.proceeds });
    }
    if let Some(basis) = row.cost_basis.filter(|b| beyond_a_cent(*b, sale.cost_basis)) {
        out.push(Difference::Basis { broker: basis, cointally: sale.cost_basis });
    }
    if let Some(term) = row.term.filter(|t| sale.term != Some(*t)) {
        out.push(Difference::Term { broker: term, cointally: sale.term });
    }
    out
}

/// Matches `rows` (with their accounts) to the sales behind `lines`, the sales dated in `zone`.
pub fn reconcile(lines: &[Line], disposals: &[Disposal], rows: &[(i64, StatementRow)], zone: Zone) -> Reconciliation {
    // No statement imported (most ledgers): no account's sales are compared, none listed.
    if rows.is_empty() {
        return Reconciliation::default();
    }
    let accounts: BTreeSet<i64> = rows.iter().map(|(a, _)| *a).collect();
    let mut open: Vec<Option<Sale>> =
        sales(lines, disposals, zone).into_iter().filter(|s| accounts.contains(&s.account_id)).map(Some).collect();
    let mut out = Reconciliation { accounts, ..Reconciliation::default() };
    for (account_id, row) in rows {
        let best = open
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| {
                s.account_id == *account_id
                    && s.asset == row.asset
                    && s.date_sold == row.date_sold
                    && s.units == row.units
            })
            .min_by_key(|(_, s)| ((s.proceeds - row.proceeds).abs(), s.event_id))
            .map(|(i, _)| i);
        match best.and_then(|i| open[i].take()) {
            Some(sale) => {
                let differences = differences(row, &sale);
                out.matched.push(Matched { account_id: *account_id, row: row.clone(), sale, differences });
            }
            None => out.unmatched_rows.push((*account_id, row.clone())),
        }
    }
    out.unmatched_sales = open.into_iter().flatten().collect();
    out
}

/// The broker's `total` shared over a sale's rows by units, to the cent.
fn shares(total: Decimal, units: &[Decimal]) -> Vec<Decimal> {
    let whole: Decimal = units.iter().sum();
    let exact: Vec<Decimal> = units.iter().map(|u| proportion(total, *u, whole)).collect();
    spread_cents(&exact)
}

/// The Form 8949 columns of a matched sale's rows (`lines` are the sale's), `basis_boxes`
/// when they go in G/J; `None` per row when nothing differs.
pub fn adjustments(matched: &Matched, lines: &[Line], basis_boxes: bool) -> Vec<Option<Adjustment>> {
    if matched.differences.is_empty() {
        return vec![None; lines.len()];
    }
    let units: Vec<Decimal> = lines.iter().map(|l| l.amount).collect();
    let mut codes = BTreeMap::new();
    let mut proceeds: Vec<Decimal> = lines.iter().map(|l| l.proceeds).collect();
    let mut bases: Vec<Decimal> = lines.iter().map(|l| l.cost_basis).collect();
    for difference in &matched.differences {
        match difference {
            Difference::Proceeds { broker, cointally } => {
                codes.insert(if cointally < broker { 'E' } else { 'O' }, ());
                proceeds = shares(*broker, &units);
            }
            Difference::Basis { broker, .. } => {
                codes.insert('B', ());
                if basis_boxes {
                    bases = shares(*broker, &units);
                }
            }
            Difference::Term { .. } => {
                codes.insert('T', ());
            }
        }
    }
    let codes: String = codes.into_keys().collect();
    lines
        .iter()
        .zip(proceeds.into_iter().zip(bases))
        .map(|(line, (proceeds, cost_basis))| {
            let amount = (line.proceeds - proceeds) + (cost_basis - line.cost_basis);
            Some(Adjustment { proceeds, cost_basis, codes: codes.clone(), amount })
        })
        .collect()
}
