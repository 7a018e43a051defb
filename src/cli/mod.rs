//! The command line: one verb per file, errors turned into one line, hints and an exit code.
//!
//! Exit codes: 0 success; 1 the command ran but found problems; 2 usage, input or ledger
//! error; 3 an exchange refused or failed; 4 the command finished, but records need attention
//! (stored, yet this version could not read them: `sync`, `renormalize`). stdout carries data (tables, JSON); stderr carries
//! progress, logs, warnings and errors. A closed stdout (`| head`) ends quietly with 0.

mod account;
mod account_files;
mod balances;
mod basis;
mod batch;
mod bundle;
mod check;
mod clients;
mod coverage;
#[cfg(feature = "sandbox")]
mod demo;
mod diff;
mod events;
mod export;
mod import;
mod import_1099da;
mod init;
mod method;
mod output;
mod prices;
mod rebates;
mod reclassify;
mod reconcile;
mod renormalize;
mod report;
mod report_au;
mod report_ca;
mod report_de;
mod report_uk;
#[cfg(feature = "sandbox")]
mod sandbox;
mod settings;
mod summary;
mod sync;
mod transfers;
mod year;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::credentials::{CREDENTIALS_ENV, CredentialsError};
use crate::import::ImportError;
use crate::ledger::{Ledger, LedgerError, OpenMode};
use crate::sync::connect::ConnectError;

/// The environment variable naming the ledger file when `--ledger` is not given.
pub const LEDGER_ENV: &str = "COINTALLY_LEDGER";

/// The ledger file used when neither `--ledger` nor `$COINTALLY_LEDGER` is given.
pub const DEFAULT_LEDGER: &str = "cointally.sqlite";

/// cointally: your complete crypto history in one ledger, and the files your taxes need.
#[derive(Debug, Parser)]
#[command(name = "cointally", version, about, long_about = None)]
pub struct Cli {
    /// The ledger file [default: $COINTALLY_LEDGER, then ./cointally.sqlite]
    #[arg(long, global = true, value_name = "PATH")]
    ledger: Option<PathBuf>,
    /// Print JSON for scripts instead of tables
    #[arg(long, global = true)]
    json: bool,
    /// Print no progress and no notes, only data and errors
    #[arg(long, short, global = true)]
    quiet: bool,
    /// More log lines on stderr (-v info, -vv debug)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The credentials file [default: $COINTALLY_CREDENTIALS, then <config dir>/cointally/credentials.toml]
    #[arg(long, global = true, value_name = "PATH", env = CREDENTIALS_ENV)]
    credentials: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new, empty ledger
    Init(init::Args),
    /// Add, list or remove exchange accounts and wallets
    #[command(subcommand)]
    Account(account::Command),
    /// Import history files (CSV) into an account
    Import(import::Args),
    /// Fetch new history from the exchanges through their API keys
    Sync(sync::Args),
    /// Show the spans of time fetched per account, endpoint and scope, and any gaps
    Coverage(coverage::Args),
    /// Rebuild events from the stored raw API records, with no network
    Renormalize(renormalize::Args),
    /// Run the bundled exchange simulators
    #[cfg(feature = "sandbox")]
    #[command(subcommand)]
    Sandbox(sandbox::Command),
    /// Show what each account holds
    Balances(balances::Args),
    /// List events in time order
    Events(events::Args),
    /// Value every leg in the reporting currency (prices missing, prices import FILE)
    Prices(prices::Args),
    /// Show or change the reporting currency (changing it values the legs in the new one)
    Currency(prices::CurrencyArgs),
    /// Say what an event is when its source could not (a send that was a gift, an unknown type that was income)
    Reclassify(reclassify::Args),
    /// Own transfers: matched withdrawal → deposit pairs and what is left (link, unlink)
    Transfers(transfers::Args),
    /// Rebates and the purchases they reduce the price of (link, unlink; under `settings rebates basis`)
    Rebates(rebates::Args),
    /// The year's gains and income: proceeds, basis, short- and long-term gain, per asset
    Report(report::Args),
    /// Write the files tax software, other services and accountants take (export --list)
    Export(export::Args),
    /// Audit the ledger before trusting a report (exit 0 only when clean)
    Check(check::Args),
    /// Show or change the ledger's settings (`settings jurisdiction uk`; none lists them)
    Settings(settings::Args),
    /// Import a broker's Form 1099-DA statement (CSV) for an account
    #[command(name = "import-1099da")]
    Import1099da(import_1099da::Args),
    /// Lot identification elections from a date on: method set|list|remove
    #[command(subcommand)]
    Method(method::Command),
    /// Match the imported Form 1099-DA rows to cointally's sales and list what differs
    Reconcile(reconcile::Args),
    /// Run the whole pipeline on bundled sample data, no keys needed
    Demo,
    /// An accountant's client directory: one ledger and credentials file per client
    #[command(subcommand)]
    Clients(clients::Command),
    /// Run sync, prices, report, export or check for every client of a client directory
    Batch(batch::Args),
    /// Write a problem bundle for a maintainer: no secret, ids replaced by pseudonyms
    Bundle(bundle::Args),
    /// Rebuild a new ledger (--ledger) from a problem bundle
    ImportBundle(bundle::ImportArgs),
    /// What changed in a year since a saved run manifest, and which inputs explain it
    Diff(diff::Args),
    /// Filed years that stay filed: year close|list|reopen
    #[command(subcommand)]
    Year(year::Command),
    /// The 2025 allocation of unused basis to wallets: basis allocate|allocation
    #[command(subcommand)]
    Basis(basis::Command),
}

