//! Coinbase CDP API key authentication: one short-lived JWT per request.
//!
//! Coinbase's App (v2) and Advanced Trade (v3) APIs take `Authorization: Bearer <jwt>`, where
//! the JWT is signed by a CDP API key (<https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication>). A key is a *key name*
//! (`organizations/{org}/apiKeys/{id}`, or a bare id) and a private key of one of two kinds, told
//! apart by the private key alone, never by the name:
//!
//! - ECDSA P-256: a SEC1 PEM `-----BEGIN EC PRIVATE KEY-----` (or PKCS#8 `PRIVATE KEY`), signed
//!   with `ES256`; the signature is the 64-byte raw `r‖s`, not DER.
//! - Ed25519: base64 of the 64-byte seed‖public key the portal shows (or of the 32-byte seed, or
//!   a PKCS#8 `PRIVATE KEY` PEM), signed with `EdDSA`.
//!
//! The token is `base64url(header).base64url(claims).base64url(signature)` without padding, with
//! header `{"alg","kid": key name,"nonce","typ":"JWT"}` and claims `{"sub": key name,
//! "iss":"cdp","nbf": now,"exp": now + 120,"uri":"GET api.coinbase.com/path"}`. The `uri` never
//! holds the query string (signing it gets a 401 on the second page of a listing). The clock and
//! the nonce are parameters: the caller passes "now" (already corrected for clock skew) and a
//! fresh random nonce for each request; nothing here reads the clock or a random source.
//!
//! Private keys pasted with literal `\n` sequences, with their line breaks lost or turned into
//! spaces, or with CRLF line ends are repaired (the base64 alphabet has neither `\` nor
//! whitespace, so the repair cannot change a key); anything that cannot be read unambiguously is
//! a typed [`AuthError`]. Legacy Coinbase keys (a 32-character secret, §2.3) are recognised and
//! refused with a message saying how to make a CDP key, since Coinbase expired them in February
//! 2025. No error message and no `Debug` output carries any part of a private key.

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use p256::pkcs8::DecodePrivateKey;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::secret::Secret;

/// How long a JWT is valid: `exp = nbf + 120` seconds (§2.2).
pub const JWT_LIFETIME_SECONDS: i64 = 120;

/// The `iss` claim Coinbase's documentation and SDKs send.
pub const JWT_ISSUER: &str = "cdp";

/// The host of the Coinbase App and Advanced Trade APIs, as it appears in the `uri` claim.
pub const API_HOST: &str = "api.coinbase.com";

/// Which signature a CDP key makes, chosen from the form of its private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (JWT `alg` `ES256`).
    Es256,
    /// Ed25519 (JWT `alg` `EdDSA`).
    EdDsa,
}

impl KeyAlgorithm {
    /// The JWT `alg` header value.
    pub fn jwt_alg(self) -> &'static str {
        match self {
            KeyAlgorithm::Es256 => "ES256",
            KeyAlgorithm::EdDsa => "EdDSA",
        }
    }
}

