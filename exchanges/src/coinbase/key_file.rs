//! The key file the Coinbase Developer Platform portal downloads when a CDP API key is created:
//! a small JSON object holding the key name and the private key.
//!
//! Two shapes are read (neither is written down in Coinbase's docs, which give only
//! the values): an ECDSA key's `{"name": "organizations/…/apiKeys/…", "privateKey": "-----BEGIN
//! EC PRIVATE KEY-----\n…"}` and an Ed25519 key's `{"id": "…", "privateKey": "<base64>"}`; when
//! both `name` and `id` are present, `name` is the key name. Other members are ignored. The key
//! is then checked as one typed at a prompt ([`CdpKey::parse`]): its kind is detected, a legacy
//! key gets the guidance to create a CDP key, a mangled PEM is repaired or refused. No error
//! quotes the file: JSON errors give only a line and a column, field errors only the field name.

use serde_json::{Map, Value};

use super::auth::{AuthError, CdpKey};
use crate::secret::Secret;

/// Larger than any key file by far: a bigger file is not one.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// The key a key file holds, checked: its name and its private key.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The key name (`kid`, `sub`): `organizations/…/apiKeys/…` or a key id.
    pub key_name: String,
    /// The private key, as the file holds it (PEM or base64).
    pub private_key: Secret,
}

/// Why a key file could not be used. Messages name the problem, never the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// Too big to be a key file.
    #[error("it is larger than {MAX_KEY_FILE_BYTES} bytes, so not a CDP key file")]
    TooLarge,
    /// A PEM private key saved to a file, rather than the portal's JSON.
    #[error(
        "it holds a PEM private key, not the CDP portal's JSON key file (which also names the key); give the key name and the private key at the prompt, or with --key-env and --secret-env"
    )]
    PemNotJson,
    /// Not JSON at all.
    #[error(
        "it is not JSON (line {line}, column {column}); give the .json file the CDP portal downloaded when the key was created"
    )]
    NotJson {
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
    },
    /// JSON, but not an object.
    #[error("it is JSON but not an object; a CDP key file is {{\"name\" or \"id\": …, \"privateKey\": …}}")]
    NotObject,
    /// No `privateKey` member.
    #[error("it has no \"privateKey\" field; a CDP key file is {{\"name\" or \"id\": …, \"privateKey\": …}}")]
    MissingPrivateKey,
    /// Neither `name` nor `id`.
    #[error(
        "it has no key name: neither \"name\" (organizations/…/apiKeys/…) nor \"id\"; a CDP key file is {{\"name\" or \"id\": …, \"privateKey\": …}}"
    )]
    MissingName,
    /// A member that must be text is not.
    #[error("its \"{field}\" field is not text")]
    NotText {
        /// The member's name.
        field: &'static str,
    },
    /// The key in it is not a usable CDP key.
    #[error(transparent)]
    Key(#[from] AuthError),
}

/// The text member `field` of `object`, if present.
fn text<'a>(object: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>, KeyFileError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(KeyFileError::NotText { field }),
    }
}

/// Members under which other tools keep an API secret: a file holding one of them and no
/// `privateKey` may be a legacy key, told as such.
const SECRET_FIELDS: &[&str] = &["secret", "apiSecret", "api_secret"];
/// Members under which other tools keep an API key's name, read only with [`SECRET_FIELDS`].
const KEY_FIELDS: &[&str] = &["key", "apiKey", "api_key", "name", "id"];

