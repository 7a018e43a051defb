//! Running the real `cointally` binary in a sandbox of temporary directories.

#![allow(dead_code)]

pub mod exchange;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The base-URL variables every command gets, pointing nowhere, unless a test sets them.
const UNREACHABLE_BY_DEFAULT: [&str; 6] = [
    "COINTALLY_BINANCE_BASE_URL",
    "COINTALLY_COINBASE_BASE_URL",
    "COINTALLY_COINBASE_EXCHANGE_BASE_URL",
    "COINTALLY_KRAKEN_BASE_URL",
    "COINTALLY_BITSTAMP_BASE_URL",
    "COINTALLY_GEMINI_BASE_URL",
];

/// A temporary home for one test: its ledger, its config directory, its credentials file.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    /// Extra environment variables for every command (a simulator's base URL, say).
    pub env: std::cell::RefCell<Vec<(String, String)>>,
    /// Simulators started for the sandbox that its tests do not hold (kept serving until it drops).
    pub kept: std::cell::RefCell<Vec<Box<dyn std::any::Any>>>,
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().unwrap(), env: Default::default(), kept: Default::default() }
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&self, name: &str, value: &str) {
        self.env.borrow_mut().push((name.to_string(), value.to_string()));
    }

    /// Starts a Binance simulator that accepts `key`/`secret` and points every later
    /// command at it (no test reaches the real exchange).
    pub fn binance_simulator(&self, key: &str, secret: &str) -> cointally_exchanges::binance::sim::BinanceSim {
        use cointally_exchanges::binance::sim::{Limits, SimConfig, SimKey, start};
        let config = SimConfig {
            seed: 1,
            profile: cointally_exchanges::sim::generate::Profile::demo(),
            limits: Limits::Scaled { window: std::time::Duration::from_secs(1) },
            faults: None,
            key: SimKey { api_key: key.to_string(), secret: secret.to_string(), ..SimKey::demo() },
            port: 0,
        };
        let sim = start(config).unwrap();
        self.set_env("COINTALLY_BINANCE_BASE_URL", &sim.base_url());
        self.set_env("COINTALLY_HTTP_FAST", "1");
        sim
    }

    /// Starts the Binance, Coinbase, Kraken, Bitstamp and Gemini simulators of world `seed` (demo profile,
    /// Binance with `key`/`secret`) and points every price source and the Binance API at them.
    pub fn price_simulators(
        &self,
        seed: u64,
        key: &str,
        secret: &str,
    ) -> (
        cointally_exchanges::binance::sim::BinanceSim,
        cointally_exchanges::coinbase::sim::CoinbaseSim,
        cointally_exchanges::kraken::sim::KrakenSim,
    ) {
        use cointally_exchanges::coinbase::sim::{CoinbaseSimConfig, Limits};
        let binance = self.binance_simulator(key, secret);
        assert_eq!(seed, 1, "binance_simulator generates world 1");
        let coinbase = cointally_exchanges::coinbase::sim::start(CoinbaseSimConfig {
            limits: Limits::Off,
            ..CoinbaseSimConfig::demo(seed)
        })
        .unwrap();
        self.set_env("COINTALLY_COINBASE_EXCHANGE_BASE_URL", &coinbase.base_url());
        // The simulator meters nothing; the client need not keep Coinbase's pace either.
        self.set_env(cointally_exchanges::coinbase::prices::RATE_ENV, "1000");
        // Kraken's OHLC (CAD and AUD markets), its rows ending at the real now like the binary's.
        let kraken = cointally_exchanges::kraken::sim::start(cointally_exchanges::kraken::sim::SimConfig {
            limits: cointally_exchanges::kraken::sim::Limits::Off,
            ..cointally_exchanges::kraken::sim::SimConfig::demo(seed)
        })
        .unwrap();
        self.set_env("COINTALLY_KRAKEN_BASE_URL", &kraken.base_url());
        // Bitstamp's OHLC (after the three above), unmetered, kept by the sandbox.
        let bitstamp = cointally_exchanges::bitstamp::sim::start(cointally_exchanges::bitstamp::sim::SimConfig {
            budget: None,
            ..cointally_exchanges::bitstamp::sim::SimConfig::demo(seed)
        })
        .unwrap();
        self.set_env("COINTALLY_BITSTAMP_BASE_URL", &bitstamp.base_url());
        self.kept.borrow_mut().push(Box::new(bitstamp));
        // Gemini's daily candles (last of all), kept by the sandbox.
        let gemini =
            cointally_exchanges::gemini::sim::start(cointally_exchanges::gemini::sim::SimConfig::demo(seed)).unwrap();
        self.set_env("COINTALLY_GEMINI_BASE_URL", &gemini.base_url());
        self.kept.borrow_mut().push(Box::new(gemini));
        (binance, coinbase, kraken)
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite")
    }

    pub fn credentials(&self) -> PathBuf {
        self.dir.path().join("config/cointally/credentials.toml")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A command for the binary with the sandbox's ledger and an isolated environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cointally"));
        cmd.arg("--ledger").arg(self.ledger()).args(args);
        cmd.env_remove("COINTALLY_LEDGER")
            .env("COINTALLY_CREDENTIALS", self.credentials())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .current_dir(self.dir.path());
        // Nothing reaches a real exchange: every base URL points at a closed local port
        // unless the test started a simulator for it.
        for name in UNREACHABLE_BY_DEFAULT {
            cmd.env(name, "http://127.0.0.1:9");
        }
        cmd.env("COINTALLY_HTTP_FAST", "1");
        for (name, value) in self.env.borrow().iter() {
            cmd.env(name, value);
        }
        cmd
    }

    /// Runs with the given standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        finish(child.wait_with_output().unwrap())
    }

    /// Runs with empty standard input.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, "")
    }

    /// Runs and insists on success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, 0, "cointally {args:?} failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    /// Starts the command quietly and SIGKILLs it after `delay_ms` (a crash at that moment).
    /// Kills are better struck by a count of requests ([`kill_after_requests`]), which does not
    /// depend on the build's speed; this remains for the Bybit Earn walk, whose concurrent
    /// streams of mostly empty windows make a count a poor measure of what was stored.
    #[allow(dead_code)]
    pub fn kill_after(&self, args: &[&str], delay_ms: u64) {
        let mut child =
            self.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the binary starts");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
    }

    /// An account's non-zero balances by asset, as `balances --json` gives them.
    #[allow(dead_code)]
    pub fn balances(&self, account: &str) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
        let json = self.ok(&["--json", "balances", "--account", account]).json();
        json.as_array()
            .unwrap()
            .iter()
            .map(|b| (b["asset"].as_str().unwrap().to_string(), b["amount"].as_str().unwrap().parse().unwrap()))
            .filter(|(_, v): &(String, rust_decimal::Decimal)| !v.is_zero())
            .map(|(a, v)| (a, v.normalize()))
            .collect()
    }

    /// An account's events without their row ids, by time and then the source's id: what
    /// "the same ledger" means (row ids, and so the order of events of one instant, depend on
    /// the order they were written in).
    #[allow(dead_code)]
    pub fn events(&self, account: &str) -> Vec<serde_json::Value> {
        let mut events = self.ok(&["--json", "events", "--account", account]).json().as_array().unwrap().clone();
        for event in &mut events {
            event.as_object_mut().unwrap().remove("id");
        }
        events.sort_by_key(|e| (e["time"].as_str().unwrap_or("").to_owned(), e["external_id"].to_string()));
        events
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The generic CSV layout's header.
pub const GENERIC_HEADER: &str = "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n";

/// A ledger with `accounts` (exchange, label) and, per account, generic-CSV rows; prices from
/// `prices` rows (`date,asset,price` in USD).
pub fn generic_ledger(accounts: &[(&str, &str, &str)], prices: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for (exchange, label, rows) in accounts {
        sb.ok(&["account", "add", exchange, "--label", label, "--no-key"]);
        let file = sb.path(&format!("{label}.csv"));
        std::fs::write(&file, format!("{GENERIC_HEADER}{rows}")).unwrap();
        sb.ok(&["import", file.to_str().unwrap(), "--account", label, "--format", "generic"]);
    }
    let file = sb.path("prices.csv");
    let rows: String = prices
        .lines()
        .map(|l| {
            let mut cells = l.split(',');
            let (date, asset, price) = (cells.next().unwrap(), cells.next().unwrap(), cells.next().unwrap());
            format!("{date},{asset},USD,{price}\n")
        })
        .collect();
    std::fs::write(&file, format!("time,asset,currency,price\n{rows}")).unwrap();
    sb.ok(&["prices", "import", file.to_str().unwrap()]);
    sb.ok(&["prices", "--offline"]);
    sb
}

/// A fixture file's path.
pub fn fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path).display().to_string()
}

