//! Text for the terminal: what files, exchanges and the ledger hold, with its control
//! characters shown instead of obeyed.

use std::borrow::Cow;

/// Text from files, exchanges or the ledger as the terminal may be given it: control
/// characters written as Rust escapes (`\u{1b}`, `\r`), the rest as it is. An escape sequence
/// in a deposit's memo or a file's cell could otherwise move the cursor, hide lines, retitle
/// the window or write to the clipboard. The bidirectional overrides and isolates are escaped
/// too: they show an address or a memo in another order than it has. Line breaks are kept when
/// `keep_lines`.
pub fn terminal_text(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let escaped = |c: char| {
        (c.is_control() && !(keep_lines && c == '\n')) || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_line_breaks_kept_when_asked() {
        assert!(matches!(terminal_text("plain é\ttext", true), Cow::Owned(_)));
        assert!(matches!(terminal_text("plain é", false), Cow::Borrowed("plain é")));
        assert_eq!(terminal_text("a\u{1b}[2Jb\nc\r", true), "a\\u{1b}[2Jb\nc\\r");
        assert_eq!(terminal_text("a\nb\u{7}", false), "a\\nb\\u{7}");
        assert_eq!(terminal_text("\u{9b}31m", false), "\\u{9b}31m");
        assert_eq!(terminal_text("0xab\u{202e}dc", true), "0xab\\u{202e}dc");
    }
}
