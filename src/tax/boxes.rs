//! The Form 8949 box of each disposal: whether a broker reported it on Form 1099-DA, and
//! whether with its basis.
//!
//! From tax year 2025 Form 8949 has boxes for digital assets: G (short) / J (long) for
//! transactions reported on Form 1099-DA with basis reported to the IRS, H / K when the basis
//! was not reported, I / L for transactions not reported on a 1099-DA; boxes C and F are no
//! longer for digital assets ("Instructions for Form 8949", <https://www.irs.gov/instructions/i8949>;
//! the 1099-DA's "Applicable checkbox on Form 8949" codes G, H, J, K,
//! <https://www.irs.gov/instructions/i1099da>). Before 2025, crypto not on a Form 1099-B went
//! in C (short) / F (long).
//!
//! Which applies, per disposal:
//! - before 2025: C / F;
//! - when a 1099-DA statement was imported for the disposal's account and year: G/J when the
//!   statement's row matched to it reported the basis, H/K when it reported proceeds only, I/L
//!   when no row matched (the broker did not report it);
//! - with no statement imported, a sale (not a fee) at a US broker (Coinbase, Kraken, Gemini,
//!   Binance.US): in 2025 H/K (brokers must report gross proceeds for 2025 sales; basis is
//!   optional), from 2026 G/J for units bought at that broker on or after 1 January 2026 that
//!   never left it (covered securities: the broker must report their basis), H/K for the rest;
//! - everything else (wallets, other exchanges, fees): I/L.

use crate::ledger::Term;
use cointally_exchanges::Exchange;
use cointally_exchanges::registry;

use super::zone::Zone;

/// From this tax year, digital assets have their own Form 8949 boxes (G–L).
pub const DIGITAL_ASSET_BOXES_FROM: i32 = 2025;

/// 2026-01-01T00:00:00Z: units acquired at a broker from then on are covered securities, whose
/// basis the broker reports.
pub const COVERED_FROM_MS: i64 = 1_767_225_600_000;

/// Whether an account's exchange (as accounts name it) is a US broker that issues Form
/// 1099-DA: the registry says (Coinbase, Kraken, Gemini and Binance.US).
pub fn is_us_broker(exchange: &str) -> bool {
    exchange.parse::<Exchange>().is_ok_and(|exchange| registry::entry(exchange).us_broker)
}

/// What a broker reported of a disposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reported {
    /// Proceeds and basis, the basis reported to the IRS (G/J).
    WithBasis,
    /// Proceeds only (H/K).
    ProceedsOnly,
    /// Not on a 1099-DA (I/L; C/F before 2025).
    No,
}

/// A Form 8949 checkbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FormBox {
    /// Short-term, not on a 1099-B (crypto before 2025).
    C,
    /// Long-term, not on a 1099-B (crypto before 2025).
    F,
    /// Short-term digital asset, 1099-DA with basis reported.
    G,
    /// Short-term digital asset, 1099-DA without basis reported.
    H,
    /// Short-term digital asset, no 1099-DA.
    I,
    /// Long-term digital asset, 1099-DA with basis reported.
    J,
    /// Long-term digital asset, 1099-DA without basis reported.
    K,
    /// Long-term digital asset, no 1099-DA.
    L,
}

impl FormBox {
    /// The box for a disposal of `term` in tax `year`, given what a broker reported.
    pub fn of(year: i32, term: Term, reported: Reported) -> FormBox {
        if year < DIGITAL_ASSET_BOXES_FROM {
            return match term {
                Term::Short => FormBox::C,
                Term::Long => FormBox::F,
            };
        }
        match (reported, term) {
            (Reported::WithBasis, Term::Short) => FormBox::G,
            (Reported::WithBasis, Term::Long) => FormBox::J,
            (Reported::ProceedsOnly, Term::Short) => FormBox::H,
            (Reported::ProceedsOnly, Term::Long) => FormBox::K,
            (Reported::No, Term::Short) => FormBox::I,
            (Reported::No, Term::Long) => FormBox::L,
        }
    }

