use super::*;
use crate::hex::lower_hex;
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};

/// Reference §2.2, "Deterministic vector derived for unit tests": seed 0x00…0x1f followed
/// by its public key, base64.
const ED25519_SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8DoQe/884Qvh1w3RjnS8CZZ+TWMJulDV8d3IZkElUxuA==";
/// Reference §2.2: the public key of that seed, hex.
const ED25519_PUBLIC_HEX: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
/// Reference §2.2: header JSON, claims JSON and token of the worked example.
const ED25519_HEADER_JSON: &str = r#"{"alg":"EdDSA","kid":"00000000-0000-0000-0000-000000000000","nonce":"0123456789abcdef0123456789abcdef","typ":"JWT"}"#;
const ED25519_CLAIMS_JSON: &str = r#"{"sub":"00000000-0000-0000-0000-000000000000","iss":"cdp","nbf":1700000000,"exp":1700000120,"uri":"GET api.coinbase.com/api/v3/brokerage/accounts"}"#;
const ED25519_TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCIsIm5vbmNlIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJpc3MiOiJjZHAiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMDEyMCwidXJpIjoiR0VUIGFwaS5jb2luYmFzZS5jb20vYXBpL3YzL2Jyb2tlcmFnZS9hY2NvdW50cyJ9.LkSkfY5fT-Adzd8dTUvAbntxJXcuvJNNr3tRgdq6-GBlANmk-l3SUww80x2wX9en3hjJi0eT5tPAg1fAMieGAw";
const ED25519_KEY_NAME: &str = "00000000-0000-0000-0000-000000000000";
const ED25519_NONCE: &str = "0123456789abcdef0123456789abcdef";
const ACCOUNTS_PATH: &str = "/api/v3/brokerage/accounts";

/// Reference §2.1: the example ECDSA key name.
const EC_KEY_NAME: &str =
    "organizations/8f1ac569-ed29-48ae-b989-6798a975afab/apiKeys/87d98ae9-f31f-42ee-9b69-723d3ff9dd77";
/// Reference §2.3: Coinbase's sample legacy secret.
const LEGACY_SECRET: &str = "M4009eFnOoPwhNoMwJlsAHgIgleGVFPl";

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

/// The fixed P-256 test key: scalar bytes 0x01…0x20.
fn test_ec_secret() -> p256::SecretKey {
    let bytes: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
    p256::SecretKey::from_bytes(&bytes.into()).unwrap()
}

fn test_ec_pem() -> String {
    test_ec_secret().to_sec1_pem(LineEnding::LF).unwrap().to_string()
}

