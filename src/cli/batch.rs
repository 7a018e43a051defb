//! `cointally batch DIR [--client NAME]... <sync|prices|report|export|check|diff> [ARGS]`: one
//! command for every client of a client directory, one progress line per client, a summary
//! table (or `--json`), exit 0 only when every client succeeded.
//!
//! # Concurrency model
//!
//! - **`sync` runs in this process, one thread per client.** What must be shared is the
//!   request budget: an exchange meters weight per IP address, and every client of an office
//!   leaves from the same address. The sync engine already paces every account through one
//!   [`Limiter`](cointally_exchanges::http::Limiter) per exchange, handed out by a
//!   [`Connector`]; a batch builds ONE connector for all clients, so all their accounts wait on
//!   the same per-IP buckets, while per-account buckets stay per account: each adapter is named
//!   after its label and a fingerprint of its API key, so two clients' accounts called `main`
//!   never share one, and one key given to two ledgers is metered once. Threads suit
//!   this: the HTTP client and the engine are blocking and thread-based already, the limiter
//!   is a mutex that parks a waiting thread at no cost, and a client count in the tens means
//!   tens of threads — tokio would add a second runtime model for no gain. Each client's
//!   engine keeps its own ledger (a file of its own, so no two threads write one SQLite file)
//!   and commits each page with its cursor, so a kill mid-run is recovered per client by the
//!   next run, like a single sync. A client whose key is refused, or whose thread fails in
//!   any way, is reported alone; the others go on.
//! - **`report`, `export`, `check` and `diff` run as child processes** of this same binary (with the
//!   client's `--ledger` and `--credentials`, in the client's folder, so relative output paths
//!   land there), at most `--parallel` at once. They use no network; separate processes keep
//!   each client's output apart and a failure in one from touching another.
//! - **`prices` runs as child processes one client at a time**: candle requests go to the
//!   exchanges' public endpoints, metered per IP, and one process at a time keeps to one
//!   limiter's pace.
//!
//! A child's standard output is kept in the client's folder (`last-<command>.txt`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Mutex;

use serde::Serialize;

use crate::clients::{self, Client};
use crate::credentials::CredentialsFile;
use crate::ledger::{Ledger, OpenMode};
use crate::sync::connect::Connector;
use crate::sync::{Job, Reporter};

use super::output::{Align, Table, print_json};
use super::{Context, Failure, classify, sync};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The client directory (`cointally clients init DIR`)
    dir: PathBuf,
    /// Only this client (repeat for several); default: every client
    #[arg(long = "client", value_name = "NAME")]
    clients: Vec<String>,
    /// How many clients' report, export or check run at once
    #[arg(long, default_value_t = 4, value_name = "N")]
    parallel: usize,
    #[command(subcommand)]
    command: Batched,
}

/// The commands a batch runs.
#[derive(Debug, clap::Subcommand)]
enum Batched {
    /// Sync every client's accounts, one shared request budget per exchange
    Sync(sync::Args),
    /// Value every client's legs (one client at a time)
    Prices(Passed),
    /// Every client's report (ARGS as for `cointally report`)
    Report(Passed),
    /// Every client's export (ARGS as for `cointally export`; relative paths are in the client's folder)
    Export(Passed),
    /// Audit every client's ledger
    Check(Passed),
    /// Save or compare every client's run manifest (ARGS as for `cointally diff`; relative
    /// paths are in the client's folder)
    Diff(Passed),
}

/// Arguments handed to the command unchanged.
#[derive(Debug, clap::Args)]
struct Passed {
    /// Arguments of the command
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

/// How one client's command ended.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// The client.
    pub client: String,
    /// The command run.
    pub command: String,
    /// Its exit code (0: success).
    pub exit: u8,
    /// One line: what was done, or what went wrong.
    pub summary: String,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let chosen = clients::select(&args.dir, &args.clients).map_err(super::clients::failure)?;
    if chosen.is_empty() {
        context
            .note(format!("no client in {}; add one with `cointally clients add NAME --dir DIR`", args.dir.display()));
        return Ok(());
    }
    let mut outcomes = match args.command {
        Batched::Sync(sync_args) => sync_all(context, &chosen, &sync_args),
        Batched::Prices(passed) => children(context, &chosen, "prices", &passed.args, 1),
        Batched::Report(passed) => children(context, &chosen, "report", &passed.args, args.parallel),
        Batched::Export(passed) => {
            let outcomes = children(context, &chosen, "export", &passed.args, args.parallel);
            html_index(context, &args.dir, &passed.args, &outcomes)?;
            outcomes
        }
        Batched::Check(passed) => children(context, &chosen, "check", &passed.args, args.parallel),
        Batched::Diff(passed) => children(context, &chosen, "diff", &passed.args, args.parallel),
    };
    outcomes.sort_by(|a, b| a.client.cmp(&b.client));
    if context.json {
        print_json(&outcomes)?;
    } else {
        let mut table = Table::new(&[
            ("Client", Align::Left),
            ("Command", Align::Left),
            ("Exit", Align::Right),
            ("Summary", Align::Left),
        ]);
        for o in &outcomes {
            table.row(vec![o.client.clone(), o.command.clone(), o.exit.to_string(), o.summary.clone()]);
        }
        table.print()?;
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.exit != 0).collect();
    match failed.iter().map(|o| o.exit).max() {
        None => Ok(()),
        Some(code) => {
            let names: Vec<&str> = failed.iter().map(|o| o.client.as_str()).collect();
            let message =
                format!("{} of {} clients did not succeed: {}", failed.len(), outcomes.len(), names.join(", "));
            let failure = match code {
                1 => Failure::problems(message),
                3 => Failure::exchange(message),
                4 => Failure::attention(message),
                _ => Failure::input(message),
            };
            Err(failure
                .hint("the summary says why for each; the other clients' work is done and kept")
                .hint("run the same batch with --client NAME to repeat only those")
                .into())
        }
    }
}

