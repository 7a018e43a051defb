//! One market price per crypto-to-crypto trade.
//!
//! A trade gives and receives the same worth, so one side priced from the markets values
//! both: the side whose first route reaches the finer candle is priced; on a tie the one that
//! adds fewer requests — whose markets already have a request window at the trade's time
//! (cached, planned for the page's other legs such as a fee in BNB or a deposit, or opened by
//! an earlier trade: see `Engine::choose_sides`) — then the one with fewer hops, then the one
//! whose markets more legs of the page read; then the given side. The other side's value is that value,
//! exactly. Its price is that value divided by its amount, an exact decimal division rounded to
//! 18 places (half to even, as every price). A fee in the derived side's asset is valued at
//! that price × its amount (12 places, half to even); a fee in a third asset needs its own
//! price. Such values carry the source `trade:` + the priced side's source and the path
//! `leg:SEQ=` + the priced side's path. When the priced side finds no candle, the other side
//! is priced from its own markets, as any other leg, and the first side's legs are then
//! derived from it the same way.
//!
//! Half the trades' market lookups disappear, and with them (the times of a history being
//! spread out) most of the candle requests of a market no other leg needs.

use std::cmp::Reverse;

use rust_decimal::Decimal;

use crate::ledger::LegValue;

use super::implied::Trade;
use super::{round_price, value_of};

/// How a trade's sides are valued: `priced` from the markets, `derived` from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sides {
    /// The event.
    pub event_id: i64,
    /// The leg priced from the markets.
    pub priced: i64,
    /// The asset whose legs take their value from the priced leg.
    pub derived: String,
    /// The derived main leg.
    pub derived_seq: i64,
}

/// How well a side's first route reaches at the trade's time; the lower wins, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reach {
    /// Its coarsest candle, in ms (0 for a stablecoin at par).
    pub coarsest_ms: i64,
    /// Its hops whose market has no request window at the trade's time: the requests it adds.
    pub new_markets: usize,
    /// Its hops.
    pub hops: usize,
    /// How many legs of the page read its markets first (more: more likely asked anyway).
    pub readers: Reverse<usize>,
}

impl Reach {
    /// A side with no route at all.
    pub const NONE: Reach =
        Reach { coarsest_ms: i64::MAX, new_markets: usize::MAX, hops: usize::MAX, readers: Reverse(0) };
}

/// Chooses which side of `trade` is priced: the received side only when it reaches strictly finer.
pub fn choose(trade: &Trade, reach: impl Fn(&str) -> Reach) -> Sides {
    let (sent, received) = (&trade.sent, &trade.received);
    let (priced, derived) = if reach(&received.1) < reach(&sent.1) { (received, sent) } else { (sent, received) };
    Sides { event_id: trade.event_id, priced: priced.0, derived: derived.1.clone(), derived_seq: derived.0 }
}

/// The value of a leg of the derived asset (`amount` signed) from the priced leg's value;
/// `None` when a division or product cannot be made (the leg is then priced on its own).
pub fn derive(sides: &Sides, priced: &LegValue, seq: i64, amount: Decimal, main_amount: Decimal) -> Option<LegValue> {
    if main_amount.is_zero() {
        return None;
    }
    let price = round_price(priced.value.checked_div(main_amount.abs())?);
    let value = if seq == sides.derived_seq { priced.value } else { value_of(amount, price)? };
    Some(LegValue {
        event_id: sides.event_id,
        seq,
        price,
        value,
        source: format!("trade:{}", priced.source),
        path: format!("leg:{}={}", priced.seq, priced.path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn trade() -> Trade {
        Trade { event_id: 3, time_ms: 0, sent: (0, "ETH".into()), received: (1, "BNB".into()) }
    }

    fn reach(coarsest_ms: i64, new_markets: usize, hops: usize, readers: usize) -> Reach {
        Reach { coarsest_ms, new_markets, hops, readers: Reverse(readers) }
    }

    #[test]
    fn the_finer_side_is_priced_and_the_given_side_on_a_tie() {
        let minute_direct = |asset: &str| if asset == "ETH" { reach(60_000, 1, 1, 1) } else { reach(60_000, 2, 2, 9) };
        assert_eq!(choose(&trade(), minute_direct).priced, 0);
        let day_eth = |asset: &str| if asset == "ETH" { reach(86_400_000, 0, 1, 9) } else { reach(60_000, 2, 2, 1) };
        let sides = choose(&trade(), day_eth);
        assert_eq!((sides.priced, sides.derived.as_str(), sides.derived_seq), (1, "ETH", 0));
        // BNB's two markets are read by the event's other legs anyway: no new request.
        let shared = |asset: &str| if asset == "ETH" { reach(60_000, 1, 1, 1) } else { reach(60_000, 0, 2, 1) };
        assert_eq!(choose(&trade(), shared).priced, 1);
        let popular = |asset: &str| if asset == "ETH" { reach(60_000, 1, 1, 1) } else { reach(60_000, 1, 1, 2) };
        assert_eq!(choose(&trade(), popular).priced, 1);
        assert_eq!(choose(&trade(), |_| reach(60_000, 1, 1, 1)).priced, 0);
        let nothing = |asset: &str| if asset == "ETH" { Reach::NONE } else { reach(86_400_000, 2, 2, 0) };
        assert_eq!(choose(&trade(), nothing).priced, 1);
    }

    #[test]
    fn the_derived_side_keeps_the_value_and_its_price_is_an_exact_quotient() {
        let sides = choose(&trade(), |_| reach(60_000, 1, 1, 1));
        let priced = LegValue {
            event_id: 3,
            seq: 0,
            price: d("3000"),
            value: d("1000"),
            source: "coinbase".into(),
            path: "coinbase:ETH-USD:1m@0".into(),
        };
        let main = derive(&sides, &priced, 1, d("3"), d("3")).unwrap();
        // 1000 / 3 = 333.333… rounded to 18 places; the value stays exactly 1000.
        assert_eq!((main.price, main.value), (d("333.333333333333333333"), d("1000")));
        assert_eq!((main.source.as_str(), main.path.as_str()), ("trade:coinbase", "leg:0=coinbase:ETH-USD:1m@0"));
        let fee = derive(&sides, &priced, 2, d("-0.003"), d("3")).unwrap();
        assert_eq!(fee.value, d("1")); // 0.003 × 333.333… = 0.999999999999999999999 → 12 places
        assert!(derive(&sides, &priced, 1, d("3"), Decimal::ZERO).is_none());
    }
}