/// Why a Coinbase key could not be used or a token could not be built. Messages name the
/// problem and what to do, and never contain the private key or any piece of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The key name is empty.
    #[error(
        "the Coinbase API key name is empty; paste the key name shown with the key (organizations/…/apiKeys/… or a key id)"
    )]
    EmptyKeyName,
    /// The key name holds whitespace or control characters.
    #[error(
        "the Coinbase API key name contains spaces or control characters; paste only the key name (organizations/…/apiKeys/… or a key id)"
    )]
    MalformedKeyName,
    /// The key name field holds what looks like a private key.
    #[error(
        "the Coinbase API key name looks like a private key; the key name and the private key were probably swapped"
    )]
    KeyNameLooksLikePrivateKey,
    /// The private key is empty.
    #[error("the Coinbase private key is empty")]
    EmptyPrivateKey,
    /// The private key field holds what looks like a key name.
    #[error(
        "the Coinbase private key field holds a key name (organizations/…/apiKeys/…); the key name and the private key were probably swapped"
    )]
    PrivateKeyLooksLikeKeyName,
    /// A legacy (pre-CDP) Coinbase API key, which Coinbase no longer accepts.
    #[error(
        "this is a legacy Coinbase API key (a 16-character key with a 32-character secret); Coinbase expired all legacy keys in February 2025 and rejects them. \
         Create a CDP API key instead: on the Coinbase Developer Platform (portal.cdp.coinbase.com) open API Keys, create a secret API key, \
         give it only the View permission (no Trade, no Transfer), and enter its key name and private key here"
    )]
    LegacyKey,
    /// A PEM `BEGIN` line without its `END` line (a truncated paste).
    #[error("the Coinbase private key starts a PEM block ({}) but has no matching -----END …----- line; paste the whole key including its last line", label_text(.label))]
    PemUnterminated {
        /// The block's label, when it is one of the well-known ones.
        label: Option<&'static str>,
    },
    /// A PEM `END` line without a `BEGIN` line before it.
    #[error(
        "the Coinbase private key has an -----END …----- line without a -----BEGIN …----- line before it; paste the whole key including its first line"
    )]
    PemWithoutBegin,
    /// A PEM block whose `BEGIN` and `END` labels differ.
    #[error("the Coinbase private key's PEM lines do not match (BEGIN {} but END {}); paste the key again exactly as Coinbase showed it", label_text(.begin), label_text(.end))]
    PemLabelMismatch {
        /// The `BEGIN` label, when it is one of the well-known ones.
        begin: Option<&'static str>,
        /// The `END` label, when it is one of the well-known ones.
        end: Option<&'static str>,
    },
    /// PEM armour with no private key block in it.
    #[error(
        "the Coinbase private key's PEM text holds no private key block (expected -----BEGIN EC PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)"
    )]
    PemNoPrivateKey,
    /// More than one private key block.
    #[error("the Coinbase private key's PEM text holds {count} private keys; paste only the one for this key name")]
    PemSeveralKeys {
        /// How many private key blocks were found.
        count: usize,
    },
    /// A password-protected PEM key.
    #[error(
        "the Coinbase private key is password-protected (encrypted PEM); Coinbase shows keys unencrypted, paste the key as Coinbase showed it"
    )]
    PemEncrypted,
    /// A PEM block of a kind Coinbase does not issue.
    #[error("the Coinbase private key is a PEM block of an unsupported kind ({}); expected EC PRIVATE KEY (ECDSA P-256) or PRIVATE KEY (PKCS#8)", label_text(.label))]
    PemUnsupportedKind {
        /// The block's label, when it is one of the well-known ones.
        label: Option<&'static str>,
    },
    /// The text between the PEM lines is not base64, even after repairing line breaks.
    #[error(
        "the Coinbase private key's PEM body is not valid base64, even after repairing line breaks and \\n sequences; paste the key again exactly as Coinbase showed it"
    )]
    PemBody,
    /// An `EC PRIVATE KEY` block that is not a P-256 key.
    #[error(
        "the Coinbase EC private key is not a valid P-256 key (Coinbase ECDSA keys use the P-256 curve); paste the key again exactly as Coinbase showed it"
    )]
    InvalidEcKey,
    /// A `PRIVATE KEY` (PKCS#8) block that is neither an Ed25519 nor a P-256 key.
    #[error("the Coinbase PKCS#8 private key is neither an Ed25519 nor a P-256 key")]
    InvalidPkcs8Key,
    /// Base64 that decodes to a DER key: PEM text without its `BEGIN`/`END` lines.
    #[error(
        "the Coinbase private key looks like the inside of a PEM key without its -----BEGIN …----- and -----END …----- lines; paste the whole key including those lines"
    )]
    PemArmourMissing,
    /// Neither PEM nor base64.
    #[error(
        "the Coinbase private key is neither a PEM key (-----BEGIN EC PRIVATE KEY----- …) nor base64 text (an Ed25519 key); paste it again exactly as Coinbase showed it"
    )]
    UnrecognisedPrivateKey,
    /// Base64 of the wrong length for an Ed25519 key.
    #[error(
        "the Coinbase Ed25519 private key decodes to {len} bytes, expected 64 (or a 32-byte seed); paste the whole key"
    )]
    Ed25519Length {
        /// The decoded length in bytes.
        len: usize,
    },
    /// A 64-byte Ed25519 key whose second half is not the public key of its first half.
    #[error(
        "the Coinbase Ed25519 private key is inconsistent: its last 32 bytes are not the public key of its first 32; paste it again exactly as Coinbase showed it (a Coinbase Exchange/Pro API secret has the same length but is not a CDP key)"
    )]
    Ed25519PublicKeyMismatch,
    /// A request part that cannot go into the `uri` claim, or an empty nonce.
    #[error("cannot build a Coinbase JWT: {0}")]
    InvalidRequest(&'static str),
}

