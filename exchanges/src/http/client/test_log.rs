//! Collects log lines of the whole test binary, so tests can check no secret is logged.

use std::sync::{Mutex, Once};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(format!("{}", record.args()));
    }
    fn flush(&self) {}
}

/// Installs the capturing logger (once per test binary).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        if log::set_logger(&Capture).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

/// Every line logged so far by any test.
pub(crate) fn lines() -> Vec<String> {
    LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}