/// Reads and checks the key in the text of a key file.
pub fn parse_key_file(content: &[u8]) -> Result<KeyFile, KeyFileError> {
    if content.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge);
    }
    if content.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Err(KeyFileError::PemNotJson);
    }
    let value: Value =
        serde_json::from_slice(content).map_err(|e| KeyFileError::NotJson { line: e.line(), column: e.column() })?;
    let Value::Object(object) = value else { return Err(KeyFileError::NotObject) };
    let name = match text(&object, "name")? {
        Some(name) if !name.trim().is_empty() => Some(name),
        _ => text(&object, "id")?,
    };
    let Some(private_key) = text(&object, "privateKey")? else {
        // No CDP private key: a legacy key kept in a JSON file is said to be legacy.
        let secret = SECRET_FIELDS.iter().find_map(|field| object.get(*field).and_then(Value::as_str));
        let key = KEY_FIELDS.iter().find_map(|field| object.get(*field).and_then(Value::as_str));
        if let (Some(secret), Some(key)) = (secret, key) {
            if let Err(AuthError::LegacyKey) = CdpKey::parse(key, &Secret::new(secret)) {
                return Err(AuthError::LegacyKey.into());
            }
        }
        return Err(KeyFileError::MissingPrivateKey);
    };
    let private_key = Secret::new(private_key);
    let Some(name) = name else {
        // Say "legacy" or "not a key" before "no name" when the private key itself is wrong.
        if let Err(error @ (AuthError::LegacyKey | AuthError::EmptyPrivateKey)) = CdpKey::parse("x", &private_key) {
            return Err(error.into());
        }
        return Err(KeyFileError::MissingName);
    };
    let key = CdpKey::parse(name, &private_key)?;
    Ok(KeyFile { key_name: key.key_name().to_owned(), private_key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coinbase::auth::KeyAlgorithm;
    use crate::coinbase::sim::SimKey;

    fn json(members: &[(&str, &str)]) -> Vec<u8> {
        let object: Map<String, Value> =
            members.iter().map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned()))).collect();
        serde_json::to_vec_pretty(&Value::Object(object)).unwrap()
    }

    #[test]
    fn an_ecdsa_key_file_gives_its_name_and_pem_key() {
        let key = SimKey::demo_ec();
        let file = parse_key_file(&json(&[("name", &key.key_name), ("privateKey", &key.private_key)])).unwrap();
        assert_eq!(file.key_name, key.key_name);
        assert_eq!(file.private_key.expose(), key.private_key);
        assert_eq!(CdpKey::parse(&file.key_name, &file.private_key).unwrap().algorithm(), KeyAlgorithm::Es256);
    }

    #[test]
    fn an_ed25519_key_file_gives_its_id_and_base64_key() {
        let key = SimKey::demo();
        let file = parse_key_file(&json(&[("id", &key.key_name), ("privateKey", &key.private_key)])).unwrap();
        assert_eq!(file.key_name, key.key_name);
        assert_eq!(CdpKey::parse(&file.key_name, &file.private_key).unwrap().algorithm(), KeyAlgorithm::EdDsa);
        // `name` wins over `id`; other members are ignored.
        let both = json(&[("id", "other"), ("name", &key.key_name), ("privateKey", &key.private_key), ("note", "x")]);
        assert_eq!(parse_key_file(&both).unwrap().key_name, key.key_name);
    }

    /// The PEM key with its second line's fifth character made one that base64 does not have.
    fn garble(pem: &str) -> String {
        let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
        lines[1].replace_range(4..5, "!");
        lines.join("\n")
    }

    #[test]
    fn what_is_wrong_is_named_and_nothing_of_the_key_is_quoted() {
        let key = SimKey::demo_ec();
        assert!(matches!(parse_key_file(b"not json").unwrap_err(), KeyFileError::NotJson { line: 1, .. }));
        assert_eq!(parse_key_file(b"[1]").unwrap_err(), KeyFileError::NotObject);
        assert_eq!(parse_key_file(key.private_key.as_bytes()).unwrap_err(), KeyFileError::PemNotJson);
        assert_eq!(parse_key_file(&json(&[("name", &key.key_name)])).unwrap_err(), KeyFileError::MissingPrivateKey);
        assert_eq!(parse_key_file(&json(&[("privateKey", &key.private_key)])).unwrap_err(), KeyFileError::MissingName);
        assert_eq!(
            parse_key_file(br#"{"name": "n", "privateKey": 7}"#).unwrap_err(),
            KeyFileError::NotText { field: "privateKey" }
        );
        let garbled = garble(&key.private_key);
        let error = parse_key_file(&json(&[("name", &key.key_name), ("privateKey", &garbled)])).unwrap_err();
        assert!(matches!(error, KeyFileError::Key(_)), "{error:?}");
        let not_a_key = json(&[("name", &key.key_name), ("privateKey", "hello world, no key here")]);
        assert_eq!(parse_key_file(&not_a_key).unwrap_err(), KeyFileError::Key(AuthError::UnrecognisedPrivateKey));
        assert_eq!(parse_key_file(&vec![b' '; MAX_KEY_FILE_BYTES + 1]).unwrap_err(), KeyFileError::TooLarge);
        // A JSON error of serde_json could quote a string: ours never does.
        let broken = format!("{{\"privateKey\": \"{}\" \"x\"}}", key.private_key.replace('\n', "\\n"));
        let message = parse_key_file(broken.as_bytes()).unwrap_err().to_string();
        let body: String = key.private_key.lines().filter(|l| !l.starts_with("-----")).collect();
        for piece in body.as_bytes().chunks(12) {
            assert!(!message.contains(std::str::from_utf8(piece).unwrap()), "{message}");
        }
    }

    #[test]
    fn a_legacy_key_is_told_as_legacy() {
        // Reference §2.3's sample legacy secret, with a 16-character key.
        const LEGACY_SECRET: &str = "M4009eFnOoPwhNoMwJlsAHgIgleGVFPl";
        let legacy = json(&[("name", "abcdEFGH12345678"), ("privateKey", LEGACY_SECRET)]);
        assert_eq!(parse_key_file(&legacy).unwrap_err(), KeyFileError::Key(AuthError::LegacyKey));
        let other_tool = json(&[("apiKey", "abcdEFGH12345678"), ("apiSecret", LEGACY_SECRET)]);
        assert_eq!(parse_key_file(&other_tool).unwrap_err(), KeyFileError::Key(AuthError::LegacyKey));
    }
}
