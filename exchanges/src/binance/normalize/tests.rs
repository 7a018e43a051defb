use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

use super::*;
use crate::time::to_millis;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/binance/api");

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn sent(asset: &str, amount: &str) -> Leg {
    Leg::sent(asset, d(amount))
}

fn received(asset: &str, amount: &str) -> Leg {
    Leg::received(asset, d(amount))
}

fn fee(asset: &str, amount: &str) -> Leg {
    Leg::fee(asset, d(amount))
}

fn ev(id: &str, ms: i64, kind: EventKind, legs: Vec<Leg>) -> NewEvent {
    NewEvent::new(id, Utc.timestamp_millis_opt(ms).unwrap(), kind, legs)
}

fn fiat(amount: &str, currency: &str) -> Option<FiatValue> {
    Some(FiatValue { amount: d(amount), currency: currency.to_string() })
}

fn note(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// One fixture file: the stream it belongs to, its raw id, and the events it must give.
struct Case {
    file: &'static str,
    scope: &'static str,
    raw_id: &'static str,
    events: Vec<NewEvent>,
}

fn case(file: &'static str, scope: &'static str, raw_id: &'static str, events: Vec<NewEvent>) -> Case {
    Case { file, scope, raw_id, events }
}

fn endpoint_of(file: &str) -> &str {
    file.split_once('/').unwrap().0
}

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(file)).unwrap()
}

fn run(endpoint: &str, scope: &str, raw_id: &str, payload: &str) -> Result<Vec<NewEvent>, NormalizeError> {
    normalize(
        &Stream::new(endpoint, scope),
        &RawRecord { external_id: raw_id.to_string(), payload: payload.to_string() },
    )
}

fn run_case(c: &Case) -> Vec<NewEvent> {
    run(endpoint_of(c.file), c.scope, c.raw_id, &read(c.file)).unwrap_or_else(|e| panic!("{}: {e}", c.file))
}

