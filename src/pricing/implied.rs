//! Values an event gives itself, before any market is asked.
//!
//! - A leg in the reporting currency is worth its amount: the ledger reads it so without a
//!   stored value ([`crate::ledger::CURRENCY_SOURCE`]), and it is never one to value here.
//! - An event with one sent and one received leg, one of them in the reporting currency (a
//!   BTC/USD trade, a card buy), prices the other asset: value = the currency leg's amount.
//! - An event whose source reported its fiat value in the reporting currency (Coinbase's
//!   `native_amount`, say) gives that value to each of its sent and received legs.
//! - A fee leg in an asset that one of those rules priced gets the same price.
//! - An asset that has no market value by nature ([`NO_MARKET_VALUE`]: Kraken's fee credits,
//!   KFEE, which can only pay Kraken's fees) is worth zero — said so, with source `no_market`.
//!
//! Everything else becomes a [`Need`]: an asset at a time, priced from the markets. An event
//! whose one sent and one received leg both need the markets (a crypto-to-crypto trade) is
//! also listed as a [`Trade`]: one market price values both sides (see [`super::trade`]).

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;

use cointally_exchanges::LegRole;

use crate::ledger::{LegValue, PricingEvent, PricingLeg};

use super::round_price;

/// Assets with no market value: they cannot be sold or moved, only spent on the issuer's fees.
pub const NO_MARKET_VALUE: &[&str] = &["KFEE"];

/// A leg that needs a market price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The event.
    pub event_id: i64,
    /// The leg's position.
    pub seq: i64,
    /// The asset to price.
    pub asset: String,
    /// The leg's amount (signed).
    pub amount: Decimal,
    /// When (UTC ms).
    pub time_ms: i64,
}

/// A crypto-to-crypto trade whose two sides both need a market price: (seq, asset) of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// The event.
    pub event_id: i64,
    /// When (UTC ms).
    pub time_ms: i64,
    /// The given side: (seq, asset).
    pub sent: (i64, String),
    /// The received side: (seq, asset).
    pub received: (i64, String),
}

/// What an event's unvalued legs become.
#[derive(Debug, Default)]
pub struct Split {
    /// Values the events give themselves.
    pub values: Vec<LegValue>,
    /// Legs that need a market price.
    pub needs: Vec<Need>,
    /// Crypto-to-crypto trades among the needs.
    pub trades: Vec<Trade>,
}

/// Splits an event's unvalued legs into values it gives itself and needs for the markets.
/// (Called for every event `prices` reads: it allocates only what it returns.)
pub fn value_event(event: &PricingEvent, currency: &str, split: &mut Split) {
    let Split { values, needs, trades } = split;
    let needs_before = needs.len();
    let sides = one_each(event);
    // Asset → (price, how it was found) known from the event itself: at most one from a trade
    // against the currency, one per sent or received leg from a reported fiat value.
    let mut known: Vec<(&str, Decimal, String)> = Vec::new();
    if let Some((s, r)) = sides {
        let (money, other) = if s.asset == currency { (s, r) } else { (r, s) };
        if money.asset == currency && other.asset != currency && !other.amount.is_zero() {
            if let Some(price) = money.amount.abs().checked_div(other.amount.abs()) {
                known.push((
                    &other.asset,
                    round_price(price),
                    format!("event:{}:{}", money.asset, format_amount(money.amount.abs())),
                ));
            }
        }
    }
    if let Some((value, fiat)) = &event.fiat_value {
        if fiat == currency && !value.is_zero() {
            for leg in main_legs(event) {
                let alone = main_legs(event).filter(|l| l.asset == leg.asset).count() == 1;
                if leg.asset != currency
                    && alone
                    && !leg.amount.is_zero()
                    && known.iter().all(|(a, ..)| *a != leg.asset)
                {
                    if let Some(price) = value.abs().checked_div(leg.amount.abs()) {
                        known.push((
                            &leg.asset,
                            round_price(price),
                            format!("fiat_value:{fiat}:{}", format_amount(value.abs())),
                        ));
                    }
                }
            }
        }
    }
    for leg in event.legs.iter().filter(|l| !l.valued && l.asset != currency) {
        if NO_MARKET_VALUE.contains(&leg.asset.as_str()) {
            values.push(LegValue {
                event_id: event.id,
                seq: leg.seq,
                price: Decimal::ZERO,
                value: Decimal::ZERO,
                source: "no_market".to_owned(),
                path: String::new(),
            });
            continue;
        }
        // The leg the price came from keeps its exact value; a fee in the same asset is priced
        // (a value that overflows leaves the leg to the other sources, then to "missing").
        let implied = known.iter().find(|(asset, ..)| *asset == leg.asset).and_then(|(_, price, path)| {
            let value = exact_value(event, leg, sides, currency).or_else(|| super::value_of(leg.amount, *price))?;
            Some((price, path, value))
        });
        if let Some((price, path, value)) = implied {
            values.push(LegValue {
                event_id: event.id,
                seq: leg.seq,
                price: *price,
                value,
                source: "event".to_owned(),
                path: path.clone(),
            });
            continue;
        }
        needs.push(Need {
            event_id: event.id,
            seq: leg.seq,
            asset: leg.asset.clone(),
            amount: leg.amount,
            time_ms: event.time_ms,
        });
    }
    if let Some((s, r)) = sides {
        let new = &needs[needs_before..];
        let needed = |seq: i64| new.iter().any(|n| n.seq == seq && !n.amount.is_zero());
        if s.asset != r.asset && needed(s.seq) && needed(r.seq) {
            trades.push(Trade {
                event_id: event.id,
                time_ms: event.time_ms,
                sent: (s.seq, s.asset.clone()),
                received: (r.seq, r.asset.clone()),
            });
        }
    }
}

