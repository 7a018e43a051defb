//! Keys go only where they belong: the hosts `account add` accepts, the origin each key is
//! bound to in the credentials file (a tampered ledger or environment override is refused with
//! nothing sent), redirects never followed, and permissions that fail closed.

mod common;

use std::sync::Arc;

use cointally_exchanges::sim::server::{Handler, Request, Response, Server};
use common::{Run, Sandbox};

/// Binance's demo key, as its simulator accepts it.
fn binance_key() -> cointally_exchanges::binance::sim::SimKey {
    cointally_exchanges::binance::sim::SimKey::demo()
}

/// A server answering every request with `answer`; [`Server::requests`] counts what it got.
struct Scripted(Box<dyn Fn(&Request) -> Response + Send + Sync>);

impl Handler for Scripted {
    fn handle(&self, request: &Request) -> Response {
        (self.0)(request)
    }
}

fn serve(answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
    Server::start(0, Arc::new(Scripted(Box::new(answer))), None).expect("a local server starts")
}

/// A listener that answers `{}` to anything and counts what reaches it.
fn counting_listener() -> Server {
    serve(|_| Response::json(200, "{}"))
}

fn assert_no_secret(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "a secret leaked:\n{}", run.stderr);
    }
}

fn accounts(sb: &Sandbox) -> serde_json::Value {
    sb.ok(&["--json", "account", "list"]).json()
}