/// Every fixture and what it gives, written out by hand from the contract.
fn cases() -> Vec<Case> {
    use EventKind::*;
    vec![
        // myTrades
        case(
            "myTrades/bnb_btc_buy_fee_in_bnb.json",
            "BNB/BTC",
            "28457",
            vec![ev(
                "trade:BNBBTC:28457",
                1499865549590,
                Trade,
                vec![sent("BTC", "48.000012"), received("BNB", "12"), fee("BNB", "10.1")],
            )],
        ),
        case(
            "myTrades/eth_btc_sell_fee_in_quote.json",
            "ETH/BTC",
            "163720",
            vec![ev(
                "trade:ETHBTC:163720",
                1515500000000,
                Trade,
                vec![sent("ETH", "0.5"), received("BTC", "0.0362705"), fee("BTC", "0.00003627")],
            )],
        ),
        case(
            "myTrades/eth_usdt_buy_fee_in_bnb_third_asset.json",
            "ETH/USDT",
            "412345678",
            vec![ev(
                "trade:ETHUSDT:412345678",
                1690000000000,
                Trade,
                vec![sent("USDT", "462.53"), received("ETH", "0.25"), fee("BNB", "0.0004121")],
            )],
        ),
        case(
            "myTrades/sol_usdt_sell_fee_in_other_asset.json",
            "SOL/USDT",
            "99887766",
            vec![ev(
                "trade:SOLUSDT:99887766",
                1712000000000,
                Trade,
                vec![sent("SOL", "3"), received("USDT", "427.05"), fee("FDUSD", "0.042705")],
            )],
        ),
        case(
            "myTrades/btc_eur_buy_fee_in_base.json",
            "BTC/EUR",
            "51234567",
            vec![NewEvent {
                fiat_value: fiat("270", "EUR"),
                ..ev(
                    "trade:BTCEUR:51234567",
                    1684000000000,
                    Trade,
                    vec![sent("EUR", "270"), received("BTC", "0.01"), fee("BTC", "0.00001")],
                )
            }],
        ),
        case(
            "myTrades/bcc_btc_sell_old_code_zero_fee.json",
            "BCC/BTC",
            "1204567",
            vec![ev("trade:BCCBTC:1204567", 1510000000000, Trade, vec![sent("BCH", "1"), received("BTC", "0.152")])],
        ),
        case(
            "myTrades/luna_busd_buy_before_rename.json",
            "LUNA/BUSD",
            "2345678",
            vec![ev(
                "trade:LUNABUSD:2345678",
                1624529919000,
                Trade,
                vec![sent("BUSD", "65"), received("LUNC", "10"), fee("LUNC", "0.01")],
            )],
        ),
        case(
            "myTrades/luna_usdt_buy_after_rename.json",
            "LUNA/USDT",
            "98765",
            vec![ev(
                "trade:LUNAUSDT:98765",
                1680000000000,
                Trade,
                vec![sent("USDT", "25"), received("LUNA", "20"), fee("LUNA", "0.02")],
            )],
        ),
        // deposits
        case(
            "deposits/credited.json",
            "",
            "769800519366885376",
            vec![NewEvent {
                tx_hash: note("98A3EA560C6B3336D348B6C83F0F95ECE4F1F5919E94BD006E5BF3BF264FACFC"),
                address: note("bnb136ns6lfw4zs5hg4n85vdthaad7hq5m4gtkgf23"),
                network: note("BNB"),
                note: note("memo 101764890"),
                ..ev("deposit:769800519366885376", 1661493146000, Deposit, vec![received("BNB", "0.001")])
            }],
        ),
        case(
            "deposits/credited_but_locked_status_6.json",
            "",
            "815328436812349441",
            vec![NewEvent {
                tx_hash: note("0x8d5c61d5e6f2c0c1b2c5d3f5a17a3ec0e2a0bb4d51e9f5e6fbc37f22bdbce4a1"),
                address: note("0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c"),
                network: note("ETH"),
                ..ev("deposit:815328436812349441", 1672531200000, Deposit, vec![received("ETH", "0.25")])
            }],
        ),
        case(
            "deposits/old_without_network.json",
            "",
            "301842110257356800",
            vec![NewEvent {
                tx_hash: note("4a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef"),
                address: note("LcHKx7dLZ8dxoGbQ2VdoknQ1NjKPWmuXjz"),
                ..ev("deposit:301842110257356800", 1520151330000, Deposit, vec![received("LTC", "1.5")])
            }],
        ),
        case(
            "deposits/internal_transfer.json",
            "",
            "4012345678901234567",
            vec![NewEvent {
                address: note("0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be"),
                network: note("BSC"),
                note: note("Internal transfer 12345678901"),
                ..ev("deposit:4012345678901234567", 1700041267000, Deposit, vec![received("USDT", "150")])
            }],
        ),
        case("deposits/pending_status_0.json", "", "900000000000000001", vec![]),
        case("deposits/rejected_status_2.json", "", "900000000000000002", vec![]),
        // withdrawals
        case(
            "withdrawals/completed.json",
            "",
            "b6ae22b3aa844210a7041aee7589627c",
            vec![NewEvent {
                tx_hash: note("0xb5ef8c13b968a406cc62a93a8bd80f9e9a906ef1b3fcf20a2e48573c17659268"),
                address: note("0x94df8b352de7f46f64b01d3666bf6e936e44ce60"),
                network: note("ETH"),
                ..ev(
                    "withdrawal:b6ae22b3aa844210a7041aee7589627c",
                    1570878722000,
                    Withdrawal,
                    vec![sent("USDT", "8.91"), fee("USDT", "0.004")],
                )
            }],
        ),
        case(
            "withdrawals/old_without_network.json",
            "",
            "7213fea8e94b4a5593d507237e5a555b",
            vec![NewEvent {
                tx_hash: note("a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d"),
                address: note("1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
                ..ev(
                    "withdrawal:7213fea8e94b4a5593d507237e5a555b",
                    1520151330000,
                    Withdrawal,
                    vec![sent("BTC", "0.05"), fee("BTC", "0.0005")],
                )
            }],
        ),
        case(
            "withdrawals/internal_transfer_no_fee.json",
            "",
            "2c9f8e1b7d6a4c3b9e0f1a2b3c4d5e6f",
            vec![NewEvent {
                address: note("0x28c6c06298d514db089934071355e5743bf21d60"),
                network: note("BSC"),
                note: note("Internal transfer 98765432109"),
                ..ev("withdrawal:2c9f8e1b7d6a4c3b9e0f1a2b3c4d5e6f", 1700041267000, Withdrawal, vec![sent("BNB", "2.5")])
            }],
        ),
        case("withdrawals/rejected_status_3.json", "", "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", vec![]),
        case("withdrawals/processing_status_4.json", "", "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d", vec![]),
        // fiatOrders
        case(
            "fiatOrders/deposit_successful.json",
            "deposit",
            "25ced37075c1470ba8939d0df2316e23",
            vec![NewEvent {
                note: note("BankAccount"),
                ..ev(
                    "fiat_order:25ced37075c1470ba8939d0df2316e23",
                    1626144956000,
                    FiatDeposit,
                    vec![received("EUR", "1000"), fee("EUR", "1.5")],
                )
            }],
        ),
        case(
            "fiatOrders/withdraw_finished.json",
            "withdraw",
            "3f1c0d9e2b9f4b57a9f4f2d5fa0d6e11",
            vec![NewEvent {
                note: note("BankAccount"),
                ..ev(
                    "fiat_order:3f1c0d9e2b9f4b57a9f4f2d5fa0d6e11",
                    1661990400000,
                    FiatWithdrawal,
                    vec![sent("EUR", "500"), fee("EUR", "1")],
                )
            }],
        ),
        case("fiatOrders/deposit_expired.json", "deposit", "7d76d611-0568-4f43-afb6-24cac7767365", vec![]),
        case("fiatOrders/deposit_processing.json", "deposit", "c4b5a6978899aabbccddeeff00112233", vec![]),
        case("fiatOrders/withdraw_refunded.json", "withdraw", "d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6", vec![]),
        // fiatPayments
        case(
            "fiatPayments/buy_credit_card.json",
            "buy",
            "a0b1c2d3e4f5061728394a5b6c7d8e9f",
            vec![
                NewEvent {
                    note: note("paid by Credit Card"),
                    ..ev(
                        "fiat_payment:a0b1c2d3e4f5061728394a5b6c7d8e9f:funding",
                        1675000000000,
                        FiatDeposit,
                        vec![received("EUR", "100")],
                    )
                },
                NewEvent {
                    note: note("Credit Card"),
                    fiat_value: fiat("98", "EUR"),
                    ..ev(
                        "fiat_payment:a0b1c2d3e4f5061728394a5b6c7d8e9f",
                        1675000000000,
                        Trade,
                        vec![sent("EUR", "98"), received("BTC", "0.00412345"), fee("EUR", "2")],
                    )
                },
            ],
        ),
        case(
            "fiatPayments/buy_cash_balance.json",
            "buy",
            "5f4e3d2c1b0a99887766554433221100",
            vec![NewEvent {
                note: note("Cash Balance"),
                fiat_value: fiat("49.5", "EUR"),
                ..ev(
                    "fiat_payment:5f4e3d2c1b0a99887766554433221100",
                    1690000000000,
                    Trade,
                    vec![sent("EUR", "49.5"), received("USDT", "53.21"), fee("EUR", "0.5")],
                )
            }],
        ),
        case("fiatPayments/buy_failed.json", "buy", "353fca443f06466db0c4dc89f94f027a", vec![]),
        case("fiatPayments/buy_refunded.json", "buy", "9a8b7c6d5e4f30211203f4e5d6c7b8a9", vec![]),
        case(
            "fiatPayments/sell_completed.json",
            "sell",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            vec![NewEvent {
                fiat_value: fiat("812.4", "EUR"),
                ..ev(
                    "fiat_payment:0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                    1700041267000,
                    Trade,
                    vec![sent("ETH", "0.5"), received("EUR", "812.4"), fee("EUR", "8.2")],
                )
            }],
        ),
        // convert
        case(
            "convert/success.json",
            "",
            "940708407462087195",
            vec![ev(
                "convert:940708407462087195",
                1624248872184,
                Trade,
                vec![sent("USDT", "20"), received("BNB", "0.06154036")],
            )],
        ),
        case(
            "convert/success_string_order_id_from_fiat.json",
            "",
            "1205436678341234567",
            vec![NewEvent {
                fiat_value: fiat("100", "EUR"),
                ..ev(
                    "convert:1205436678341234567",
                    1706788800000,
                    Trade,
                    vec![sent("EUR", "100"), received("BTC", "0.0025")],
                )
            }],
        ),
        case("convert/fail.json", "", "940708407462087196", vec![]),
        case("convert/process.json", "", "940708407462087197", vec![]),
        // dust
        case(
            "dust/two_details.json",
            "",
            "45178372831",
            vec![
                ev(
                    "dust:45178372831:USDT",
                    1615985535000,
                    Conversion,
                    vec![sent("USDT", "0.0009"), received("BNB", "0.00045"), fee("BNB", "0.000009")],
                ),
                ev(
                    "dust:45178372831:ETH",
                    1615985535000,
                    Conversion,
                    vec![sent("ETH", "0.0009"), received("BNB", "0.00089955"), fee("BNB", "0.00001799")],
                ),
            ],
        ),
        case(
            "dust/one_detail_luna_before_rename.json",
            "",
            "60512345678",
            vec![ev(
                "dust:60512345678:LUNA",
                1653033600000,
                Conversion,
                vec![sent("LUNC", "3512.77"), received("BNB", "0.00062483"), fee("BNB", "0.00001249")],
            )],
        ),
        // dividends
        case(
            "dividends/distribution_airdrop.json",
            "",
            "1637366104",
            vec![NewEvent {
                note: note("BHFT distribution"),
                ..ev("dividend:1637366104", 1563189166000, Airdrop, vec![received("BHFT", "10")])
            }],
        ),
        case(
            "dividends/eth2_staking.json",
            "",
            "1869244211",
            vec![NewEvent {
                note: note("ETH 2.0 Staking"),
                ..ev("dividend:1869244211", 1625097600000, Staking, vec![received("BETH", "0.00012345")])
            }],
        ),
        case(
            "dividends/locked_staking.json",
            "",
            "1901234567",
            vec![NewEvent {
                note: note("Locked Staking"),
                ..ev("dividend:1901234567", 1625097600000, Staking, vec![received("DOT", "0.045123")])
            }],
        ),
        case(
            "dividends/staking_upper_case.json",
            "",
            "1901234568",
            vec![NewEvent {
                note: note("STAKING"),
                ..ev("dividend:1901234568", 1625097600000, Staking, vec![received("ADA", "0.31")])
            }],
        ),
        case(
            "dividends/flexible_savings.json",
            "",
            "1801234567",
            vec![NewEvent {
                note: note("Flexible Savings"),
                ..ev("dividend:1801234567", 1612951200000, Interest, vec![received("USDT", "0.01234567")])
            }],
        ),
        case(
            "dividends/launchpool.json",
            "",
            "1801234568",
            vec![NewEvent {
                note: note("Launchpool"),
                ..ev("dividend:1801234568", 1612951200000, Interest, vec![received("AXS", "1.25")])
            }],
        ),
        case(
            "dividends/cash_voucher.json",
            "",
            "2001234567",
            vec![NewEvent {
                note: note("Cash Voucher"),
                ..ev("dividend:2001234567", 1661990400000, Rebate, vec![received("BUSD", "5")])
            }],
        ),
        case(
            "dividends/launchpad_other_income.json",
            "",
            "2001234568",
            vec![NewEvent {
                note: note("launchpad"),
                ..ev("dividend:2001234568", 1612951200000, Income, vec![received("SAND", "12")])
            }],
        ),
        case("dividends/zero_amount.json", "", "2001234569", vec![]),
        // Simple Earn
        case(
            "earnFlexible/realtime.json",
            "",
            "1577233562000:USDT:REALTIME:USDT001",
            vec![NewEvent {
                note: note("Simple Earn flexible, USDT001 REALTIME"),
                ..ev(
                    "earn_flexible:1577233562000:USDT:REALTIME:USDT001",
                    1577233562000,
                    Interest,
                    vec![received("USDT", "0.00687654")],
                )
            }],
        ),
        case(
            "earnFlexible/bonus.json",
            "",
            "1577233578000:BUSD:BONUS:USDT001",
            vec![NewEvent {
                note: note("Simple Earn flexible, USDT001 BONUS"),
                ..ev(
                    "earn_flexible:1577233578000:BUSD:BONUS:USDT001",
                    1577233578000,
                    Interest,
                    vec![received("BUSD", "0.00006408")],
                )
            }],
        ),
        case(
            "earnLocked/numeric_position_id.json",
            "",
            "1575018510000:BNB:Locked Rewards:123123",
            vec![NewEvent {
                note: note("Simple Earn locked, position 123123, Locked Rewards"),
                ..ev(
                    "earn_locked:1575018510000:BNB:Locked Rewards:123123",
                    1575018510000,
                    Staking,
                    vec![received("BNB", "21312.23223")],
                )
            }],
        ),
        case(
            "earnLocked/string_position_id.json",
            "",
            "1575018510000:BNB:Boost Rewards:123123",
            vec![NewEvent {
                note: note("Simple Earn locked, position 123123, Boost Rewards"),
                ..ev(
                    "earn_locked:1575018510000:BNB:Boost Rewards:123123",
                    1575018510000,
                    Staking,
                    vec![received("BNB", "1.23223")],
                )
            }],
        ),
    ]
}

fn fixture_files() -> Vec<String> {
    let mut files = Vec::new();
    let root = PathBuf::from(FIXTURES);
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            files.push(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
    files.sort();
    files
}

#[test]
fn every_fixture_gives_exactly_its_events() {
    for c in cases() {
        let got = run_case(&c);
        assert_eq!(got, c.events, "{}", c.file);
        for event in &got {
            assert!(event.legs.iter().all(|l| !l.amount.is_zero()), "{}: a zero leg", c.file);
        }
    }
}

#[test]
fn every_fixture_file_has_a_case() {
    let listed: Vec<String> = {
        let mut v: Vec<String> = cases().iter().map(|c| c.file.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(fixture_files(), listed);
}

#[test]
fn normalising_again_gives_the_same_events() {
    for c in cases() {
        assert_eq!(run_case(&c), run_case(&c), "{}", c.file);
    }
}

#[test]
fn event_ids_are_unique_across_fixtures() {
    let mut seen = std::collections::BTreeSet::new();
    for c in cases() {
        for event in run_case(&c) {
            assert!(seen.insert(event.external_id.clone()), "{} twice", event.external_id);
        }
    }
}

/// The balance effect of one record, computed straight from the contract's words
/// (binance-semantics.md, "Balance effects") on the untyped JSON.
fn contract_effect(endpoint: &str, scope: &str, v: &Value) -> BTreeMap<String, Decimal> {
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    let n = |k: &str| d(v[k].as_str().unwrap());
    let t = |k: &str| v[k].as_i64().unwrap();
    let mut effect: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut add = |code: &str, time: i64, amount: Decimal| {
        *effect.entry(asset(code, time)).or_default() += amount;
    };
    match endpoint {
        "myTrades" => {
            let (base, quote) = scope.split_once('/').unwrap();
            let sign = if v["isBuyer"].as_bool().unwrap() { Decimal::ONE } else { -Decimal::ONE };
            add(base, t("time"), sign * n("qty"));
            add(quote, t("time"), -sign * n("quoteQty"));
            add(&s("commissionAsset"), t("time"), -n("commission"));
        }
        "deposits" if matches!(v["status"].as_i64(), Some(1 | 6)) => add(&s("coin"), t("insertTime"), n("amount")),
        "withdrawals" if v["status"].as_i64() == Some(6) => {
            let time = to_millis(parse_utc(&s("applyTime")).unwrap());
            add(&s("coin"), time, -(n("amount") + n("transactionFee")));
        }
        "fiatOrders" if matches!(s("status").as_str(), "Successful" | "Finished") => {
            let gross = if scope == "deposit" { n("amount") } else { -n("amount") };
            add(&s("fiatCurrency"), t("createTime"), gross - n("totalFee"));
        }
        "fiatPayments" if s("status") == "Completed" => {
            let time = t("createTime");
            if scope == "buy" {
                add(&s("cryptoCurrency"), time, n("obtainAmount"));
                let from_cash = v["paymentMethod"].as_str() == Some("Cash Balance");
                if from_cash {
                    add(&s("fiatCurrency"), time, -n("sourceAmount"));
                }
            } else {
                add(&s("cryptoCurrency"), time, -n("sourceAmount"));
                add(&s("fiatCurrency"), time, n("obtainAmount") - n("totalFee"));
            }
        }
        "convert" if s("orderStatus") == "SUCCESS" => {
            add(&s("fromAsset"), t("createTime"), -n("fromAmount"));
            add(&s("toAsset"), t("createTime"), n("toAmount"));
        }
        "dust" => {
            for detail in v["userAssetDribbletDetails"].as_array().unwrap() {
                let time = detail["operateTime"].as_i64().unwrap();
                add(detail["fromAsset"].as_str().unwrap(), time, -d(detail["amount"].as_str().unwrap()));
                add("BNB", time, d(detail["transferedAmount"].as_str().unwrap()));
            }
        }
        "dividends" => add(&s("asset"), t("divTime"), n("amount")),
        "earnFlexible" => add(&s("asset"), t("time"), n("rewards")),
        "earnLocked" => add(&s("asset"), t("time"), n("amount")),
        _ => {}
    }
    effect.retain(|_, amount| !amount.is_zero());
    effect
}

#[test]
fn legs_sum_to_the_contracts_balance_effect_for_every_fixture() {
    for c in cases() {
        let value: Value = serde_json::from_str(&read(c.file)).unwrap();
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for event in run_case(&c) {
            for leg in event.legs {
                *sums.entry(leg.asset).or_default() += leg.amount;
            }
        }
        sums.retain(|_, amount| !amount.is_zero());
        assert_eq!(sums, contract_effect(endpoint_of(c.file), c.scope, &value), "{}", c.file);
    }
}

#[test]
fn legs_come_sent_received_fee_with_their_signs() {
    for c in cases() {
        for event in run_case(&c) {
            let roles: Vec<_> = event.legs.iter().map(|l| l.role).collect();
            let mut sorted = roles.clone();
            sorted.sort();
            assert_eq!(roles, sorted, "{}", event.external_id);
            for leg in &event.legs {
                let positive = leg.amount > Decimal::ZERO;
                assert_eq!(positive, leg.role == crate::event::LegRole::Received, "{}", event.external_id);
            }
        }
    }
}

// ---- bad records ---------------------------------------------------------------------

const TRADE: &str = r#"{"symbol":"BNBBTC","id":28457,"orderId":100234,"price":"4.00000100","qty":"12.00000000",
    "quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,
    "isBuyer":true,"isMaker":false}"#;

fn trade_error(payload: &str, scope: &str) -> NormalizeError {
    run("myTrades", scope, "28457", payload).unwrap_err()
}

#[test]
fn a_missing_field_is_named() {
    let e = trade_error(&TRADE.replace(r#""qty":"12.00000000","#, ""), "BNB/BTC");
    assert!(e.reason.contains("`qty`"), "{e}");
    assert_eq!(e.endpoint, "myTrades");
    assert_eq!(e.external_id, "28457");
    assert!(e.to_string().starts_with("myTrades record 28457: "), "{e}");
}

#[test]
fn an_amount_that_is_not_a_plain_decimal_is_named() {
    let e = trade_error(&TRADE.replace("12.00000000", "1,5"), "BNB/BTC");
    assert!(e.reason.contains("`qty`") && e.reason.contains("1,5"), "{e}");
    let e = trade_error(&TRADE.replace("10.10000000", "-1"), "BNB/BTC");
    assert!(e.reason.contains("`commission`") && e.reason.contains("negative"), "{e}");
}

#[test]
fn a_field_of_the_wrong_type_is_named() {
    let e = trade_error(&TRADE.replace(r#""12.00000000""#, "12.0"), "BNB/BTC");
    assert!(e.reason.contains("field `qty`"), "{e}");
    let e = trade_error(&TRADE.replace("true", r#""yes""#), "BNB/BTC");
    assert!(e.reason.contains("field `isBuyer`"), "{e}");
    let e = trade_error(&TRADE.replace("28457", "28457.5"), "BNB/BTC");
    assert!(e.reason.contains("field `id`"), "{e}");
    let deposit = read("deposits/credited.json").replace(r#""status": 1"#, r#""status": "1""#);
    let e = run("deposits", "", "769800519366885376", &deposit).unwrap_err();
    assert!(e.reason.contains("field `status`"), "{e}");
    let dust = read("dust/two_details.json").replace(r#""amount": "0.0009""#, r#""amount": 0.0009"#);
    let e = run("dust", "", "45178372831", &dust).unwrap_err();
    assert!(e.reason.contains("field `amount`"), "{e}");
}

#[test]
fn a_symbol_other_than_the_streams_pair_is_refused() {
    let e = trade_error(TRADE, "ETH/BTC");
    assert!(e.reason.contains("`symbol`") && e.reason.contains("BNBBTC") && e.reason.contains("ETH/BTC"), "{e}");
    let e = trade_error(TRADE, "BNBBTC");
    assert!(e.reason.contains("BASE/QUOTE"), "{e}");
}

#[test]
fn unknown_endpoints_scopes_and_statuses_are_errors() {
    let e = run("futuresIncome", "", "1", TRADE).unwrap_err();
    assert!(e.reason.contains("futuresIncome"), "{e}");
    let order = read("fiatOrders/deposit_successful.json");
    assert!(run("fiatOrders", "", "x", &order).unwrap_err().reason.contains("scope"));
    let payment = read("fiatPayments/buy_credit_card.json");
    assert!(run("fiatPayments", "deposit", "x", &payment).unwrap_err().reason.contains("scope"));
    let deposit = read("deposits/credited.json").replace(r#""status": 1"#, r#""status": 9"#);
    assert!(run("deposits", "", "x", &deposit).unwrap_err().reason.contains("status 9"));
    let withdrawal = read("withdrawals/completed.json").replace(r#""status": 6"#, r#""status": 7"#);
    assert!(run("withdrawals", "", "x", &withdrawal).unwrap_err().reason.contains("status 7"));
    let convert = read("convert/success.json").replace("SUCCESS", "EXPIRED");
    assert!(run("convert", "", "x", &convert).unwrap_err().reason.contains("EXPIRED"));
    let payment = payment.replace("Completed", "Chargeback");
    assert!(run("fiatPayments", "buy", "x", &payment).unwrap_err().reason.contains("Chargeback"));
}

#[test]
fn other_malformed_records_are_errors() {
    assert!(run("myTrades", "BNB/BTC", "1", "not json").is_err());
    assert!(run("myTrades", "BNB/BTC", "1", "[1,2]").is_err());
    let withdrawal = read("withdrawals/completed.json").replace("2019-10-12 11:12:02", "12/10/2019");
    let e = run("withdrawals", "", "x", &withdrawal).unwrap_err();
    assert!(e.reason.contains("`applyTime`"), "{e}");
    let e = trade_error(&TRADE.replace("1499865549590", "-5"), "BNB/BTC");
    assert!(e.reason.contains("`time`"), "{e}");
    let e = trade_error(&TRADE.replace(r#""BNB","time""#, r#""B N B","time""#), "BNB/BTC");
    assert!(e.reason.contains("`commissionAsset`"), "{e}");
    let payment = read("fiatPayments/buy_credit_card.json").replace(r#""2.00""#, r#""200.00""#);
    let e = run("fiatPayments", "buy", "x", &payment).unwrap_err();
    assert!(e.reason.contains("`totalFee`"), "{e}");
    let dust = read("dust/two_details.json").replace(r#""ETH""#, r#""USDT""#);
    let e = run("dust", "", "45178372831", &dust).unwrap_err();
    assert!(e.reason.contains("twice"), "{e}");
    let empty = r#"{"operateTime":1615985535000,"transId":1,"userAssetDribbletDetails":[]}"#;
    assert!(run("dust", "", "1", empty).unwrap_err().reason.contains("userAssetDribbletDetails"));
}

#[test]
fn fields_binance_adds_later_are_ignored() {
    let with_more = TRADE.replace(r#""isMaker":false"#, r#""isMaker":false,"newThing":{"a":[1,"x"]},"z":null"#);
    assert_eq!(
        run("myTrades", "BNB/BTC", "28457", &with_more).unwrap(),
        run("myTrades", "BNB/BTC", "28457", TRADE).unwrap()
    );
}

#[test]
fn a_numeric_or_text_position_id_gives_the_same_id() {
    let numeric = read("earnLocked/numeric_position_id.json");
    let text = numeric.replace(r#""positionId": 123123"#, r#""positionId": "123123""#);
    assert_ne!(numeric, text);
    assert_eq!(run("earnLocked", "", "x", &numeric).unwrap(), run("earnLocked", "", "x", &text).unwrap());
}

#[test]
fn dividend_kinds_follow_the_contracts_word_lists() {
    use EventKind::*;
    for (info, kind) in [
        ("ETH 2.0 Staking", Staking),
        ("Locked Staking", Staking),
        ("STAKING", Staking),
        ("BNB Vault", Interest),
        ("Flexible", Interest),
        ("Locked Savings", Interest),
        ("Earn Rewards", Interest),
        ("Savings Trail Fund", Interest),
        ("Launchpool", Interest),
        ("SOLO airdrop", Airdrop),
        ("BHFT distribution", Airdrop),
        ("Cash Voucher", Rebate),
        ("Commission Rebate", Rebate),
        ("launchpad", Income),
        ("", Income),
    ] {
        assert_eq!(dividend_kind(info), kind, "{info}");
    }
}

#[test]
fn the_field_finder_reads_keys_before_the_error() {
    let text = r#"{"a": "1:2", "qty" : 12.5}"#;
    assert_eq!(field_at(text, 1, text.len() - 1).as_deref(), Some("qty"));
    let text = "{\n  \"x\": 1,\n  \"when\": \"10:20\"\n}";
    assert_eq!(field_at(text, 3, 17).as_deref(), Some("when"));
    assert_eq!(field_at("[1, 2]", 1, 3), None);
}

/// The second row of a self-trade (raw key `ID:buyer` / `ID:seller`) is its own event; the
/// first keeps `trade:SYMBOL:ID`, as every fill did before, whichever side it is.
#[test]
fn the_second_side_of_a_self_trade_is_its_own_event() {
    let payload = |is_buyer: bool| {
        format!(
            r#"{{"symbol":"BNBBTC","id":28457,"orderId":100234,"orderListId":-1,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","commission":"0.00100000","commissionAsset":"BTC","time":1499865549590,"isBuyer":{is_buyer},"isMaker":true,"isBestMatch":true}}"#
        )
    };
    let stream = Stream::new("myTrades", "BNB/BTC");
    let key = |external_id: &str, is_buyer: bool| {
        let record = RawRecord { external_id: external_id.to_string(), payload: payload(is_buyer) };
        normalize(&stream, &record).unwrap()[0].external_id.clone()
    };
    assert_eq!(key("28457", true), "trade:BNBBTC:28457");
    assert_eq!(key("28457", false), "trade:BNBBTC:28457");
    assert_eq!(key("28457:seller", false), "trade:BNBBTC:28457:seller");
    assert_eq!(key("28457:buyer", true), "trade:BNBBTC:28457:buyer");
    // A key whose side is not the row's own is read as the plain id.
    assert_eq!(key("28457:buyer", false), "trade:BNBBTC:28457");
}