/// The value of `--name VALUE` or `--name=VALUE` in passed-through arguments.
fn passed_value<'a>(args: &'a [String], names: &[&str]) -> Option<&'a str> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        for name in names {
            if arg == name {
                return iter.next().map(String::as_str);
            }
            if let Some(value) = arg.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')) {
                return Some(value);
            }
        }
    }
    None
}

/// After `batch DIR export html --year Y`: an index page in DIR linking every client's page
/// that was written (`summary-<year>.html` in DIR).
fn html_index(context: &Context, dir: &Path, args: &[String], outcomes: &[Outcome]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) != Some("html") {
        return Ok(());
    }
    let Some(year) = passed_value(args, &["--year"]).and_then(|y| y.parse::<i32>().ok()) else {
        return Ok(());
    };
    let file = passed_value(args, &["--output", "-o"]).map(str::to_string).unwrap_or(format!("summary-{year}.html"));
    if Path::new(&file).is_absolute() {
        context.note("note: no index page: -o is an absolute path, so every client wrote the same file");
        return Ok(());
    }
    let mut pages: Vec<(String, String)> =
        outcomes.iter().filter(|o| o.exit == 0).map(|o| (o.client.clone(), format!("{}/{file}", o.client))).collect();
    pages.sort();
    let index = dir.join(format!("summary-{year}.html"));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(crate::export::html::index(year, &pages).as_bytes())?;
    tmp.persist(&index).map_err(|e| e.error)?;
    context.note(format!("wrote {} linking {} client page(s)", index.display(), pages.len()));
    Ok(())
}

/// Prints a client's progress line on stderr (one write, so lines of threads never mix).
fn progress(context: &Context, done: &Mutex<usize>, total: usize, outcome: &Outcome) {
    let mut done = done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *done += 1;
    let state = if outcome.exit == 0 { "ok".to_string() } else { format!("failed (exit {})", outcome.exit) };
    context.note(format!("[{done}/{total}] {} {}: {state}: {}", outcome.client, outcome.command, outcome.summary));
}

fn first_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
}

/// One line for an error: its message and its first cause.
fn error_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    if let Some(cause) = e.chain().nth(1) {
        line.push_str(&format!(": {cause}"));
    }
    first_line(&line)
}

/// A client whose accounts are connected, ready to sync.
struct Ready {
    client: Client,
    ledger: Ledger,
    jobs: Vec<Job>,
}

/// Opens a client's ledger and connects its accounts through the shared `connector`.
fn connect_client(
    context: &Context,
    client: &Client,
    accounts: &[String],
    connector: &mut Connector,
) -> anyhow::Result<Ready> {
    let ledger = Ledger::open(&client.ledger, OpenMode::Existing)?;
    let credentials = CredentialsFile::at(Some(client.credentials.clone()))?;
    let jobs = sync::connect_jobs(&ledger, accounts, &credentials, connector, true, &mut |warning| {
        context.note(format!("warning: {}: {warning}", client.client))
    })?;
    Ok(Ready { client: client.clone(), ledger, jobs })
}