/// Why `demo` does nothing in a build without the bundled simulators (exit 2).
#[cfg(not(feature = "sandbox"))]
fn demo_unavailable() -> anyhow::Error {
    Failure::input("this cointally was built without the bundled exchange simulators the demo syncs from")
        .hint("build it with its default features: `cargo build --release` or `cargo install --path .`, without --no-default-features")
        .into()
}

/// What every command gets: the global options.
pub struct Context {
    ledger: Option<PathBuf>,
    json: bool,
    quiet: bool,
    credentials: Option<PathBuf>,
}

impl Context {
    /// The ledger path: `--ledger`, then `$COINTALLY_LEDGER`, then `./cointally.sqlite`.
    fn ledger_path(&self) -> PathBuf {
        self.ledger
            .clone()
            .or_else(|| std::env::var_os(LEDGER_ENV).filter(|v| !v.is_empty()).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER))
    }

    /// Opens the ledger, which must exist.
    fn open_ledger(&self) -> anyhow::Result<Ledger> {
        Ok(Ledger::open(&self.ledger_path(), OpenMode::Existing)?)
    }

    /// Prints a note on stderr unless `--quiet`.
    fn note(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{}", crate::terminal::terminal_text(&text.to_string(), true));
        }
    }
}

/// An error that carries its own exit code and hints.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    message: String,
    hints: Vec<String>,
    code: u8,
}

impl Failure {
    /// A usage or input problem (exit 2).
    pub fn input(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hints: Vec::new(), code: 2 }
    }

    /// The command ran but found problems (exit 1).
    pub fn problems(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hints: Vec::new(), code: 1 }
    }

    /// An exchange refused or failed (exit 3).
    pub fn exchange(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hints: Vec::new(), code: 3 }
    }

    /// The command finished, but records need the user's attention (exit 4).
    pub fn attention(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hints: Vec::new(), code: 4 }
    }

    /// Adds a line saying what to do.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hints.push(hint.into());
        self
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let context = Context { ledger: cli.ledger, json: cli.json, quiet: cli.quiet, credentials: cli.credentials };
    let result = match cli.command {
        Command::Init(args) => init::run(&context, args),
        Command::Account(command) => account::run(&context, command),
        Command::Import(args) => import::run(&context, args),
        Command::Sync(args) => sync::run(&context, args),
        Command::Coverage(args) => coverage::run(&context, args),
        Command::Renormalize(args) => renormalize::run(&context, args),
        #[cfg(feature = "sandbox")]
        Command::Sandbox(command) => sandbox::run(&context, command),
        Command::Balances(args) => balances::run(&context, args),
        Command::Events(args) => events::run(&context, args),
        Command::Prices(args) => prices::run(&context, args),
        Command::Currency(args) => prices::currency(&context, args),
        Command::Reclassify(args) => reclassify::run(&context, args),
        Command::Transfers(args) => transfers::run(&context, args),
        Command::Rebates(args) => rebates::run(&context, args),
        Command::Report(args) => report::run(&context, args),
        Command::Export(args) => export::run(&context, args),
        Command::Check(args) => check::run(&context, args),
        Command::Settings(args) => settings::run(&context, args),
        Command::Import1099da(args) => import_1099da::run(&context, args),
        Command::Reconcile(args) => reconcile::run(&context, args),
        Command::Method(command) => method::run(&context, command),
        #[cfg(feature = "sandbox")]
        Command::Demo => demo::run(&context),
        #[cfg(not(feature = "sandbox"))]
        Command::Demo => Err(demo_unavailable()),
        Command::Clients(command) => clients::run(&context, command),
        Command::Batch(args) => batch::run(&context, args),
        Command::Bundle(args) => bundle::run(&context, args),
        Command::ImportBundle(args) => bundle::import(&context, args),
        Command::Diff(args) => diff::run(&context, args),
        Command::Year(command) => year::run(&context, command),
        Command::Basis(command) => basis::run(&context, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(report(&e)),
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level).parse_env("COINTALLY_LOG").format_timestamp(None).format_target(false);
    let _ = builder.try_init();
}

