//! Keeping secrets out of error texts and logs: signatures, URLs and query strings.

/// Form-encoded text with the value of every `signature` parameter replaced by `[redacted]`.
pub(super) fn redact_signature(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("signature") => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A reqwest error in words, without its URL (which may carry a signed query string).
pub(super) fn describe_reqwest(error: reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the answer was cut off"
    } else if error.is_redirect() {
        "too many redirects"
    } else {
        "the request failed"
    };
    let error = error.without_url();
    match innermost(&error) {
        Some(cause) => format!("{what}: {}", redact_url(&cause.to_string())),
        None => what.to_owned(),
    }
}

/// An I/O error met while reading a body, in words, without any URL.
pub(super) fn describe_io(error: &std::io::Error) -> String {
    let text = match error.get_ref() {
        Some(inner) => innermost(inner).unwrap_or(inner).to_string(),
        None => error.to_string(),
    };
    redact_url(&text)
}

/// The last error of a source chain (the one that says what really happened).
fn innermost<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn std::error::Error + 'static)> {
    let mut cause = error.source()?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(cause)
}

/// Text with anything URL-like (`scheme://…`) replaced by `[url]`, and reqwest's
/// ` for url (…)` tail removed: a URL may carry a signed query string.
pub(super) fn redact_url(text: &str) -> String {
    let text = match text.find(" for url (") {
        Some(at) => &text[..at],
        None => text,
    };
    text.split(' ')
        .map(|word| if word.contains("://") || word.contains("signature=") { "[url]" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}
