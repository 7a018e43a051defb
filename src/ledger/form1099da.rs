//! Form 1099-DA statements the user imported: the sales a broker reported, per account and tax
//! year, read back for reconciliation and for the Form 8949 boxes.

use chrono::{Datelike, NaiveDate};
use cointally_exchanges::amount::format_amount;
use rusqlite::params;
use rust_decimal::Decimal;

use super::{Ledger, LedgerError, Term, decimal};

/// One sale as a broker reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    /// The row's line in its file (its id for the user).
    pub line: u64,
    /// The Form 8949 checkbox code the broker gave (`G`, `H`, `J`, `K`, `Y`, or empty).
    pub checkbox: String,
    /// Box 1a.
    pub dtif_code: String,
    /// Box 1b, as cointally's ticker.
    pub asset: String,
    /// Box 1c.
    pub units: Decimal,
    /// Box 1d (`None`: empty or `VARIOUS`).
    pub date_acquired: Option<NaiveDate>,
    /// Box 1e.
    pub date_sold: NaiveDate,
    /// Box 1f.
    pub proceeds: Decimal,
    /// Box 1g (`None`: not given).
    pub cost_basis: Option<Decimal>,
    /// Box 2, or checkbox G/J.
    pub basis_reported: bool,
    /// Box 6 (`None`: not given, or ordinary).
    pub term: Option<Term>,
    /// Box 9.
    pub noncovered: bool,
}

fn date(text: &str) -> Result<NaiveDate, LedgerError> {
    text.parse().map_err(|_| LedgerError::Corrupt(format!("1099-DA date {text:?}")))
}

impl Ledger {
    /// Stores a statement's rows for `account_id`, replacing the account's rows of every tax
    /// year the statement covers (so importing the same file twice changes nothing); one
    /// transaction. Returns the years replaced.
    pub fn store_statement(
        &mut self,
        account_id: i64,
        file: &str,
        rows: &[StatementRow],
    ) -> Result<Vec<i32>, LedgerError> {
        let mut years: Vec<i32> = rows.iter().map(|r| r.date_sold.year()).collect();
        years.sort_unstable();
        years.dedup();
        let tx = self.transaction()?;
        for year in &years {
            tx.execute(
                "DELETE FROM form_1099da_rows WHERE account_id = ?1 AND tax_year = ?2",
                params![account_id, year],
            )?;
        }
        {
            let mut insert = tx.prepare(
                "INSERT INTO form_1099da_rows (account_id, tax_year, line, file, checkbox, dtif_code, asset, units,
                    date_acquired, date_sold, proceeds, cost_basis, basis_reported, gain_type, noncovered)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?;
            for r in rows {
                insert.execute(params![
                    account_id,
                    r.date_sold.year(),
                    i64::try_from(r.line).unwrap_or(i64::MAX),
                    file,
                    r.checkbox,
                    r.dtif_code,
                    r.asset,
                    format_amount(r.units),
                    r.date_acquired.map(|d| d.to_string()),
                    r.date_sold.to_string(),
                    format_amount(r.proceeds),
                    r.cost_basis.map(format_amount),
                    r.basis_reported,
                    r.term.map(Term::as_str).unwrap_or(""),
                    r.noncovered,
                ])?;
            }
        }
        tx.commit()?;
        Ok(years)
    }

    /// The statement rows of tax `year`, as (account id, row), by account then line.
    pub fn statement_rows(&self, year: i32) -> Result<Vec<(i64, StatementRow)>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT account_id, line, checkbox, dtif_code, asset, units, date_acquired, date_sold, proceeds,
                    cost_basis, basis_reported, gain_type, noncovered
             FROM form_1099da_rows WHERE tax_year = ?1 ORDER BY account_id, line",
        )?;
        let mut rows = stmt.query(params![year])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let acquired: Option<String> = r.get(6)?;
            let basis: Option<String> = r.get(9)?;
            let gain_type: String = r.get(11)?;
            let line: i64 = r.get(1)?;
            out.push((
                r.get(0)?,
                StatementRow {
                    line: u64::try_from(line).unwrap_or(0),
                    checkbox: r.get(2)?,
                    dtif_code: r.get(3)?,
                    asset: r.get(4)?,
                    units: decimal(&r.get::<_, String>(5)?, "1099-DA units")?,
                    date_acquired: acquired.as_deref().map(date).transpose()?,
                    date_sold: date(&r.get::<_, String>(7)?)?,
                    proceeds: decimal(&r.get::<_, String>(8)?, "1099-DA proceeds")?,
                    cost_basis: basis.as_deref().map(|b| decimal(b, "1099-DA basis")).transpose()?,
                    basis_reported: r.get(10)?,
                    term: match gain_type.as_str() {
                        "short" => Some(Term::Short),
                        "long" => Some(Term::Long),
                        _ => None,
                    },
                    noncovered: r.get(12)?,
                },
            ));
        }
        Ok(out)
    }
}