/// The error is output refused by a closed pipe (`| head`): the command ends quietly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(pipe_closed)
}

/// Whether `e` is a closed pipe: an I/O error of that kind, or one wrapped in another I/O
/// error (whose `source` skips what it wraps) or in a CSV writer's error (a CSV export to
/// standard output).
fn pipe_closed(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io.kind() == std::io::ErrorKind::BrokenPipe || io.get_ref().is_some_and(|inner| pipe_closed(inner));
    }
    match e.downcast_ref::<csv::Error>().map(csv::Error::kind) {
        Some(csv::ErrorKind::Io(io)) => io.kind() == std::io::ErrorKind::BrokenPipe,
        _ => false,
    }
}

/// Prints the error, its causes and what to do; returns the exit code.
fn report(e: &anyhow::Error) -> u8 {
    let mut stderr = std::io::stderr().lock();
    // An error may quote a file's cell or an exchange's answer: shown without its controls.
    let shown = |text: &dyn std::fmt::Display| crate::terminal::terminal_text(&text.to_string(), true).into_owned();
    let _ = writeln!(stderr, "error: {}", shown(e));
    for cause in e.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {}", shown(cause));
    }
    let (code, hints) = classify(e);
    if let Some(ImportError::BadRows { problems, truncated }) = e.chain().find_map(|c| c.downcast_ref::<ImportError>())
    {
        for problem in problems {
            let _ = writeln!(stderr, "  {}", shown(problem));
        }
        if *truncated {
            let _ = writeln!(stderr, "  (stopped after {} errors)", problems.len());
        }
    }
    for hint in hints {
        let _ = writeln!(stderr, "hint: {}", shown(&hint));
    }
    code
}

