//! Random identifiers for simulated records, drawn from the simulator's seeded generator (so
//! the same seed gives the same ids).

/// `length` characters drawn uniformly from `alphabet` (one draw per character).
pub fn random_text(rng: &mut fastrand::Rng, alphabet: &[u8], length: usize) -> String {
    (0..length).map(|_| char::from(alphabet[rng.usize(0..alphabet.len())])).collect()
}

/// `length` lower-case hexadecimal digits (transaction hashes, addresses, UUID parts).
pub fn hex(rng: &mut fastrand::Rng, length: usize) -> String {
    random_text(rng, b"0123456789abcdef", length)
}

/// `words` 64-bit draws written as 16 hexadecimal digits each (a 256-bit transaction hash is
/// four words; one draw per word, so a seeded sequence is the same as drawing them by hand).
pub fn hex_words(rng: &mut fastrand::Rng, words: usize) -> String {
    (0..words).map(|_| format!("{:016x}", rng.u64(..))).collect()
}

/// A version-4-shaped UUID drawn digit by digit (`xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx`).
pub fn uuid(rng: &mut fastrand::Rng) -> String {
    format!("{}-{}-4{}-{}-{}", hex(rng, 8), hex(rng, 4), hex(rng, 3), hex(rng, 4), hex(rng, 12))
}

/// A version-4 UUID with its variant bits, drawn from two 64-bit words (two draws in all; the
/// Coinbase simulator's ids, whose seeded sequence the generated histories depend on).
pub fn uuid_from_words(rng: &mut fastrand::Rng) -> String {
    let a = rng.u64(..);
    let b = rng.u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_shapes_and_follow_the_seed() {
        let mut rng = fastrand::Rng::with_seed(5);
        let id = uuid(&mut rng);
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12], "{id}");
        assert_eq!(id.as_bytes()[14], b'4');
        let words = uuid_from_words(&mut rng);
        assert_eq!(words.split('-').map(str::len).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12], "{words}");
        assert!(matches!(words.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{words}");
        assert!(random_text(&mut rng, b"AB", 50).bytes().all(|byte| byte == b'A' || byte == b'B'));
        let again = uuid(&mut fastrand::Rng::with_seed(5));
        assert_eq!(again, id);
    }
}
