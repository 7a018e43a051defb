use super::*;

fn account(label: &str, base_url: Option<&str>, source: CredentialSource) -> Account {
    Account {
        id: 1,
        label: label.to_string(),
        exchange: "binance".to_string(),
        base_url: base_url.map(str::to_string),
        credential_source: source,
        key_env: None,
        secret_env: None,
        passphrase_env: None,
        allow_withdraw_key: false,
        created_at: String::new(),
    }
}

#[test]
fn hosts_are_production_loopback_custom_or_refused() {
    let kind = |url: Option<&str>| classify_host("a", Exchange::Binance, url).map(|(kind, _)| kind);
    assert_eq!(
        classify_host("a", Exchange::Binance, None).unwrap(),
        (HostKind::Production, "https://api.binance.com".into())
    );
    assert_eq!(kind(Some("https://API.binance.com/")).unwrap(), HostKind::Production);
    for local in
        ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:3000/x", "http://[::1]:99", "https://localhost"]
    {
        assert_eq!(kind(Some(local)).unwrap(), HostKind::Loopback, "{local}");
    }
    for custom in ["https://proxy.example", "https://127.0.0.1.example.com", "https://api.binance.com.evil.com"] {
        assert_eq!(kind(Some(custom)).unwrap(), HostKind::Custom, "{custom}");
    }
    for refused in [
        "http://api.binance.com",
        "http://10.0.0.1",
        "http://localhost.evil.com",
        "http://[::2]",
        "ftp://127.0.0.1",
        "not a url",
    ] {
        assert!(matches!(kind(Some(refused)), Err(ConnectError::HostRefused { custom: false, .. })), "{refused}");
    }
    // A custom host needs the flag, and then comes with a warning naming it.
    let refused = check_host("a", Exchange::Binance, Some("https://proxy.example/api"), false).unwrap_err();
    assert!(matches!(refused, ConnectError::HostRefused { custom: true, .. }), "{refused}");
    let (origin, warning) = check_host("a", Exchange::Binance, Some("https://proxy.example/api"), true).unwrap();
    assert_eq!(origin, "https://proxy.example");
    assert!(warning.unwrap().contains("https://proxy.example"));
    // A URL's user part (which could hold a secret) is never quoted.
    let err = check_host("a", Exchange::Binance, Some("http://user:hunter2@10.0.0.1"), true).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn a_sync_goes_only_to_the_origin_its_key_is_bound_to() {
    let dir = tempfile::tempdir().unwrap();
    let file = CredentialsFile::at(Some(dir.path().join("credentials.toml"))).unwrap();
    let key = ApiKey::new(cointally_exchanges::Secret::new("k"), cointally_exchanges::Secret::new("s"));
    file.put("l", "sim", &key, "http://127.0.0.1:8080").unwrap();
    let bound = account("sim", Some("http://127.0.0.1:8080/"), CredentialSource::File);
    assert_eq!(
        route(&bound, Exchange::Binance, "l", &file).unwrap().base_url.as_deref(),
        Some("http://127.0.0.1:8080/")
    );
    let moved = account("sim", Some("http://127.0.0.1:8081"), CredentialSource::File);
    let err = route(&moved, Exchange::Binance, "l", &file).unwrap_err();
    assert!(
        matches!(&err, ConnectError::HostMismatch { bound, effective, .. }
        if bound == "http://127.0.0.1:8080" && effective == "http://127.0.0.1:8081"),
        "{err}"
    );
    // No binding: production. An allowed custom host is named at every sync.
    let unbound = account("old", Some("http://127.0.0.1:8080"), CredentialSource::Env);
    let err = route(&unbound, Exchange::Binance, "l", &file).unwrap_err();
    assert!(err.to_string().contains("bound to https://api.binance.com"), "{err}");
    file.bind("l", "custom", "https://proxy.example").unwrap();
    let custom = account("custom", Some("https://proxy.example/v1"), CredentialSource::Env);
    let route = route(&custom, Exchange::Binance, "l", &file).unwrap();
    assert_eq!(route.warnings.len(), 1);
    assert!(route.warnings[0].contains("https://proxy.example"));
}

#[test]
fn an_unknown_withdraw_permission_fails_closed() {
    let unknown =
        KeyPermissions { can_read: true, details: vec!["can_transfer not reported".into()], ..Default::default() };
    let err = judge_permissions("a", &unknown, false).unwrap_err();
    assert!(err.to_string().contains("can_transfer not reported"), "{err}");
    let warnings = judge_permissions("a", &unknown, true).unwrap();
    assert!(warnings[0].contains("--allow-withdraw-key"), "{warnings:?}");
    let cannot = KeyPermissions { can_read: true, can_withdraw: Some(false), ..Default::default() };
    assert!(judge_permissions("a", &cannot, false).unwrap().is_empty(), "unknown trading is no warning");
    let trades = KeyPermissions { can_trade: Some(true), ..cannot };
    assert_eq!(judge_permissions("a", &trades, false).unwrap().len(), 1);
}
