//! Physical line numbers for CSV records.
//!
//! The csv crate's own line count goes wrong after blank lines with CRLF endings, and an
//! error that points at the wrong line sends a person to fix the wrong row. Its byte offset
//! of a record is where the previous record ended (before any blank lines and the rest of a
//! CRLF), so this reader wrapper remembers where each line terminator byte is as the bytes
//! stream past, and turns that offset into the line of the record's first byte of content.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// Newline positions seen so far and not yet passed by the records read.
#[derive(Default)]
struct State {
    /// Absolute offsets of `\r` and `\n` bytes read ahead, and whether each is a `\n`.
    terminators: VecDeque<(u64, bool)>,
    /// Newlines already passed.
    passed: u64,
    /// Bytes read so far.
    offset: u64,
}

/// Answers "which line does the record at this byte offset start on".
#[derive(Clone, Default)]
pub struct Lines(Rc<RefCell<State>>);

impl Lines {
    /// Wraps `input` so that the newlines it yields are counted here.
    pub fn wrap<R: Read>(&self, input: R) -> Counting<R> {
        Counting { input, lines: self.clone() }
    }

    /// The 1-based line of the first content byte at or after `offset` (skipping line
    /// terminators); offsets must not go backwards.
    pub fn line_at(&self, offset: u64) -> u64 {
        let mut state = self.0.borrow_mut();
        while let Some(&(at, newline)) = state.terminators.front() {
            if at >= offset {
                break;
            }
            state.terminators.pop_front();
            state.passed += u64::from(newline);
        }
        // Terminators right at `offset` are blank lines (or the end of a CRLF) before the record.
        let leading = state
            .terminators
            .iter()
            .zip(offset..)
            .take_while(|((at, _), expected)| at == expected)
            .filter(|((_, newline), _)| *newline)
            .count() as u64;
        state.passed + leading + 1
    }
}

/// A reader that reports the newlines it passes on to a [`Lines`].
pub struct Counting<R> {
    input: R,
    lines: Lines,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        let mut state = self.lines.0.borrow_mut();
        let start = state.offset;
        for (i, b) in buf[..n].iter().enumerate().filter(|(_, b)| matches!(**b, b'\n' | b'\r')) {
            state.terminators.push_back((start + i as u64, *b == b'\n'));
        }
        state.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_physical_lines() {
        let lines = Lines::default();
        let mut input = lines.wrap("a\r\n\r\nb\nc".as_bytes());
        let mut all = Vec::new();
        input.read_to_end(&mut all).unwrap();
        assert_eq!(lines.line_at(0), 1);
        // The csv crate reports a record as starting where the previous one ended, at the `\r`.
        assert_eq!(lines.line_at(1), 3);
        assert_eq!(lines.line_at(6), 4);
        assert_eq!(lines.line_at(7), 4);
    }
}