/// A well-known PEM label for a message, or a neutral word for any other text.
fn label_text(label: &Option<&'static str>) -> &'static str {
    label.unwrap_or("an unrecognised label")
}

/// PEM labels that may be echoed in messages. Anything else between `-----BEGIN ` and `-----`
/// could be part of a garbled key, so it is never shown.
const KNOWN_PEM_LABELS: &[&str] = &[
    "EC PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "RSA PRIVATE KEY",
    "DSA PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "EC PARAMETERS",
    "PUBLIC KEY",
    "CERTIFICATE",
];

fn known_label(label: &str) -> Option<&'static str> {
    KNOWN_PEM_LABELS.iter().copied().find(|known| *known == label)
}

/// A CDP API key ready to sign: its name and its private key. `Debug` shows the name and the
/// algorithm only.
#[derive(Clone)]
pub struct CdpKey {
    key_name: String,
    signer: Signer,
}

#[derive(Clone)]
enum Signer {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for CdpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdpKey")
            .field("key_name", &self.key_name)
            .field("algorithm", &self.algorithm())
            .field("private_key", &"[redacted]")
            .finish()
    }
}

impl CdpKey {
    /// Reads a key name and private key as the user gave them, choosing ES256 or EdDSA from the
    /// private key, repairing mangled line breaks, and refusing legacy keys.
    pub fn parse(key_name: &str, private_key: &Secret) -> Result<CdpKey, AuthError> {
        let key_name = key_name.trim();
        let looks_legacy = is_legacy_key_name(key_name);
        let signer = match parse_private_key(private_key.expose()) {
            Ok(signer) => signer,
            // A 16-character legacy key name with a secret that is no CDP key: say "legacy"
            // rather than describe what is wrong with the secret.
            Err(AuthError::EmptyPrivateKey) => return Err(AuthError::EmptyPrivateKey),
            Err(_) if looks_legacy => return Err(AuthError::LegacyKey),
            Err(error) => return Err(error),
        };
        check_key_name(key_name)?;
        Ok(CdpKey { key_name: key_name.to_owned(), signer })
    }

    /// The key name, sent as `kid` and `sub`.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// Which signature this key makes.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.signer {
            Signer::Es256(_) => KeyAlgorithm::Es256,
            Signer::EdDsa(_) => KeyAlgorithm::EdDsa,
        }
    }

    /// The JWT for one REST request: `method` (e.g. `GET`), `host` without scheme (e.g.
    /// [`API_HOST`], or `127.0.0.1:PORT` for the simulator), and the request path, whose query
    /// string is left out of the token. `now` becomes `nbf`; the token expires
    /// [`JWT_LIFETIME_SECONDS`] later. `nonce` must be fresh for every request (e.g. 64 hex
    /// digits from a secure random source).
    pub fn rest_jwt(
        &self,
        method: &str,
        host: &str,
        path: &str,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<String, AuthError> {
        let uri = jwt_uri(method, host, path)?;
        self.sign_jwt(&uri, now, nonce)
    }

    fn sign_jwt(&self, uri: &str, now: DateTime<Utc>, nonce: &str) -> Result<String, AuthError> {
        if nonce.is_empty() {
            return Err(AuthError::InvalidRequest("the nonce is empty"));
        }
        let nbf = now.timestamp();
        let header = JwtHeader { alg: self.algorithm().jwt_alg(), kid: &self.key_name, nonce, typ: "JWT" };
        let claims = JwtClaims { sub: &self.key_name, iss: JWT_ISSUER, nbf, exp: nbf + JWT_LIFETIME_SECONDS, uri };
        let signing_input = format!("{}.{}", base64url_json(&header), base64url_json(&claims));
        let signature: [u8; 64] = match &self.signer {
            Signer::Es256(key) => {
                use p256::ecdsa::signature::Signer as _;
                let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
                let mut raw = [0u8; 64];
                raw.copy_from_slice(&signature.to_bytes());
                raw
            }
            Signer::EdDsa(key) => {
                use ed25519_dalek::Signer as _;
                key.sign(signing_input.as_bytes()).to_bytes()
            }
        };
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The public half of a CDP key: what Coinbase (and the simulator) checks a token's signature with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// A P-256 verifying key (`ES256`).
    Es256(p256::ecdsa::VerifyingKey),
    /// An Ed25519 verifying key (`EdDSA`).
    EdDsa(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// The JWT `alg` this key verifies.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PublicKey::Es256(_) => KeyAlgorithm::Es256,
            PublicKey::EdDsa(_) => KeyAlgorithm::EdDsa,
        }
    }

    /// Whether `signature` (64 raw bytes: `r‖s` for ES256) signs `message` with this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Es256(key) => {
                use p256::ecdsa::signature::Verifier as _;
                p256::ecdsa::Signature::from_slice(signature).is_ok_and(|s| key.verify(message, &s).is_ok())
            }
            PublicKey::EdDsa(key) => {
                ed25519_dalek::Signature::from_slice(signature).is_ok_and(|s| key.verify_strict(message, &s).is_ok())
            }
        }
    }
}