/// The exit code and hints for an error, from the most specific cause that knows them.
fn classify(e: &anyhow::Error) -> (u8, Vec<String>) {
    for cause in e.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return (failure.code, failure.hints.clone());
        }
        if let Some(err) = cause.downcast_ref::<ImportError>() {
            let hint = match err {
                ImportError::BadRows { .. } => {
                    "fix the rows listed above and run the same command again; nothing was imported".into()
                }
                ImportError::Utf16 { path } => format!(
                    "save it as \"CSV UTF-8\" (comma delimited), or convert it: iconv -f UTF-16 -t UTF-8 {} > converted.csv (a tab-separated file also needs its tabs made commas)",
                    path.display()
                ),
                ImportError::UnknownFormat { .. } | ImportError::WrongFormat { .. } => {
                    "give --format (generic, koinly, ...); the README lists each format's header".into()
                }
                ImportError::WrongAccount { format, .. } => format!(
                    "import it into a {format} account: cointally account add {format} --label {format} --no-key"
                ),
                ImportError::Io { .. } => "check the file's path and that it can be read".into(),
                ImportError::Ledger(_) | ImportError::Stopped(_) => continue,
            };
            return (2, vec![hint]);
        }
        if let Some(err) = cause.downcast_ref::<LedgerError>() {
            let hint = match err {
                LedgerError::Missing(path) => format!(
                    "create it with `cointally --ledger {} init`, or point --ledger (or ${LEDGER_ENV}) at an existing ledger",
                    path.display()
                ),
                LedgerError::Exists(_) => "use it as it is, or choose another file with --ledger".into(),
                LedgerError::IsFolder(folder) => {
                    format!("give the ledger's file, e.g. --ledger {}", folder.join("cointally.sqlite").display())
                }
                LedgerError::NoFolder(folder) => {
                    format!("create the folder first (mkdir -p {}), or choose another --ledger path", folder.display())
                }
                LedgerError::NotSqlite(_) | LedgerError::Foreign(_) => {
                    "check the --ledger path (or $COINTALLY_LEDGER); the file was not changed".into()
                }
                LedgerError::TooNew { .. } => "upgrade cointally to open this ledger; the file was not changed".into(),
                LedgerError::NoSuchAccount(_) => "list the accounts with `cointally account list`".into(),
                LedgerError::DuplicateLabel(_) => "choose another --label".into(),
                _ => "the ledger was left as it was before the command".into(),
            };
            return (2, vec![hint]);
        }
        if let Some(err) = cause.downcast_ref::<ConnectError>() {
            return match err {
                ConnectError::NoKey(label) => (2, vec![format!("sync only accounts with keys, or import files into {label}")]),
                ConnectError::NoClient { .. } => (2, vec!["import the exchange's history files with `cointally import`".into()]),
                ConnectError::MissingEnv { var, .. } => (2, vec![format!("export {var}=... before running cointally")]),
                ConnectError::NotInFile(label) => (
                    2,
                    vec![format!("remove and add the account again to give its key: cointally account remove {label}; cointally account add ...")],
                ),
                ConnectError::Credentials(_) => continue,
                ConnectError::WithdrawKey { .. } => (
                    2,
                    vec![
                        "create a key with reading permission only (no withdrawals, no transfers) in the exchange's API settings".into(),
                        "or, if you accept the risk, add the account with --allow-withdraw-key".into(),
                    ],
                ),
                ConnectError::HostRefused { custom: true, .. } => (
                    2,
                    vec!["if you trust that host with the key, add the account with --allow-custom-host; every sync then names it in a warning".into()],
                ),
                ConnectError::HostRefused { .. } => (
                    2,
                    vec!["use the exchange's https:// API (the default), or a simulator on this machine (http://127.0.0.1:PORT)".into()],
                ),
                ConnectError::HostMismatch { label, .. } => (
                    2,
                    vec![
                        "a ledger or an environment variable alone never moves a key: if you did not change the URL, put it back (a ledger edited by someone else may be trying to catch the key)".into(),
                        format!("if you moved the account yourself, bind its key to the new URL: cointally account bind {label}"),
                    ],
                ),
                ConnectError::Fetch { source, .. }
                    if matches!(**source, cointally_exchanges::http::FetchError::Redirected { .. }) =>
                {
                    (
                        3,
                        vec!["the server at the account's URL sends requests elsewhere; check the URL (the exchange's own API needs no --base-url)".into()],
                    )
                }
                ConnectError::Fetch { source, .. } if source.is_auth() => (
                    3,
                    vec!["check the API key and secret (a copy-paste may have cut them), and that the key allows this machine's IP address".into()],
                ),
                ConnectError::Fetch { .. } => (3, vec!["nothing was written; try again later".into()]),
            };
        }
        if let Some(crate::pricing::PricingError::Missing(_)) = cause.downcast_ref::<crate::pricing::PricingError>() {
            return (
                2,
                vec![
                    "run `cointally prices` to value them (`cointally prices missing` lists them; `cointally prices import FILE` takes your own prices)".into(),
                    "or add --allow-missing-prices: they count as zero and the rows they touch are marked".into(),
                ],
            );
        }
        if cause.downcast_ref::<CredentialsError>().is_some() {
            return (2, vec![format!("the credentials file can be chosen with --credentials or ${CREDENTIALS_ENV}")]);
        }
    }
    (2, Vec::new())
}