/// The base64 text inside a PEM key, without whitespace: what must never leak.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|line| !line.starts_with("-----")).collect()
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn decode_segment(segment: &str) -> String {
    String::from_utf8(URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn split_token(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    let parts3 = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    assert_eq!(parts.next(), None);
    parts3
}

/// Fails if `text` holds any 8-character run of `material`.
fn assert_no_piece_of(material: &str, text: &str) {
    let chars: Vec<char> = material.chars().filter(|c| !c.is_whitespace()).collect();
    for window in chars.windows(8) {
        let piece: String = window.iter().collect();
        assert!(!text.contains(&piece), "{text:?} contains key material {piece:?}");
    }
}

fn ec_key_of(pem: &str) -> p256::ecdsa::VerifyingKey {
    match CdpKey::parse(EC_KEY_NAME, &Secret::new(pem)).unwrap().signer {
        Signer::Es256(key) => *key.verifying_key(),
        Signer::EdDsa(_) => panic!("expected an ES256 key"),
    }
}

#[test]
fn ed25519_worked_example_of_reference_2_2_reproduced_exactly() {
    let key = CdpKey::parse(ED25519_KEY_NAME, &Secret::new(ED25519_SECRET)).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::EdDsa);
    let Signer::EdDsa(signing) = &key.signer else { panic!("expected Ed25519") };
    let public_hex: String = lower_hex(signing.verifying_key().as_bytes());
    assert_eq!(public_hex, ED25519_PUBLIC_HEX);

    let token = key.rest_jwt("GET", API_HOST, ACCOUNTS_PATH, at(1_700_000_000), ED25519_NONCE).unwrap();
    let (header, claims, _) = split_token(&token);
    assert_eq!(decode_segment(header), ED25519_HEADER_JSON);
    assert_eq!(decode_segment(claims), ED25519_CLAIMS_JSON);
    assert_eq!(token, ED25519_TOKEN);
}

#[test]
fn ed25519_seed_alone_and_other_pastes_give_the_same_token() {
    let full = BASE64_LENIENT.decode(ED25519_SECRET).unwrap();
    let seed_only = base64::engine::general_purpose::STANDARD.encode(&full[..32]);
    let unpadded = ED25519_SECRET.trim_end_matches('=').to_owned();
    let url_safe = URL_SAFE_NO_PAD.encode(&full);
    let quoted_with_escape = format!("\"{ED25519_SECRET}\\n\"");
    let pkcs8 = pem_wrap(
        "PRIVATE KEY",
        ed25519_dalek::SigningKey::from_bytes(full[..32].try_into().unwrap()).to_pkcs8_der().unwrap().as_bytes(),
    );
    for secret in [seed_only, unpadded, url_safe, quoted_with_escape, pkcs8.replace('\n', "\\n")] {
        let key = CdpKey::parse(ED25519_KEY_NAME, &Secret::new(secret.as_str())).unwrap();
        let token = key.rest_jwt("get", API_HOST, ACCOUNTS_PATH, at(1_700_000_000), ED25519_NONCE).unwrap();
        assert_eq!(token, ED25519_TOKEN, "secret form {secret:?}");
    }
}

#[test]
fn es256_token_verifies_with_the_public_key_and_has_the_required_header_and_claims() {
    let pem = test_ec_pem();
    assert!(pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    let key = CdpKey::parse(EC_KEY_NAME, &Secret::new(pem.as_str())).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Es256);

    let path = "/v2/accounts/2bbf394c-193b-5b2a-9155-3b4732659ede/transactions?limit=100&starting_after=abc";
    let token = key.rest_jwt("GET", API_HOST, path, at(1_700_000_000), "f00d").unwrap();
    let (header, claims, signature) = split_token(&token);
    let expected_header = format!(r#"{{"alg":"ES256","kid":"{EC_KEY_NAME}","nonce":"f00d","typ":"JWT"}}"#);
    assert_eq!(decode_segment(header), expected_header);
    let claims: serde_json::Value = serde_json::from_str(&decode_segment(claims)).unwrap();
    assert_eq!(
        claims,
        serde_json::json!({
            "sub": EC_KEY_NAME,
            "iss": "cdp",
            "nbf": 1_700_000_000,
            "exp": 1_700_000_120,
            "uri": "GET api.coinbase.com/v2/accounts/2bbf394c-193b-5b2a-9155-3b4732659ede/transactions",
        })
    );

    // Raw r‖s, 64 bytes, verified with the public key of the fixed test scalar.
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(signature.len(), 64);
    let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
    let public = p256::ecdsa::VerifyingKey::from(test_ec_secret().public_key());
    let signing_input = token.rsplit_once('.').unwrap().0;
    public.verify(signing_input.as_bytes(), &signature).unwrap();
    assert!(public.verify(b"something else", &signature).is_err());
}

#[test]
fn ed25519_token_verifies_with_the_public_key() {
    let key = CdpKey::parse(ED25519_KEY_NAME, &Secret::new(ED25519_SECRET)).unwrap();
    let token = key.rest_jwt("GET", API_HOST, "/v2/accounts?limit=100", at(1_750_000_000), "n1").unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    let public_bytes: Vec<u8> =
        (0..32).map(|i| u8::from_str_radix(&ED25519_PUBLIC_HEX[2 * i..2 * i + 2], 16).unwrap()).collect();
    let public = ed25519_dalek::VerifyingKey::from_bytes(public_bytes.as_slice().try_into().unwrap()).unwrap();
    public.verify_strict(signing_input.as_bytes(), &signature).unwrap();
}

#[test]
fn expiry_is_two_minutes_after_not_before() {
    let key = CdpKey::parse(EC_KEY_NAME, &Secret::new(test_ec_pem())).unwrap();
    let token = key.rest_jwt("GET", API_HOST, ACCOUNTS_PATH, at(1_234_567_890), "n").unwrap();
    let claims: serde_json::Value = serde_json::from_str(&decode_segment(split_token(&token).1)).unwrap();
    assert_eq!(claims["nbf"], 1_234_567_890);
    assert_eq!(claims["exp"], 1_234_567_890 + JWT_LIFETIME_SECONDS);
}

#[test]
fn pem_pasted_with_literal_backslash_n_is_repaired() {
    let pem = test_ec_pem();
    let expected = ec_key_of(&pem);
    assert_eq!(ec_key_of(&pem.replace('\n', "\\n")), expected);
    assert_eq!(ec_key_of(&pem.replace('\n', "\\r\\n")), expected);
    // As copied out of a JSON file: quoted, escaped.
    assert_eq!(ec_key_of(&format!("\"{}\"", pem.replace('\n', "\\n"))), expected);
}

#[test]
fn pem_with_its_line_breaks_lost_or_changed_is_repaired() {
    let pem = test_ec_pem();
    let expected = ec_key_of(&pem);
    assert_eq!(ec_key_of(&pem.replace('\n', "")), expected);
    assert_eq!(ec_key_of(&pem.replace('\n', " ")), expected);
    assert_eq!(ec_key_of(&pem.replace('\n', "\r\n")), expected);
    assert_eq!(ec_key_of(&format!("  \n{}\n\n", pem.replace('\n', "\n\n"))), expected);
}

#[test]
fn pem_after_ec_parameters_block_and_pkcs8_p256_are_read() {
    let pem = test_ec_pem();
    let expected = ec_key_of(&pem);
    let with_parameters =
        format!("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{pem}");
    assert_eq!(ec_key_of(&with_parameters), expected);
    let pkcs8 = test_ec_secret().to_pkcs8_pem(LineEnding::LF).unwrap();
    assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(ec_key_of(&pkcs8), expected);
}

#[test]
fn legacy_key_is_refused_with_how_to_make_a_cdp_key() {
    let error = CdpKey::parse("abcdEFGH12345678", &Secret::new(LEGACY_SECRET)).unwrap_err();
    assert_eq!(error, AuthError::LegacyKey);
    let message = error.to_string();
    assert!(message.contains("February 2025"), "{message}");
    assert!(message.contains("CDP API key"), "{message}");
    assert!(message.contains("View permission"), "{message}");
    assert_no_piece_of(LEGACY_SECRET, &message);
    // The secret alone is enough to tell.
    assert_eq!(CdpKey::parse("anything", &Secret::new(LEGACY_SECRET)).unwrap_err(), AuthError::LegacyKey);
    // A legacy-looking name with a secret that is no CDP key is called legacy too.
    assert_eq!(
        CdpKey::parse("abcdEFGH12345678", &Secret::new("M4009eFnOoPwhNoMwJlsAHgIgleGVFPlxx")).unwrap_err(),
        AuthError::LegacyKey
    );
}

#[test]
fn jwt_uri_leaves_out_query_and_refuses_what_it_cannot_sign() {
    assert_eq!(
        jwt_uri("get", "API.coinbase.com", "/v2/accounts?&limit=25&starting_after=5d5aed5f").unwrap(),
        "GET api.coinbase.com/v2/accounts"
    );
    assert_eq!(
        jwt_uri("GET", "127.0.0.1:8080", "/api/v3/brokerage/accounts#x").unwrap(),
        "GET 127.0.0.1:8080/api/v3/brokerage/accounts"
    );
    assert!(matches!(jwt_uri("GET", "https://api.coinbase.com", "/v2/accounts"), Err(AuthError::InvalidRequest(_))));
    assert!(matches!(jwt_uri("GET", "api.coinbase.com", "v2/accounts"), Err(AuthError::InvalidRequest(_))));
    assert!(matches!(jwt_uri("", "api.coinbase.com", "/v2/accounts"), Err(AuthError::InvalidRequest(_))));
    let key = CdpKey::parse(ED25519_KEY_NAME, &Secret::new(ED25519_SECRET)).unwrap();
    assert_eq!(
        key.rest_jwt("GET", API_HOST, ACCOUNTS_PATH, at(0), ""),
        Err(AuthError::InvalidRequest("the nonce is empty"))
    );
    assert_eq!(authorization_header("abc"), "Bearer abc");
}

#[test]
fn swapped_fields_are_named_without_echoing_the_key() {
    let pem = test_ec_pem();
    let error = CdpKey::parse(&pem, &Secret::new(EC_KEY_NAME)).unwrap_err();
    assert_eq!(error, AuthError::PrivateKeyLooksLikeKeyName);
    let error = CdpKey::parse(ED25519_SECRET, &Secret::new(ED25519_SECRET)).unwrap_err();
    assert_eq!(error, AuthError::KeyNameLooksLikePrivateKey);
    let error = CdpKey::parse(&pem.replace('\n', ""), &Secret::new(pem.as_str())).unwrap_err();
    assert_eq!(error, AuthError::KeyNameLooksLikePrivateKey);
    assert_eq!(CdpKey::parse("  ", &Secret::new(pem.as_str())).unwrap_err(), AuthError::EmptyKeyName);
    assert_eq!(CdpKey::parse("a b", &Secret::new(pem.as_str())).unwrap_err(), AuthError::MalformedKeyName);
}

/// Every way a pasted private key can be wrong, with the error it must give.
fn broken_private_keys() -> Vec<(String, AuthError)> {
    let pem = test_ec_pem();
    let body = pem_body(&pem);
    let mut ed25519_mismatch = BASE64_LENIENT.decode(ED25519_SECRET).unwrap();
    ed25519_mismatch[40] ^= 1;
    let ed25519_short = BASE64_LENIENT.decode(ED25519_SECRET).unwrap();
    let der = test_ec_secret().to_sec1_der().unwrap();
    vec![
        (String::new(), AuthError::EmptyPrivateKey),
        (
            pem.replace("-----END EC PRIVATE KEY-----\n", ""),
            AuthError::PemUnterminated { label: Some("EC PRIVATE KEY") },
        ),
        (pem.replace("-----BEGIN EC PRIVATE KEY-----\n", ""), AuthError::PemWithoutBegin),
        (
            pem.replace("END EC PRIVATE KEY", "END PRIVATE KEY"),
            AuthError::PemLabelMismatch { begin: Some("EC PRIVATE KEY"), end: Some("PRIVATE KEY") },
        ),
        (format!("{pem}{pem}"), AuthError::PemSeveralKeys { count: 2 }),
        (
            pem.replace("EC PRIVATE KEY", "RSA PRIVATE KEY"),
            AuthError::PemUnsupportedKind { label: Some("RSA PRIVATE KEY") },
        ),
        (pem.replace("EC PRIVATE KEY", &body[..20]), AuthError::PemUnsupportedKind { label: None }),
        (pem.replace("EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), AuthError::PemEncrypted),
        (pem.replacen(&body[..8], &format!("{}!", &body[..7]), 1), AuthError::PemBody),
        (pem.replacen(&body[..8], "\\t", 1), AuthError::PemBody),
        (pem_wrap("EC PRIVATE KEY", &der[..der.len() - 5]), AuthError::InvalidEcKey),
        (pem_wrap("PRIVATE KEY", &der), AuthError::InvalidPkcs8Key),
        (
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n".to_owned(),
            AuthError::PemNoPrivateKey,
        ),
        (body.clone(), AuthError::PemArmourMissing),
        (format!("{}!", &body[..40]), AuthError::UnrecognisedPrivateKey),
        (base64::engine::general_purpose::STANDARD.encode(&ed25519_short[..48]), AuthError::Ed25519Length { len: 48 }),
        (base64::engine::general_purpose::STANDARD.encode(&ed25519_mismatch), AuthError::Ed25519PublicKeyMismatch),
    ]
}

#[test]
fn broken_private_keys_give_typed_errors_without_key_material() {
    for (secret, expected) in broken_private_keys() {
        let error = CdpKey::parse(EC_KEY_NAME, &Secret::new(secret.as_str())).unwrap_err();
        assert_eq!(error, expected, "for {secret:?}");
        let shown = format!("{error} {error:?}");
        assert_no_piece_of(&pem_body(&secret), &shown);
        assert_no_piece_of(&pem_body(&test_ec_pem()), &shown);
        assert_no_piece_of(ED25519_SECRET, &shown);
    }
}

#[test]
fn debug_of_a_key_never_shows_the_private_key() {
    let pem = test_ec_pem();
    let ec = CdpKey::parse(EC_KEY_NAME, &Secret::new(pem.as_str())).unwrap();
    let ed = CdpKey::parse(ED25519_KEY_NAME, &Secret::new(ED25519_SECRET)).unwrap();
    let seed_hex: String = lower_hex(&(0u8..32).collect::<Vec<u8>>());
    let scalar_hex: String = lower_hex(&(1u8..=32).collect::<Vec<u8>>());
    for shown in [format!("{ec:?}"), format!("{ed:?}"), format!("{:#?}", Some(&ed))] {
        assert!(shown.contains("[redacted]"), "{shown}");
        assert_no_piece_of(&pem_body(&pem), &shown);
        assert_no_piece_of(ED25519_SECRET, &shown);
        assert_no_piece_of(&seed_hex, &shown);
        assert_no_piece_of(&scalar_hex, &shown);
        assert!(!shown.contains("[0, 1, 2, 3"), "{shown}");
        assert!(!shown.contains("[1, 2, 3, 4"), "{shown}");
    }
    assert!(format!("{ec:?}").contains(EC_KEY_NAME));
}