impl CdpKey {
    /// The key's public half, to verify its tokens.
    pub fn public_key(&self) -> PublicKey {
        match &self.signer {
            Signer::Es256(key) => PublicKey::Es256(*key.verifying_key()),
            Signer::EdDsa(key) => PublicKey::EdDsa(key.verifying_key()),
        }
    }
}

/// The `Authorization` header value for a token.
pub fn authorization_header(jwt: &str) -> String {
    format!("Bearer {jwt}")
}

/// The `uri` claim: upper-case method, one space, host, path without query string or fragment,
/// e.g. `GET api.coinbase.com/api/v3/brokerage/accounts`.
pub fn jwt_uri(method: &str, host: &str, path: &str) -> Result<String, AuthError> {
    let method = method.trim();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(AuthError::InvalidRequest("the HTTP method must be a word such as GET"));
    }
    let host = host.trim();
    if host.is_empty() || host.contains("://") || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(AuthError::InvalidRequest(
            "the host must be a bare host name such as api.coinbase.com, without scheme or path",
        ));
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(AuthError::InvalidRequest("the path must start with / and contain no spaces"));
    }
    Ok(format!("{} {}{}", method.to_ascii_uppercase(), host.to_ascii_lowercase(), path))
}

#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    nonce: &'a str,
    typ: &'static str,
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    sub: &'a str,
    iss: &'static str,
    nbf: i64,
    exp: i64,
    uri: &'a str,
}

fn base64url_json(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).expect("a JWT header or claims set of strings and integers serialises");
    URL_SAFE_NO_PAD.encode(json)
}

/// Standard base64 that accepts missing or present padding (pastes often lose a trailing `=`).
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// URL-safe base64, for an Ed25519 key someone re-encoded with `-` and `_`.
const BASE64URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A legacy key name: 16 ASCII letters and digits (§2.3).
fn is_legacy_key_name(key_name: &str) -> bool {
    key_name.len() == 16 && key_name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A legacy secret: 32 ASCII letters and digits (§2.3). As base64 it would decode to 24 bytes,
/// which no CDP key has, so this cannot mistake a CDP key for a legacy one.
fn is_legacy_secret(secret: &str) -> bool {
    secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_key_name(key_name: &str) -> Result<(), AuthError> {
    if key_name.is_empty() {
        return Err(AuthError::EmptyKeyName);
    }
    if key_name.contains("-----") || key_name.contains("PRIVATE KEY") {
        return Err(AuthError::KeyNameLooksLikePrivateKey);
    }
    if key_name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AuthError::MalformedKeyName);
    }
    // An Ed25519 private key pasted as the name: long base64 that decodes to a key's length.
    // (UUIDs hold `-`, which standard base64 does not, so real names never decode here.)
    let decoded_len = match BASE64_LENIENT.decode(key_name) {
        Ok(bytes) if key_name.len() >= 43 => Zeroizing::new(bytes).len(),
        _ => 0,
    };
    if decoded_len == 32 || decoded_len == 64 {
        return Err(AuthError::KeyNameLooksLikePrivateKey);
    }
    Ok(())
}

/// Undoes the escapes a key picks up when copied out of JSON or a shell string: literal `\n`,
/// `\r` and `\/`, and surrounding double quotes. Safe on any key: neither PEM nor base64 text
/// ever contains a backslash or a double quote.
fn unescape_pasted(text: &str) -> Zeroizing<String> {
    let trimmed = text.trim();
    let unquoted = trimmed.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(trimmed);
    Zeroizing::new(unquoted.replace("\\r", "\r").replace("\\n", "\n").replace("\\/", "/"))
}

fn parse_private_key(raw: &str) -> Result<Signer, AuthError> {
    let text = unescape_pasted(raw);
    let text = text.trim();
    if text.is_empty() {
        return Err(AuthError::EmptyPrivateKey);
    }
    if text.contains("-----BEGIN") || text.contains("-----END") {
        return parse_pem(text);
    }
    if text.starts_with("organizations/") {
        return Err(AuthError::PrivateKeyLooksLikeKeyName);
    }
    if is_legacy_secret(text) {
        return Err(AuthError::LegacyKey);
    }
    parse_base64_ed25519(text)
}

/// One `-----BEGIN X-----` … `-----END X-----` block; `body` is the text between, unrepaired.
struct PemBlock<'a> {
    label: &'a str,
    body: &'a str,
}