    /// The letter.
    pub fn as_str(self) -> &'static str {
        match self {
            FormBox::C => "C",
            FormBox::F => "F",
            FormBox::G => "G",
            FormBox::H => "H",
            FormBox::I => "I",
            FormBox::J => "J",
            FormBox::K => "K",
            FormBox::L => "L",
        }
    }

    /// Whether the basis in column (e) must be the one the broker reported (G, J).
    pub fn basis_reported(self) -> bool {
        matches!(self, FormBox::G | FormBox::J)
    }
}

/// What a US broker reports of a sale when no statement was imported (`us_broker`: the account
/// is a US broker's, [`is_us_broker`]): proceeds only in 2025; from 2026 the basis too for
/// units bought there since 1 January 2026 that never left. The dates are local in `zone` (the
/// ledger's time zone), as the tax year's bounds are.
pub fn presumed(
    us_broker: bool,
    is_sale: bool,
    disposed_ms: i64,
    acquired_ms: i64,
    acquired_here: bool,
    zone: Zone,
) -> Reported {
    if !is_sale || !us_broker || disposed_ms < zone.per_wallet_from_ms() {
        return Reported::No;
    }
    let covered_from_ms = if zone.is_utc() { COVERED_FROM_MS } else { zone.year_start_ms(2026) };
    if disposed_ms >= covered_from_ms && acquired_ms >= covered_from_ms && acquired_here {
        Reported::WithBasis
    } else {
        Reported::ProceedsOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn boxes_by_year_term_and_what_was_reported() {
        assert_eq!(FormBox::of(2024, Term::Short, Reported::WithBasis), FormBox::C);
        assert_eq!(FormBox::of(2024, Term::Long, Reported::No), FormBox::F);
        let want = [
            (Reported::WithBasis, FormBox::G, FormBox::J),
            (Reported::ProceedsOnly, FormBox::H, FormBox::K),
            (Reported::No, FormBox::I, FormBox::L),
        ];
        for (reported, short, long) in want {
            assert_eq!(FormBox::of(2025, Term::Short, reported), short);
            assert_eq!(FormBox::of(2026, Term::Long, reported), long);
        }
    }

    #[test]
    fn a_us_broker_reports_proceeds_in_2025_and_covered_basis_from_2026() {
        let in_2025 = COVERED_FROM_MS - 30 * DAY;
        let in_2026 = COVERED_FROM_MS + 30 * DAY;
        assert_eq!(
            presumed(is_us_broker("coinbase"), true, in_2025, in_2025 - DAY, true, Zone::UTC),
            Reported::ProceedsOnly
        );
        assert_eq!(
            presumed(is_us_broker("kraken"), true, in_2026, COVERED_FROM_MS, true, Zone::UTC),
            Reported::WithBasis
        );
        // Bought before 2026, or bought elsewhere / moved away and back: noncovered.
        assert_eq!(
            presumed(is_us_broker("gemini"), true, in_2026, COVERED_FROM_MS - 1, true, Zone::UTC),
            Reported::ProceedsOnly
        );
        assert_eq!(
            presumed(is_us_broker("binanceus"), true, in_2026, in_2026 - DAY, false, Zone::UTC),
            Reported::ProceedsOnly
        );
        // Not a broker, not a sale, or before 2025.
        assert_eq!(presumed(is_us_broker("binance"), true, in_2026, in_2026 - DAY, true, Zone::UTC), Reported::No);
        assert_eq!(presumed(is_us_broker("wallet"), true, in_2025, in_2025 - DAY, true, Zone::UTC), Reported::No);
        assert_eq!(presumed(is_us_broker("coinbase"), false, in_2025, in_2025 - DAY, true, Zone::UTC), Reported::No);
        assert_eq!(
            presumed(is_us_broker("coinbase"), true, COVERED_FROM_MS - 400 * DAY, 0, true, Zone::UTC),
            Reported::No
        );
        // Bought at 20:00 on 31 December 2025 in New York (01:00 UTC on 1 January 2026): a
        // 2025 purchase there, so noncovered.
        let ny: Zone = "America/New_York".parse().unwrap();
        let evening = COVERED_FROM_MS + 3_600_000;
        assert_eq!(presumed(is_us_broker("coinbase"), true, in_2026, evening, true, Zone::UTC), Reported::WithBasis);
        assert_eq!(presumed(is_us_broker("coinbase"), true, in_2026, evening, true, ny), Reported::ProceedsOnly);
    }
}
