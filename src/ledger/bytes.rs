//! The binary encoding of rows the ledger keeps only for itself (the kept copy of a year's
//! events, the lots of a year-end snapshot): integers little-endian, a name as its length
//! (u32) and its bytes, a decimal as `Decimal::serialize`'s 16 bytes. Reading back checks
//! every length and flag: a damaged body is `None`, never a panic.

use rust_decimal::Decimal;

/// Appends a length as u32 (a count or a name's bytes: far below 4 GiB, as SQLite's own limit
/// on a value is 1 GB).
pub(super) fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

/// Appends a name: its length and its bytes.
pub(super) fn put_text(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

/// Appends a decimal's 16 bytes.
pub(super) fn put_decimal(out: &mut Vec<u8>, value: Decimal) {
    out.extend_from_slice(&value.serialize());
}

/// Appends a flag (0 or 1) and, when present, the decimal.
pub(super) fn put_decimal_opt(out: &mut Vec<u8>, value: Option<Decimal>) {
    match value {
        Some(value) => {
            out.push(1);
            put_decimal(out, value);
        }
        None => out.push(0),
    }
}

/// Appends an integer.
pub(super) fn put_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// The unread rest of a body.
pub(super) struct Reader<'b>(pub(super) &'b [u8]);

impl<'b> Reader<'b> {
    /// Whether the body has been read whole.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(super) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub(super) fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }

    pub(super) fn len(&mut self) -> Option<usize> {
        usize::try_from(u32::from_le_bytes(self.array()?)).ok()
    }

    pub(super) fn text(&mut self) -> Option<&'b str> {
        let len = self.len()?;
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// A decimal as `Decimal::serialize` wrote it, its flags checked (a scale beyond 28 or a
    /// stray bit is not a decimal).
    pub(super) fn decimal(&mut self) -> Option<Decimal> {
        let bytes: [u8; 16] = self.array()?;
        let flags = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let scale = (flags >> 16) & 0xFF;
        if flags & 0x7F00_FFFF != 0 || scale > 28 {
            return None;
        }
        Some(Decimal::deserialize(bytes))
    }

    pub(super) fn decimal_opt(&mut self) -> Option<Option<Decimal>> {
        match self.byte()? {
            0 => Some(None),
            1 => self.decimal().map(Some),
            _ => None,
        }
    }
}