/// Finds every PEM block in `text`, whatever became of the line breaks between them: the
/// `-----` delimiters alone mark where labels and bodies start and end.
fn pem_blocks(text: &str) -> Result<Vec<PemBlock<'_>>, AuthError> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    const DASHES: &str = "-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        if rest[..start].contains(END) {
            return Err(AuthError::PemWithoutBegin);
        }
        let after_begin = &rest[start + BEGIN.len()..];
        let label_len = after_begin.find(DASHES).ok_or(AuthError::PemUnterminated { label: None })?;
        let label = after_begin[..label_len].trim();
        let after_label = &after_begin[label_len + DASHES.len()..];
        let unterminated = AuthError::PemUnterminated { label: known_label(label) };
        let end_at = after_label.find(END).ok_or_else(|| unterminated.clone())?;
        let body = &after_label[..end_at];
        if body.contains(BEGIN) {
            return Err(unterminated);
        }
        let after_end = &after_label[end_at + END.len()..];
        let end_label_len = after_end.find(DASHES).ok_or(unterminated)?;
        let end_label = after_end[..end_label_len].trim();
        if end_label != label {
            return Err(AuthError::PemLabelMismatch { begin: known_label(label), end: known_label(end_label) });
        }
        blocks.push(PemBlock { label, body });
        rest = &after_end[end_label_len + DASHES.len()..];
    }
    if rest.contains(END) {
        return Err(AuthError::PemWithoutBegin);
    }
    Ok(blocks)
}

fn parse_pem(text: &str) -> Result<Signer, AuthError> {
    // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key: skip it.
    let blocks = pem_blocks(text)?;
    let keys: Vec<&PemBlock> = blocks.iter().filter(|block| block.label != "EC PARAMETERS").collect();
    let block = match keys.as_slice() {
        [] => return Err(AuthError::PemNoPrivateKey),
        [block] => *block,
        several => return Err(AuthError::PemSeveralKeys { count: several.len() }),
    };
    if block.label == "ENCRYPTED PRIVATE KEY" || block.body.contains("Proc-Type:") {
        return Err(AuthError::PemEncrypted);
    }
    match block.label {
        "EC PRIVATE KEY" => {
            let der = pem_body_der(block.body)?;
            let secret = p256::SecretKey::from_sec1_der(&der).map_err(|_| AuthError::InvalidEcKey)?;
            Ok(Signer::Es256(p256::ecdsa::SigningKey::from(secret)))
        }
        "PRIVATE KEY" => {
            let der = pem_body_der(block.body)?;
            signer_from_pkcs8(&der).ok_or(AuthError::InvalidPkcs8Key)
        }
        other => Err(AuthError::PemUnsupportedKind { label: known_label(other) }),
    }
}

fn signer_from_pkcs8(der: &[u8]) -> Option<Signer> {
    if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
        return Some(Signer::EdDsa(key));
    }
    p256::SecretKey::from_pkcs8_der(der).ok().map(|secret| Signer::Es256(p256::ecdsa::SigningKey::from(secret)))
}

/// Decodes a PEM body after dropping every whitespace character, so that lost, doubled, CRLF
/// or space-for-newline line breaks all read the same.
fn pem_body_der(body: &str) -> Result<Zeroizing<Vec<u8>>, AuthError> {
    let compact: Zeroizing<String> = Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
    BASE64_LENIENT.decode(compact.as_bytes()).map(Zeroizing::new).map_err(|_| AuthError::PemBody)
}

fn parse_base64_ed25519(text: &str) -> Result<Signer, AuthError> {
    let compact: Zeroizing<String> = Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    let engine = if compact.contains(['-', '_']) { &BASE64URL_LENIENT } else { &BASE64_LENIENT };
    let bytes = Zeroizing::new(engine.decode(compact.as_bytes()).map_err(|_| AuthError::UnrecognisedPrivateKey)?);
    match bytes.len() {
        32 | 64 => {
            let mut seed = Zeroizing::new([0u8; 32]);
            seed.copy_from_slice(&bytes[..32]);
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            if bytes.len() == 64 && key.verifying_key().as_bytes()[..] != bytes[32..] {
                return Err(AuthError::Ed25519PublicKeyMismatch);
            }
            Ok(Signer::EdDsa(key))
        }
        // A DER SEQUENCE long enough to be a SEC1 or PKCS#8 key: PEM body without its lines.
        len if len > 64 && bytes[0] == 0x30 => Err(AuthError::PemArmourMissing),
        len => Err(AuthError::Ed25519Length { len }),
    }
}

#[cfg(test)]
mod tests;