#[test]
fn account_add_takes_production_loopback_or_an_allowed_https_host_only() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let env_key = ["--key-env", "BN_KEY", "--secret-env", "BN_SECRET"];
    let add = |label: &str, extra: &[&str]| {
        let mut args = vec!["account", "add", "binance", "--label", label];
        args.extend_from_slice(&env_key);
        args.extend_from_slice(extra);
        sb.run(&args)
    };

    // Plain http to another machine: refused whatever the flags.
    for url in ["http://10.1.2.3:8080", "http://api.binance.com", "http://127.0.0.1.example.com"] {
        let run = add("a", &["--base-url", url, "--allow-custom-host"]);
        assert_eq!(run.code, 2, "{url}: {}", run.stderr);
        assert!(run.stderr.contains("plain http://"), "{}", run.stderr);
    }
    // A host other than the exchange's: only with --allow-custom-host.
    let run = add("a", &["--base-url", "https://exchange.invalid/api"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("https://exchange.invalid") && run.stderr.contains("--allow-custom-host"),
        "{}",
        run.stderr
    );
    // The same rules for the environment override.
    sb.set_env("COINTALLY_BINANCE_BASE_URL", "http://192.168.1.20");
    let run = add("a", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("http://192.168.1.20"), "{}", run.stderr);
    assert_eq!(accounts(&sb), serde_json::json!([]));

    // Loopback needs no flag; an allowed custom host is named at add and at every sync.
    sb.ok(&[
        "account",
        "add",
        "binance",
        "--label",
        "local",
        "--base-url",
        "http://localhost:9",
        "--key-env",
        "X",
        "--secret-env",
        "Y",
    ]);
    let run = add("custom", &["--base-url", "https://exchange.invalid/api", "--allow-custom-host"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning:") && run.stderr.contains("https://exchange.invalid"), "{}", run.stderr);
    let credentials = std::fs::read_to_string(sb.credentials()).unwrap();
    assert!(credentials.contains("bound_to = \"https://exchange.invalid\""), "{credentials}");
    assert!(credentials.contains("bound_to = \"http://localhost:9\""), "{credentials}");
    assert!(!credentials.contains("secret"), "an environment account stores no secret:\n{credentials}");
    sb.set_env("BN_KEY", "key-that-must-not-show");
    sb.set_env("BN_SECRET", "secret-that-must-not-show");
    let run = sb.run(&["sync", "--account", "custom"]);
    assert_eq!(run.code, 3, "the host does not exist: {}", run.stderr);
    assert!(
        run.stderr.contains("warning: account custom") && run.stderr.contains("https://exchange.invalid"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run, &["key-that-must-not-show", "secret-that-must-not-show"]);
}

#[test]
fn a_tampered_ledger_base_url_is_refused_and_nothing_reaches_it() {
    let sb = Sandbox::new();
    let sim = sb.binance_simulator(&binance_key().api_key, &binance_key().secret);
    let elsewhere = counting_listener();
    let key = binance_key();
    let input = format!("{}\n{}\n", key.api_key, key.secret);
    sb.ok(&["init"]);
    let add =
        sb.run_with_input(&["account", "add", "binance", "--label", "main", "--base-url", &sim.base_url()], &input);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let credentials = std::fs::read_to_string(sb.credentials()).unwrap();
    assert!(credentials.contains(&format!("bound_to = \"{}\"", sim.base_url())), "{credentials}");

    // Someone edits the ledger (the file handed to an accountant) to point elsewhere.
    let set_base_url = |url: &str| {
        let db = rusqlite::Connection::open(sb.ledger()).unwrap();
        db.execute("UPDATE accounts SET base_url = ?1 WHERE label = 'main'", [url]).unwrap();
    };
    for url in [elsewhere.base_url(), format!("{}/api", elsewhere.base_url()), "https://exchange.invalid".to_owned()] {
        set_base_url(&url);
        for command in [&["sync"][..], &["account", "check", "main"]] {
            let run = sb.run(command);
            assert_eq!(run.code, 2, "{command:?} {url}: {}", run.stderr);
            assert!(run.stderr.contains(&format!("bound to {}", sim.base_url())), "{}", run.stderr);
            assert!(
                run.stderr.contains("the ledger's base URL") && run.stderr.contains("nothing was sent"),
                "{}",
                run.stderr
            );
            assert!(run.stderr.contains("hint:") && run.stderr.contains("account bind main"), "{}", run.stderr);
            assert_no_secret(&run, &[&key.api_key, &key.secret]);
        }
    }
    assert_eq!(elsewhere.requests(), 0, "the key's requests reached the other host");

    // The URL put back, the account works again; an environment override is held to the same rule.
    set_base_url(&sim.base_url());
    sb.ok(&["account", "check", "main"]);
    sb.set_env("ENV_KEY", &key.api_key);
    sb.set_env("ENV_SECRET", &key.secret);
    sb.ok(&["account", "add", "binance", "--label", "envy", "--key-env", "ENV_KEY", "--secret-env", "ENV_SECRET"]);
    sb.set_env("COINTALLY_BINANCE_BASE_URL", &elsewhere.base_url());
    let run = sb.run(&["sync", "--account", "envy"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("$COINTALLY_BINANCE_BASE_URL"), "{}", run.stderr);
    assert_eq!(elsewhere.requests(), 0);

    // Moving an account on purpose: `account bind` after the change, then the key goes there.
    set_base_url(&elsewhere.base_url());
    let bind = sb.ok(&["account", "bind", "main"]);
    assert!(bind.stdout.contains(&elsewhere.base_url()), "{}", bind.stdout);
    let _ = sb.run(&["account", "check", "main"]);
    assert!(elsewhere.requests() > 0);
}

#[test]
fn a_key_stored_before_bindings_existed_is_bound_to_production() {
    let sb = Sandbox::new();
    let key = binance_key();
    let sim = sb.binance_simulator(&key.api_key, &key.secret);
    sb.ok(&["init"]);
    let input = format!("{}\n{}\n", key.api_key, key.secret);
    let add =
        sb.run_with_input(&["account", "add", "binance", "--label", "main", "--base-url", &sim.base_url()], &input);
    assert_eq!(add.code, 0, "{}", add.stderr);
    // What the previous version wrote: the same entry without `bound_to`.
    let path = sb.credentials();
    let old: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("bound_to"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, old).unwrap();
    let before = sim.stats().requests;
    let run = sb.run(&["sync"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bound to https://api.binance.com"), "{}", run.stderr);
    assert_eq!(sim.stats().requests, before, "nothing was sent");
    sb.ok(&["account", "bind", "main"]);
    sb.ok(&["account", "check", "main"]);
}

/// Every exchange's key check against a server that redirects to `elsewhere`.
fn add_against_a_redirect(exchange: &str, key: &str, secret: &str) {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let elsewhere = counting_listener();
    let target = format!("{}/collect", elsewhere.base_url());
    let redirect = serve(move |_| Response::json(302, "").with_header("Location", target.clone()));
    let input = format!("{key}\n{secret}\n");
    let run =
        sb.run_with_input(&["account", "add", exchange, "--label", "x", "--base-url", &redirect.base_url()], &input);
    assert_eq!(run.code, 3, "{exchange}: {}", run.stderr);
    assert!(
        run.stderr.contains(&elsewhere.base_url()) && run.stderr.contains("never follows redirects"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("/collect"), "{}", run.stderr);
    assert!(redirect.requests() >= 1);
    assert_eq!(elsewhere.requests(), 0, "{exchange}: a request (and its key header) followed the redirect");
    assert_no_secret(&run, &[key, secret]);
    assert_eq!(accounts(&sb), serde_json::json!([]));
}

#[test]
fn a_redirect_to_another_host_is_refused_without_the_key_reaching_it() {
    let binance = binance_key();
    add_against_a_redirect("binance", &binance.api_key, &binance.secret);
    let kraken = cointally_exchanges::kraken::sim::SimKey::demo();
    add_against_a_redirect("kraken", &kraken.api_key, &kraken.secret);
    let coinbase = cointally_exchanges::coinbase::sim::SimKey::demo();
    add_against_a_redirect("coinbase", &coinbase.key_name, &coinbase.private_key);
}

/// A server that answers the permission check of `exchange` with `permissions` (and the
/// server time Binance's client may ask first).
fn permissions_server(permissions: &'static str) -> Server {
    serve(move |request| match request.path.as_str() {
        "/api/v3/time" => Response::json(200, format!("{{\"serverTime\":{}}}", chrono::Utc::now().timestamp_millis())),
        "/sapi/v1/account/apiRestrictions" | "/api/v3/brokerage/key_permissions" => Response::json(200, permissions),
        "/api/v3/brokerage/portfolios" => Response::json(200, "{\"portfolios\":[]}"),
        _ => Response::json(404, "{}"),
    })
}

fn withdraw_field_missing_is_refused(exchange: &str, key: &str, secret: &str, permissions: &'static str) {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let server = permissions_server(permissions);
    let input = format!("{key}\n{secret}\n");
    let args = ["account", "add", exchange, "--label", "x", "--base-url", &server.base_url()];
    let run = sb.run_with_input(&args, &input);
    assert_eq!(run.code, 2, "{exchange}: {}", run.stderr);
    assert!(run.stderr.contains("can move funds") && run.stderr.contains("not reported"), "{}", run.stderr);
    assert!(run.stderr.contains("--allow-withdraw-key"), "{}", run.stderr);
    assert_no_secret(&run, &[key, secret]);
    assert_eq!(accounts(&sb), serde_json::json!([]));

    let mut allowed = args.to_vec();
    allowed.push("--allow-withdraw-key");
    let run = sb.run_with_input(&allowed, &input);
    assert_eq!(run.code, 0, "{exchange}: {}", run.stderr);
    let check = sb.ok(&["account", "check", "x"]);
    assert!(check.stdout.contains("withdraw: unknown"), "{}", check.stdout);
    let json = sb.ok(&["--json", "account", "check", "x"]).json();
    assert_eq!(json["can_withdraw"], serde_json::Value::Null);
}

#[test]
fn a_missing_withdraw_permission_counts_as_may_withdraw() {
    let binance = binance_key();
    // No `enableWithdrawals`; the other transfer flags say no.
    let restrictions = r#"{"ipRestrict":true,"enableReading":true,"enableInternalTransfer":false,
        "permitsUniversalTransfer":false,"enableSpotAndMarginTrading":false,"enableMargin":false,
        "enableFutures":false,"enableVanillaOptions":false}"#;
    withdraw_field_missing_is_refused("binance", &binance.api_key, &binance.secret, restrictions);
    let coinbase = cointally_exchanges::coinbase::sim::SimKey::demo();
    withdraw_field_missing_is_refused(
        "coinbase",
        &coinbase.key_name,
        &coinbase.private_key,
        r#"{"can_view":true,"can_trade":false}"#,
    );
}

#[test]
fn kraken_does_not_say_whether_a_key_can_trade() {
    let sb = Sandbox::new();
    let key = cointally_exchanges::kraken::sim::SimKey::demo();
    let sim = cointally_exchanges::kraken::sim::start(cointally_exchanges::kraken::sim::SimConfig {
        key: key.clone(),
        limits: cointally_exchanges::kraken::sim::Limits::Off,
        ..cointally_exchanges::kraken::sim::SimConfig::demo(3)
    })
    .unwrap();
    sb.set_env("COINTALLY_KRAKEN_BASE_URL", &sim.base_url());
    sb.ok(&["init"]);
    let add =
        sb.run_with_input(&["account", "add", "kraken", "--label", "k"], &format!("{}\n{}\n", key.api_key, key.secret));
    assert_eq!(add.code, 0, "{}", add.stderr);
    let check = sb.ok(&["account", "check", "k"]);
    assert!(check.stdout.contains("trade:    unknown"), "{}", check.stdout);
    assert!(check.stdout.contains("withdraw: no"), "{}", check.stdout);
    let json = sb.ok(&["--json", "account", "check", "k"]).json();
    assert_eq!(json["can_trade"], serde_json::Value::Null);
    assert_eq!(json["can_withdraw"], serde_json::Value::Bool(false));
}