/// Every byte of the ledger and its WAL and shared-memory files.
pub fn ledger_bytes(ledger: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = ledger.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(b) = std::fs::read(PathBuf::from(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

/// A ledger under a country's rules from its fixtures: `init --currency CURRENCY
/// --jurisdiction CODE`, the wallets `exchange` and `wallet` filled from
/// `fixtures/CODE/{exchange,wallet}.csv`, and the prices of `fixtures/CODE/prices.csv` applied.
pub fn country_ledger(code: &str, currency: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init", "--currency", currency, "--jurisdiction", code]);
    for wallet in ["exchange", "wallet"] {
        sb.ok(&["account", "add", "wallet", "--label", wallet]);
        sb.ok(&["import", &fixture(&format!("{code}/{wallet}.csv")), "--account", wallet]);
    }
    sb.ok(&["prices", "import", &fixture(&format!("{code}/prices.csv"))]);
    sb.ok(&["prices", "--offline"]);
    sb
}

/// Writes `export FORMAT --year YEAR` twice and checks that both runs give the same file and
/// manifest, that the manifest counts the file's bytes, and that the file equals
/// `fixtures/DIR/golden/FORMAT-YEAR.csv` (`UPDATE_GOLDEN=1` rewrites it). Returns the manifest.
pub fn golden_export(sb: &Sandbox, dir: &str, format: &str, year: &str) -> serde_json::Value {
    let name = format!("{format}-{year}.csv");
    let file = sb.path(&name);
    let file_text = file.to_str().unwrap();
    let manifest_path = format!("{file_text}.manifest.json");
    sb.ok(&["export", format, "--year", year, "-o", file_text]);
    let bytes = std::fs::read(&file).unwrap();
    let manifest = std::fs::read(&manifest_path).unwrap();
    sb.ok(&["export", format, "--year", year, "-o", file_text]);
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "{format}: the second run differs");
    assert_eq!(std::fs::read(&manifest_path).unwrap(), manifest, "{format}: the second manifest differs");
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(m["output"]["bytes"].as_u64(), Some(bytes.len() as u64));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir).join("golden").join(&name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &bytes).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), want, "{format}: differs from fixtures/{dir}/golden/{name}");
    m
}

