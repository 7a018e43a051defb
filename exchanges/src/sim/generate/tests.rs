use super::*;

#[test]
fn the_same_seed_gives_the_same_history_and_another_seed_another() {
    let first = generate(42, &Profile::demo());
    let again = generate(42, &Profile::demo());
    assert_eq!(first.history, again.history);
    assert_eq!(first.market, again.market);
    let other = generate(43, &Profile::demo());
    assert_ne!(first.history, other.history);
}

#[test]
fn no_balance_is_ever_negative() {
    for seed in [1, 2, 3, 99] {
        let world = generate(seed, &Profile::demo());
        let mut balances: BTreeMap<String, Decimal> = BTreeMap::new();
        for activity in world.history.account(BINANCE) {
            for (asset, delta) in activity.effects() {
                let balance = balances.entry(asset.clone()).or_insert(Decimal::ZERO);
                *balance += delta;
                assert!(*balance >= Decimal::ZERO, "seed {seed}: {asset} negative after {activity:?}");
            }
        }
        assert_eq!(balances, world.history.balances(BINANCE));
        assert_eq!(balances, world.person.balances);
    }
}

#[test]
fn demo_profile_has_every_kind_within_its_dates() {
    let profile = Profile::demo();
    let world = generate(7, &profile);
    let binance = world.history.account(BINANCE);
    let count = |matches: fn(&Activity) -> bool| binance.iter().filter(|a| matches(a)).count();
    assert_eq!(count(|a| matches!(a, Activity::Trade { .. })), 300);
    let transfers = count(|a| {
        matches!(
            a,
            Activity::Deposit { outcome: Outcome::Completed, .. }
                | Activity::Withdrawal { outcome: Outcome::Completed, .. }
        )
    });
    assert!((38..=46).contains(&transfers), "{transfers} transfers");
    assert!(count(|a| matches!(a, Activity::Withdrawal { outcome: Outcome::Completed, .. })) >= 5);
    assert!(count(|a| matches!(a, Activity::FiatDeposit { currency, .. } if currency == "USD")) >= 1);
    assert!(count(|a| matches!(a, Activity::FiatWithdrawal { .. })) >= 1);
    assert!(count(|a| matches!(a, Activity::CardBuy { method: PayMethod::CreditCard, .. })) >= 1);
    assert!(count(|a| matches!(a, Activity::Convert { outcome: Outcome::Completed, .. })) >= 5);
    assert!(count(|a| matches!(a, Activity::Dust { .. })) >= 2);
    assert!(count(|a| matches!(a, Activity::Reward { channel: RewardChannel::Distribution, .. })) == 24);
    assert!(
        count(
            |a| matches!(a, Activity::Trade { fee_asset, base, quote, .. } if fee_asset == "BNB" && base != "BNB" && quote != "BNB")
        ) > 10
    );
    assert!(
        count(
            |a| matches!(a, Activity::Trade { fee_asset, base, quote, .. } if fee_asset != "BNB" && fee_asset != base && fee_asset != quote)
        ) >= 1
    );
    let delisted = world.market.pairs().iter().find(|pair| pair.delisted_ms.is_some()).unwrap();
    let on_delisted: Vec<i64> = binance
        .iter()
        .filter_map(|a| match a {
            Activity::Trade { base, quote, time_ms, .. } if *base == delisted.base && *quote == delisted.quote => {
                Some(*time_ms)
            }
            _ => None,
        })
        .collect();
    assert!(!on_delisted.is_empty());
    assert!(on_delisted.iter().all(|time| *time < delisted.delisted_ms.unwrap()));
    assert!(world.market.pairs().iter().any(|pair| !pair.traded));
    for activity in binance {
        assert!((profile.start_ms..=profile.end_ms).contains(&activity.time_ms()), "{activity:?}");
    }
    let kinds: BTreeSet<RewardKind> = binance
        .iter()
        .filter_map(|a| match a {
            Activity::Reward { kind, channel: RewardChannel::Distribution, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert!(kinds.len() >= 3, "{kinds:?}");
}

#[test]
fn transfers_between_accounts_share_the_tx_hash() {
    let world = generate(5, &Profile::demo());
    let external_hashes: BTreeSet<&str> = world
        .history
        .account(EXTERNAL_WALLET)
        .iter()
        .filter_map(|a| match a {
            Activity::Deposit { tx_hash, .. } | Activity::Withdrawal { tx_hash, .. } => Some(tx_hash.as_str()),
            _ => None,
        })
        .collect();
    let mut matched = 0;
    for activity in world.history.account(BINANCE) {
        if let Activity::Deposit { tx_hash, outcome: Outcome::Completed, .. }
        | Activity::Withdrawal { tx_hash, outcome: Outcome::Completed, .. } = activity
        {
            assert!(external_hashes.contains(tx_hash.as_str()), "{activity:?}");
            matched += 1;
        }
    }
    assert!(matched >= 38);
}

#[test]
fn trade_amounts_are_exact_and_within_eight_places() {
    let world = generate(11, &Profile::demo());
    for activity in world.history.account(BINANCE) {
        if let Activity::Trade { qty, price, quote_qty, fee, .. } = activity {
            assert_eq!(*quote_qty, price * qty);
            assert!(quote_qty.scale() <= 8 && fee.scale() <= 8 && qty > &Decimal::ZERO, "{activity:?}");
        }
    }
    for (asset, balance) in world.history.balances(BINANCE) {
        assert!(balance.scale() <= 8, "{asset} {balance}");
    }
}

#[test]
fn market_prices_are_deterministic_and_exact() {
    let world = generate(3, &Profile::demo());
    let start = Profile::demo().start_ms;
    let btc = world.market.price("BTC", "USDT", PRICE_HISTORY_START_MS).unwrap();
    assert_eq!(btc, Decimal::new(1_660_000, 2));
    assert_eq!(world.market.price("USDT", "USDT", start + DAY_MS), Some(Decimal::ONE));
    assert!(world.market.price("BTC", "USDT", PRICE_HISTORY_START_MS - 1).is_none());
    assert!(world.market.price("BTC", "USDT", start - 1).is_some());
    assert!(world.market.price("NOPE", "USDT", start).is_none());
    let later = world.market.price("ETH", "BTC", start + 400 * DAY_MS).unwrap();
    assert!(later > Decimal::ZERO && later.scale() <= 8);
    // Prices go on after the history, then the last one holds.
    let end = Profile::demo().end_ms + MARKET_TAIL_MS;
    assert_ne!(world.market.usd("BTC", end - 20 * DAY_MS), world.market.usd("BTC", end - 10 * DAY_MS));
    assert_eq!(world.market.usd("BTC", end + 10 * DAY_MS), world.market.usd("BTC", end + 20 * DAY_MS));
}

#[test]
fn added_trades_keep_balances_whole() {
    let mut world = generate(8, &Profile::demo());
    let now = Profile::demo().end_ms + 30 * DAY_MS;
    let added = world.add_trades(50, now);
    assert_eq!(added.len(), 50);
    let balances = world.history.balances(BINANCE);
    assert!(balances.values().all(|balance| *balance >= Decimal::ZERO));
    assert_eq!(balances, world.person.balances);
}

#[test]
fn the_market_starts_in_2020_and_is_the_same_in_every_profile() {
    let demo = generate(4, &Profile::demo());
    let shorter = Profile { end_ms: Profile::demo().end_ms - 200 * DAY_MS, trades: 20, ..Profile::demo() };
    let other = generate(4, &shorter);
    assert_eq!(demo.market.start_ms(), PRICE_HISTORY_START_MS);
    let mut time = PRICE_HISTORY_START_MS;
    while time < shorter.end_ms {
        for asset in ["BTC", "USDT", "EUR", "ARB", "SOLO"] {
            assert_eq!(demo.market.usd(asset, time), other.market.usd(asset, time), "{asset} at {time}");
        }
        time += 7 * DAY_MS + 123_456;
    }
    assert_ne!(generate(5, &shorter).market.usd("BTC", shorter.end_ms), other.market.usd("BTC", shorter.end_ms));
    for asset in ["ARB", "GRT", "USDC", "SOLO", "XTZ", "GBP", "CAD", "AUD", "EUR", "TRY"] {
        assert!(demo.market.usd(asset, PRICE_HISTORY_START_MS).is_some(), "{asset}");
        assert!(demo.market.price(asset, "USD", Profile::demo().end_ms + DAY_MS).is_some(), "{asset}");
    }
    assert_eq!(demo.market.usd("GBP", PRICE_HISTORY_START_MS), Some(Decimal::new(127, 2)));
}

#[test]
fn usd_is_one_and_stablecoins_wobble_within_half_a_percent() {
    let world = generate(6, &Profile::demo());
    let (low, high) = (Decimal::new(995, 3), Decimal::new(1_005, 3));
    for asset in ["USDT", "USDC"] {
        let mut seen = BTreeSet::new();
        let mut time = PRICE_HISTORY_START_MS;
        while time < Profile::demo().end_ms + MARKET_TAIL_MS {
            let price = world.market.usd(asset, time).unwrap();
            assert!(price >= low && price <= high, "{asset} {price} at {time}");
            seen.insert(price);
            assert_eq!(world.market.usd("USD", time), Some(Decimal::ONE));
            time += 5 * HOUR_MS + 17 * 60_000;
        }
        assert!(seen.len() > 1_000, "{asset} barely moves: {} prices", seen.len());
    }
}

#[test]
fn ohlc_spans_the_minutes_of_the_candle() {
    let world = generate(2, &Profile::demo());
    let open = 1_709_373_600_000 + 7 * 60_000; // 2024-03-02T10:07:00Z
    for (asset, quote, length) in [("ETH", "BTC", DAY_MS), ("BTC", "USDT", HOUR_MS), ("SOL", "GBP", 4 * HOUR_MS)] {
        let ohlc = world.market.ohlc(asset, quote, open, length).unwrap();
        let minutes: Vec<Decimal> = (0..length / 60_000)
            .map(|minute| world.market.price(asset, quote, open + minute * 60_000).unwrap())
            .collect();
        let (max, min) = (*minutes.iter().max().unwrap(), *minutes.iter().min().unwrap());
        assert_eq!((ohlc.open, ohlc.close), (minutes[0], *minutes.last().unwrap()));
        if length <= HOUR_MS {
            assert_eq!((ohlc.high, ohlc.low), (max, min), "{asset}{quote}");
        } else {
            // Within one step of the last decimal place.
            let unit = Decimal::new(1, max.scale().max(min.scale()));
            assert!(ohlc.high <= max && max - ohlc.high <= unit, "{asset}{quote} high {} of {max}", ohlc.high);
            assert!(ohlc.low >= min && ohlc.low - min <= unit, "{asset}{quote} low {} of {min}", ohlc.low);
        }
    }
    let minute = world.market.ohlc("BTC", "USD", open, 60_000).unwrap();
    assert!(minute.open == minute.high && minute.high == minute.low && minute.low == minute.close);
    assert!(world.market.ohlc("BTC", "USD", PRICE_HISTORY_START_MS - 60_000, 60_000).is_none());
}
