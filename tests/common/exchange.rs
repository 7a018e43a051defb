//! What the end-to-end tests of an exchange's sync share: the sync summary's totals, the kill
//! loop of a resumed sync, and the scan of the ledger file for secrets.

use super::Sandbox;

/// The sum of `field` over the endpoints of the first account in a `--json sync` summary.
pub fn totals(summary: &serde_json::Value, field: &str) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e[field].as_u64().unwrap()).sum()
}

/// Starts `sync --quiet` once per delay, killing it after that many milliseconds; the events of
/// account `main` after each kill.
pub fn events_after_kills(sb: &Sandbox, delays_ms: &[u64]) -> Vec<usize> {
    let mut seen = Vec::new();
    for &delay_ms in delays_ms {
        sb.kill_after(&["--quiet", "sync"], delay_ms);
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