/// The event's sent and received legs (its fees left out).
fn main_legs(event: &PricingEvent) -> impl Iterator<Item = &PricingLeg> {
    event.legs.iter().filter(|l| l.role != LegRole::Fee)
}

/// The event's one sent and one received leg, when it has exactly one of each.
fn one_each(event: &PricingEvent) -> Option<(&PricingLeg, &PricingLeg)> {
    let (mut sent, mut received) = (None, None);
    for leg in &event.legs {
        let side = match leg.role {
            LegRole::Sent => &mut sent,
            LegRole::Received => &mut received,
            LegRole::Fee => continue,
        };
        match side {
            None => *side = Some(Some(leg)),
            Some(_) => *side = Some(None), // a second one
        }
    }
    Some((sent.flatten()?, received.flatten()?))
}

/// The exact value of a sent or received `leg` whose price the event gave: the currency leg's
/// amount (`sides`: the event's one sent and one received leg, if so), or the reported fiat
/// value (`None` for fee legs and anything else).
fn exact_value(
    event: &PricingEvent,
    leg: &PricingLeg,
    sides: Option<(&PricingLeg, &PricingLeg)>,
    currency: &str,
) -> Option<Decimal> {
    if leg.role == LegRole::Fee {
        return None;
    }
    if let Some((sent, received)) = sides {
        let money = if leg.role == LegRole::Sent { received } else { sent };
        if money.asset == currency {
            return Some(money.amount.abs());
        }
    }
    match &event.fiat_value {
        Some((value, fiat)) if fiat == currency => Some(value.abs()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(seq: i64, role: &str, asset: &str, amount: &str) -> PricingLeg {
        let role = LegRole::from_name(role).unwrap();
        PricingLeg { seq, role, asset: asset.into(), amount: amount.parse().unwrap(), valued: false }
    }

    fn event(legs: Vec<PricingLeg>, fiat: Option<(&str, &str)>) -> PricingEvent {
        PricingEvent {
            id: 7,
            time_ms: 1_700_000_000_000,
            fiat_value: fiat.map(|(v, c)| (v.parse().unwrap(), c.to_owned())),
            legs,
        }
    }

    /// Fees aside, an event has "one of each" only with exactly one sent and one received leg.
    #[test]
    fn one_of_each_side_means_exactly_one_sent_and_one_received() {
        let seqs = |e: &PricingEvent| one_each(e).map(|(s, r)| (s.seq, r.seq));
        let fee = leg(0, "fee", "BTC", "-0.1");
        let (sent, received) = (leg(1, "sent", "ETH", "-2"), leg(2, "received", "BTC", "0.1"));
        assert_eq!(seqs(&event(vec![fee.clone(), received.clone(), sent.clone()], None)), Some((1, 2)));
        let two_sent = vec![sent.clone(), leg(3, "sent", "SOL", "-1"), received.clone()];
        assert_eq!(seqs(&event(two_sent, None)), None);
        let two_received = vec![sent.clone(), received.clone(), leg(3, "received", "SOL", "1")];
        assert_eq!(seqs(&event(two_received, None)), None);
        assert_eq!(seqs(&event(vec![received, fee], None)), None);
    }

    fn split(e: &PricingEvent) -> (Vec<LegValue>, Vec<Need>) {
        let mut split = Split::default();
        value_event(e, "USD", &mut split);
        assert!(split.trades.is_empty(), "{:?}", split.trades);
        (split.values, split.needs)
    }

    #[test]
    fn a_trade_quoted_in_the_currency_prices_its_other_side_and_a_fee_in_it() {
        // Bought 0.25 BTC for 15,000 USD, paid 0.0005 BTC fee and 1.5 USD fee.
        let e = event(
            vec![
                leg(0, "sent", "USD", "-15000"),
                leg(1, "received", "BTC", "0.25"),
                leg(2, "fee", "BTC", "-0.0005"),
                leg(3, "fee", "USD", "-1.5"),
            ],
            None,
        );
        let (values, needs) = split(&e);
        assert!(needs.is_empty());
        let by_seq = |s: i64| values.iter().find(|v| v.seq == s).unwrap();
        // The currency legs are the ledger's to value (at their amount), not this split's.
        assert!(values.iter().all(|v| v.seq != 0 && v.seq != 3), "{values:?}");
        assert_eq!((by_seq(1).price, by_seq(1).value), ("60000".parse().unwrap(), "15000".parse().unwrap()));
        assert_eq!(by_seq(1).source, "event");
        assert_eq!(by_seq(2).value, "30".parse::<Decimal>().unwrap()); // 0.0005 × 60,000
    }

    #[test]
    fn a_reported_fiat_value_prices_both_sides_of_a_crypto_trade() {
        let e = event(
            vec![leg(0, "sent", "ETH", "-2"), leg(1, "received", "BTC", "0.1"), leg(2, "fee", "BNB", "-0.01")],
            Some(("6000", "USD")),
        );
        let (values, needs) = split(&e);
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].price, "3000".parse().unwrap());
        assert_eq!(values[1].price, "60000".parse().unwrap());
        assert!(values.iter().all(|v| v.value == "6000".parse().unwrap()));
        assert_eq!(
            needs,
            vec![Need {
                event_id: 7,
                seq: 2,
                asset: "BNB".into(),
                amount: "-0.01".parse().unwrap(),
                time_ms: e.time_ms
            }]
        );
    }

    #[test]
    fn a_fiat_value_in_another_currency_or_a_crypto_trade_needs_the_markets_once() {
        let e = event(
            vec![leg(0, "sent", "ETH", "-2"), leg(1, "received", "BTC", "0.1"), leg(2, "fee", "BNB", "-0.01")],
            Some(("5500", "EUR")),
        );
        let mut split = Split::default();
        value_event(&e, "USD", &mut split);
        assert!(split.values.is_empty());
        assert_eq!(split.needs.len(), 3);
        let trade = Trade { event_id: 7, time_ms: e.time_ms, sent: (0, "ETH".into()), received: (1, "BTC".into()) };
        assert_eq!(split.trades, vec![trade]);
        // Two legs of one asset, or a side already valued: no trade to share a price.
        let mut one_side = e.clone();
        one_side.legs[0].valued = true;
        let same = event(vec![leg(0, "sent", "ETH", "-2"), leg(1, "received", "ETH", "1.9")], None);
        for e in [one_side, same] {
            let mut split = Split::default();
            value_event(&e, "USD", &mut split);
            assert!(split.trades.is_empty(), "{e:?}");
        }
    }

    #[test]
    fn fee_credits_are_worth_nothing_and_say_so() {
        let e = event(vec![leg(0, "received", "KFEE", "460")], None);
        let (values, needs) = split(&e);
        assert!(needs.is_empty());
        assert_eq!((values[0].value, values[0].source.as_str()), (Decimal::ZERO, "no_market"));
    }

    #[test]
    fn legs_already_valued_are_left_alone() {
        let mut e = event(vec![leg(0, "sent", "USD", "-10"), leg(1, "received", "XRP", "20")], None);
        e.legs[0].valued = true;
        let (values, needs) = split(&e);
        assert_eq!(values.len(), 1);
        assert_eq!((values[0].seq, values[0].price), (1, "0.5".parse().unwrap()));
        assert!(needs.is_empty());
    }
}
