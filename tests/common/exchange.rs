//! What the end-to-end tests of an exchange's sync share: the sync summary's totals, the kill
//! loop of a resumed sync, and the scan of the ledger file for secrets.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Run, Sandbox};

/// A sandbox whose commands reach an exchange's simulator, its ledger initialised; account
/// `main` is the one whose balances and events it reads. Each exchange's tests give it a
/// constructor that sets the simulator's variables through `with_env`.
pub struct Synced {
    /// The sandbox.
    pub sb: Sandbox,
}

impl Synced {
    /// A new sandbox with `vars` set for every command, after `init`.
    pub fn with_env(vars: &[(&str, &str)]) -> Synced {
        let sb = Sandbox::new();
        for (name, value) in vars {
            sb.set_env(name, value);
        }
        let synced = Synced { sb };
        synced.sb.ok(&["init"]);
        synced
    }

    /// Runs `args`, whatever the outcome.
    pub fn run(&self, args: &[&str]) -> Run {
        self.sb.run(args)
    }

    /// Runs `args`, which must succeed.
    pub fn ok(&self, args: &[&str]) -> Run {
        self.sb.ok(args)
    }

    /// Account `main`'s balances.
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        self.sb.balances("main")
    }

    /// Account `main`'s events.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.sb.events("main")
    }
}

/// The sum of `field` over the endpoints of the first account in a `--json sync` summary.
pub fn totals(summary: &serde_json::Value, field: &str) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e[field].as_u64().unwrap()).sum()
}

/// Starts `sync --quiet` once per count of `requests`, killing it as soon as the simulator has
/// served that many more (`served`, its request count): crashes between pages whatever the
/// speed of the build or the machine. The events of account `main` after each kill.
pub fn events_after_kills(sb: &Sandbox, served: &dyn Fn() -> u64, requests: &[u64]) -> Vec<usize> {
    let mut seen = Vec::new();
    for &count in requests {
        super::kill_after_requests(sb.command(&["--quiet", "sync"]), served, count);
        seen.push(sb.events("main").len());
    }
    seen
}

/// Asserts that none of `secrets` stands anywhere in the sandbox's ledger file.
pub fn assert_ledger_holds_none(sb: &Sandbox, secrets: &[impl AsRef<str>]) {
    let bytes = super::ledger_bytes(&sb.ledger());
    for secret in secrets.iter().map(AsRef::as_ref) {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret is in the ledger file");
    }
}

/// `add_account` (account `main`) with a key whose secret is `wrong_secret`: refused as an
/// exchange's refusal (exit 3) that names the account and says the secret does not belong to
/// the key, never shows the secret, and adds no account.
pub fn assert_add_refused_for_wrong_secret(sb: &Sandbox, add_account: &[&str], wrong_secret: &str) {
    let add = sb.run(add_account);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("account main"), "{}", add.stderr);
    assert!(add.stderr.contains("does not belong to this API key"), "{}", add.stderr);
    assert!(!add.stderr.contains(wrong_secret));
    assert_eq!(sb.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
}

/// `add_account` run without the key's variables `key_env` (so without a check) succeeds; the
/// `-vv sync` after it fails (exit 3) with no event written, and `wrong_secret` stands neither
/// in its output nor in the ledger file.
pub fn assert_unchecked_wrong_secret_fails_at_sync(
    sb: &Sandbox,
    add_account: &[&str],
    key_env: &[&str],
    wrong_secret: &str,
) {
    let mut add = sb.command(add_account);
    for name in key_env {
        add.env_remove(name);
    }
    assert!(add.status().unwrap().success());
    let sync = sb.run(&["-vv", "sync"]);
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert_eq!(sb.ok(&["--json", "events"]).json(), serde_json::json!([]));
    for text in [&sync.stdout, &sync.stderr] {
        assert!(!text.contains(wrong_secret));
    }
    assert_ledger_holds_none(sb, &[wrong_secret]);
}