/// Syncs every client at once, their accounts paced by one connector's shared limiters.
fn sync_all(context: &Context, chosen: &[Client], args: &sync::Args) -> Vec<Outcome> {
    let failed = |client: &Client, e: &anyhow::Error| Outcome {
        client: client.client.clone(),
        command: "sync".into(),
        exit: classify(e).0,
        summary: error_line(e),
    };
    let options = match sync::options(args) {
        Ok(options) => options,
        Err(e) => return chosen.iter().map(|c| failed(c, &e)).collect(),
    };
    let done = Mutex::new(0);
    let total = chosen.len();
    let mut outcomes = Vec::new();
    let mut ready = Vec::new();
    let mut connector = Connector::new();
    for client in chosen {
        match connect_client(context, client, &args.accounts, &mut connector) {
            Ok(r) => ready.push(r),
            Err(e) => {
                let outcome = failed(client, &e);
                progress(context, &done, total, &outcome);
                outcomes.push(outcome);
            }
        }
    }
    let reporter = Reporter::new(true);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ready
            .into_iter()
            .map(|mut r| {
                let (options, reporter, done) = (&options, &reporter, &done);
                let name = r.client.client.clone();
                let handle = scope.spawn(move || {
                    let outcome = sync_one(&mut r, options, reporter);
                    progress(context, done, total, &outcome);
                    outcome
                });
                (name, handle)
            })
            .collect();
        for (name, handle) in handles {
            outcomes.push(handle.join().unwrap_or_else(|_| Outcome {
                client: name,
                command: "sync".into(),
                exit: 2,
                summary: "stopped by an internal error (a bug: please report it with `cointally bundle`)".into(),
            }));
        }
    });
    outcomes
}

/// Syncs one client's connected accounts.
fn sync_one(ready: &mut Ready, options: &crate::sync::Options, reporter: &Reporter) -> Outcome {
    let client = ready.client.client.clone();
    if ready.jobs.is_empty() {
        return Outcome { client, command: "sync".into(), exit: 0, summary: "no account with an API key".into() };
    }
    let result = crate::sync::run(&mut ready.ledger, &ready.jobs, options, reporter);
    let summaries = match result {
        Ok(summaries) => summaries,
        Err(e) => {
            let e = anyhow::Error::from(e);
            return Outcome { client, command: "sync".into(), exit: classify(&e).0, summary: error_line(&e) };
        }
    };
    let new: u64 = summaries.iter().flat_map(|s| &s.endpoints).map(|e| e.new_records).sum();
    let warnings: usize = summaries.iter().flat_map(|s| &s.endpoints).map(|e| e.warnings.len()).sum();
    match sync::verdict(&summaries) {
        Ok(()) => Outcome {
            client,
            command: "sync".into(),
            exit: 0,
            summary: format!("{} account(s), {new} new record(s), {warnings} warning(s)", summaries.len()),
        },
        Err(e) => Outcome { client, command: "sync".into(), exit: classify(&e).0, summary: error_line(&e) },
    }
}

/// Runs `command ARGS` for every client as a child process, at most `parallel` at once.
fn children(context: &Context, chosen: &[Client], command: &str, args: &[String], parallel: usize) -> Vec<Outcome> {
    let exe = std::env::current_exe();
    let queue = Mutex::new(chosen.iter());
    let outcomes = Mutex::new(Vec::new());
    let done = Mutex::new(0);
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, chosen.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next();
                    let Some(client) = next else { break };
                    let outcome = match &exe {
                        Ok(exe) => child(exe, client, command, args),
                        Err(e) => Outcome {
                            client: client.client.clone(),
                            command: command.into(),
                            exit: 2,
                            summary: format!("cannot find the cointally binary to run: {e}"),
                        },
                    };
                    progress(context, &done, chosen.len(), &outcome);
                    outcomes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(outcome);
                }
            });
        }
    });
    outcomes.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one client's command; its stdout goes to `last-<command>.txt` in the client's folder.
fn child(exe: &Path, client: &Client, command: &str, args: &[String]) -> Outcome {
    let outcome =
        |exit: u8, summary: String| Outcome { client: client.client.clone(), command: command.into(), exit, summary };
    let output = Process::new(exe)
        .arg("--ledger")
        .arg(&client.ledger)
        .arg("--credentials")
        .arg(&client.credentials)
        .arg(command)
        .args(args)
        .current_dir(client.folder())
        .stdin(std::process::Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => return outcome(2, format!("could not start cointally {command}: {e}")),
    };
    let saved = client.folder().join(format!("last-{command}.txt"));
    if let Err(e) = std::fs::File::create(&saved).and_then(|mut f| f.write_all(&output.stdout)) {
        return outcome(2, format!("could not write {}: {e}", saved.display()));
    }
    let code = output.status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = match code {
        0 => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let last = stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("done");
            let last: String = last.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(120).collect();
            format!("{last} (output: {})", saved.display())
        }
        _ => {
            let error = stderr.lines().find_map(|l| l.strip_prefix("error: ")).map(str::to_string);
            error.unwrap_or_else(|| first_line(&stderr))
        }
    };
    outcome(code, summary)
}
