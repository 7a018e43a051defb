//! Query strings and form bodies: encoding parameters, and decoding them back.

/// Parameters as a query string: `key=value` joined by `&`, everything but the unreserved
/// ASCII characters (`A-Z a-z 0-9 - . _ ~`) percent-encoded as UTF-8 bytes.
pub fn encode_query(params: &[(String, String)]) -> String {
    let mut query = String::new();
    for (name, value) in params {
        if !query.is_empty() {
            query.push('&');
        }
        push_encoded(&mut query, name);
        query.push('=');
        push_encoded(&mut query, value);
    }
    query
}

fn push_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Percent-decoding of one query or form component: `%XX` becomes that byte and `+` a space;
/// a `%` not followed by two hex digits stays as it is; invalid UTF-8 is replaced.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let hex = bytes.get(index + 1..index + 3).and_then(|hex| std::str::from_utf8(hex).ok());
            if let Some(decoded) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(decoded);
                index += 3;
                continue;
            }
        }
        out.push(if byte == b'+' { b' ' } else { byte });
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `name=value` pairs of a query string or form body, decoded, in the order sent (a pair
/// without `=` has an empty value; empty pairs are skipped).
pub fn decode_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_undoes_encoding() {
        let params = vec![("symbol".to_owned(), "BTC USD/€ 100%+1".to_owned()), ("empty".to_owned(), String::new())];
        assert_eq!(decode_pairs(&encode_query(&params)), params);
    }

    #[test]
    fn plus_is_a_space_and_broken_escapes_stay() {
        assert_eq!(percent_decode("a+b%20c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(
            decode_pairs("a=1&&flag&b=%3D"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("flag".to_owned(), String::new()),
                ("b".to_owned(), "=".to_owned())
            ]
        );
    }
}
