//! What a sync shows while it runs: a progress line per account and endpoint on a terminal,
//! plain log lines on stderr otherwise, nothing with `--quiet`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cointally_exchanges::adapter::{Page, Progress, Stream};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes.
pub struct Reporter {
    mode: Mode,
    lines: Mutex<BTreeMap<(String, String), Line>>,
}

enum Mode {
    Bars(MultiProgress),
    Log,
    Quiet,
}

#[derive(Default)]
struct Line {
    bar: Option<ProgressBar>,
    streams: u64,
    streams_done: u64,
    records: u64,
    new_records: u64,
    pages: u64,
    /// Fraction done of the single time walk, in thousandths, when the endpoint has one stream.
    permille: Option<u64>,
    last_log: Option<Instant>,
}

/// How often a non-terminal run logs the progress of one endpoint.
const LOG_EVERY: Duration = Duration::from_secs(5);

impl Reporter {
    /// Bars when stderr is a terminal, log lines otherwise, nothing when `quiet`.
    pub fn new(quiet: bool) -> Reporter {
        use std::io::IsTerminal;
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Mode::Log
        };
        Reporter { mode, lines: Mutex::new(BTreeMap::new()) }
    }

    /// A stream is about to be walked.
    pub fn stream_started(&self, account: &str, stream: &Stream) {
        self.update(account, stream, |line| {
            line.streams += 1;
            // Nothing to say yet: the first log line comes with the first page.
            line.last_log.get_or_insert_with(|| Instant::now() - LOG_EVERY / 2);
        });
    }

    /// A page was stored.
    pub fn page(&self, account: &str, stream: &Stream, page: &Page, new_records: u64) {
        self.update(account, stream, |line| {
            line.pages += 1;
            line.records += page.records.len() as u64;
            line.new_records += new_records;
            if let Progress::Time { start_ms, at_ms, end_ms } = page.progress {
                if end_ms > start_ms {
                    line.permille =
                        Some((((at_ms - start_ms).clamp(0, end_ms - start_ms) * 1000) / (end_ms - start_ms)) as u64);
                }
            }
        });
    }

    /// A stream has nothing more to give.
    pub fn stream_done(&self, account: &str, stream: &Stream) {
        self.update(account, stream, |line| {
            line.streams_done += 1;
            line.permille = line.permille.map(|_| 1000);
        });
    }

    /// A stream stopped on an error (the summary repeats it).
    pub fn stream_failed(&self, account: &str, stream: &Stream, message: &str) {
        // The message may quote the exchange's answer: shown without its control characters.
        let message = crate::terminal::terminal_text(message, true);
        match &self.mode {
            Mode::Bars(bars) => {
                let _ = bars.println(format!("error: {message}"));
            }
            Mode::Log => eprintln!("sync: error: {message}"),
            Mode::Quiet => {}
        }
        self.update(account, stream, |line| line.streams_done += 1);
    }

    /// The run is over: bars are finished and left on screen.
    pub fn finish(&self) {
        let Ok(mut lines) = self.lines.lock() else { return };
        for ((account, endpoint), line) in lines.iter_mut() {
            if let Some(bar) = &line.bar {
                bar.finish_with_message(message(line));
            } else if let Mode::Log = self.mode {
                eprintln!("sync: {account} {endpoint}: done, {}", message(line));
            }
        }
    }

    fn update(&self, account: &str, stream: &Stream, change: impl FnOnce(&mut Line)) {
        if let Mode::Quiet = self.mode {
            return;
        }
        let Ok(mut lines) = self.lines.lock() else { return };
        let key = (account.to_string(), stream.endpoint.clone());
        let line = lines.entry(key.clone()).or_default();
        change(line);
        match &self.mode {
            Mode::Bars(bars) => {
                let text = message(line);
                let position = match line.permille {
                    Some(p) if line.streams == 1 => p,
                    _ if line.streams > 0 => line.streams_done * 1000 / line.streams,
                    _ => 0,
                };
                let bar = line.bar.get_or_insert_with(|| {
                    let bar = bars.add(ProgressBar::new(1000));
                    bar.set_style(
                        ProgressStyle::with_template("{prefix:.bold} [{bar:25}] {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar.set_prefix(format!("{account} {}", stream.endpoint));
                    bar
                });
                bar.set_position(position);
                bar.set_message(text);
            }
            Mode::Log => {
                let due = line.last_log.is_none_or(|t| t.elapsed() >= LOG_EVERY);
                if due {
                    line.last_log = Some(Instant::now());
                    eprintln!("sync: {} {}: {}", key.0, key.1, message(line));
                }
            }
            Mode::Quiet => {}
        }
    }
}

fn message(line: &Line) -> String {
    let scopes =
        if line.streams > 1 { format!("{}/{} scopes, ", line.streams_done, line.streams) } else { String::new() };
    format!("{scopes}{} records ({} new), {} pages", line.records, line.new_records, line.pages)
}