/// Starts `command` quietly and SIGKILLs it as soon as `served()` (a simulator's request count)
/// has grown by `requests`: a crash after that many requests, whatever the speed of the build
/// or the machine. Whether the command was still running when the kill struck.
#[allow(dead_code)]
pub fn kill_after_requests(mut command: Command, served: &dyn Fn() -> u64, requests: u64) -> bool {
    let start = served();
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while served() < start + requests {
        if child.try_wait().expect("the child can be waited on").is_some() {
            return false;
        }
        assert!(std::time::Instant::now() < deadline, "the command never reached {requests} requests");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = child.kill(); // SIGKILL on Unix
    child.wait().expect("the child can be waited on");
    true
}

/// Kills a sync (`sync()` makes the command) after a sixth, then a third, then half of a whole
/// sync's `whole` requests, each counted from its run's start (`served`: the simulator's count):
/// crashes between pages, whatever the speed of the build. Asserts that at least one struck
/// mid-run: the run still going, and part of the history (`stored()`: neither none nor all
/// `complete` events) in the ledger when it died.
#[allow(dead_code)]
pub fn assert_kills_strike_mid_sync(
    sync: &dyn Fn() -> Command,
    served: &dyn Fn() -> u64,
    whole: u64,
    stored: &dyn Fn() -> usize,
    complete: usize,
) {
    let mut struck_mid_run = 0;
    for share in [6, 3, 2] {
        let running = kill_after_requests(sync(), served, whole / share);
        let stored = stored();
        if running && stored > 0 && stored < complete {
            struck_mid_run += 1;
        }
    }
    assert!(struck_mid_run > 0, "no kill struck in the middle of a sync");
}
