//! SHA-256 digests as lower-case hex: how manifests and reports name their inputs and files.

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes` (a finished digest).
pub use cointally_exchanges::hex::lower_hex as hex;

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_empty_input_has_the_known_digest() {
        assert_eq!(super::sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
