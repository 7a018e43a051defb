//! `cointally import FILE... --account L [--format F]`: history files into an account.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::import::{Format, Progress, import_files};

use super::Context;
use super::output::{Align, Table, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CSV files to import (all of them or none)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The account the files belong to
    #[arg(long)]
    account: String,
    /// The files' layout: generic, koinly, or an exchange's export (a wrong name lists them all) [default: detected from the header]
    #[arg(long, value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<Format>()))]
    format: Option<Format>,
}

/// A byte-count progress bar on stderr, drawn only at a terminal and without `--quiet`.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start_file(&self, path: &Path, len: u64) {
        self.0.reset();
        self.0.set_length(len);
        self.0.set_message(path.display().to_string());
    }

    fn advance(&self, done: u64) {
        self.0.set_position(done);
    }
}

#[derive(Serialize)]
struct FileJson {
    file: String,
    format: String,
    rows: u64,
    new_events: u64,
    existing_events: u64,
    /// The file's id in the ledger (`account files`), or null when it added nothing.
    kept_as: Option<i64>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let account = ledger.account(&args.account)?;
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if context.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summaries = import_files(&mut ledger, &account, &args.files, args.format, &Bar(bar.clone()));
    bar.finish_and_clear();
    let summaries = summaries?;
    if context.json {
        let rows: Vec<FileJson> = summaries
            .iter()
            .map(|s| FileJson {
                file: s.path.display().to_string(),
                format: s.format.to_string(),
                rows: s.rows,
                new_events: s.new_events,
                existing_events: s.existing_events,
                kept_as: s.kept_as,
            })
            .collect();
        print_json(&rows)?;
        return Ok(());
    }
    let mut table = Table::new(&[
        ("File", Align::Left),
        ("Format", Align::Left),
        ("Rows", Align::Right),
        ("New events", Align::Right),
        ("Already in ledger", Align::Right),
        ("Kept as", Align::Left),
    ]);
    for s in &summaries {
        table.row(vec![
            s.path.display().to_string(),
            s.format.to_string(),
            s.rows.to_string(),
            s.new_events.to_string(),
            s.existing_events.to_string(),
            s.kept_as.map_or_else(|| "-".to_string(), |id| format!("file #{id}")),
        ]);
    }
    table.print()?;
    Ok(())
}
