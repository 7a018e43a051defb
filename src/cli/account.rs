//! `cointally account add|list|check|remove|bind|files`: the exchange accounts and wallets of a ledger.

use std::io::{BufRead, IsTerminal, Read};

use cointally_exchanges::registry::{self, KeyProblem, Keys, ReadKeyFile};
use cointally_exchanges::{Exchange, Secret};
use serde::Serialize;

use cointally_exchanges::adapter::KeyPermissions;

use crate::credentials::{ApiKey, CredentialsFile};
use crate::ledger::{Account, CredentialSource, NewAccount};
use crate::sync::connect::{self, ConnectError, Connector};

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add an account; its API key is asked for without echo and kept outside the ledger
    Add(AddArgs),
    /// List the accounts
    List,
    /// Ask the exchange what an account's API key may do
    Check(CheckArgs),
    /// Remove an account, its history and its stored key
    Remove(RemoveArgs),
    /// Bind an account's API key to the URL the account now talks to (after you moved it)
    Bind(BindArgs),
    /// List the history files imported into an account (kept whole), or save one back
    Files(super::account_files::Args),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The exchange: binance, kraken, coinbase, ... or `wallet` for a self-custody wallet
    exchange: String,
    /// Your name for the account, unique in the ledger
    #[arg(long)]
    label: String,
    /// Talk to this base URL instead of the exchange's production one
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Read the API key from this environment variable at sync time
    #[arg(long, value_name = "VAR", requires = "secret_env", conflicts_with = "no_key")]
    key_env: Option<String>,
    /// Read the API secret from this environment variable at sync time
    #[arg(long, value_name = "VAR", requires = "key_env", conflicts_with = "no_key")]
    secret_env: Option<String>,
    /// Read the API passphrase from this environment variable at sync time (KuCoin, OKX:
    /// the passphrase chosen when the key was made)
    #[arg(long, value_name = "VAR", requires = "key_env", conflicts_with = "no_key")]
    passphrase_env: Option<String>,
    /// Read the key from the JSON key file the Coinbase Developer Platform portal downloaded
    /// (`{"name" or "id": ..., "privateKey": ...}`); it is stored like a key given at the prompt
    #[arg(long, value_name = "PATH", conflicts_with_all = ["key_env", "secret_env", "no_key"])]
    key_file: Option<std::path::PathBuf>,
    /// No API key: the account only holds imported files and is never contacted
    #[arg(long)]
    no_key: bool,
    /// Accept a key that can withdraw funds (not recommended)
    #[arg(long)]
    allow_withdraw_key: bool,
    /// Allow a base URL on a host other than the exchange's API or this machine (https only);
    /// every sync then names it in a warning
    #[arg(long)]
    allow_custom_host: bool,
}

#[derive(Debug, clap::Args)]
pub struct BindArgs {
    /// The account's label
    label: String,
    /// Allow a host other than the exchange's API or this machine (https only)
    #[arg(long)]
    allow_custom_host: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The account's label
    label: String,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The account's label
    label: String,
    /// Do not ask for confirmation
    #[arg(long, short)]
    yes: bool,
}

pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add(args) => add(context, args),
        Command::List => list(context),
        Command::Check(args) => check(context, args),
        Command::Remove(args) => remove(context, args),
        Command::Bind(args) => bind(context, args),
        Command::Files(args) => super::account_files::run(context, args),
    }
}

fn add(context: &Context, args: AddArgs) -> anyhow::Result<()> {
    let exchange: Exchange = args.exchange.parse().map_err(|e| Failure::input(format!("{e}")))?;
    if args.label.trim().is_empty() || args.label.chars().any(|c| c.is_control()) {
        return Err(Failure::input(format!("{:?} is not a usable label", args.label)).into());
    }
    if let Some(url) = &args.base_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Failure::input(format!("--base-url {url:?} is not an http:// or https:// URL")).into());
        }
    }
    let mut ledger = context.open_ledger()?;
    if ledger.find_account(&args.label)?.is_some() {
        return Err(crate::ledger::LedgerError::DuplicateLabel(args.label).into());
    }
    let wants_key = !args.no_key && exchange.takes_api_key();
    if args.key_env.is_some() && !exchange.takes_api_key() {
        return Err(Failure::input(format!(
            "cointally has no API client for {exchange}: its history comes from files"
        ))
        .hint(format!("add it with --no-key: cointally account add {exchange} --label {} --no-key", args.label))
        .into());
    }
    let keys = registry::entry(exchange).keys;
    if args.key_file.is_some() && keys.key_file.is_none() {
        return Err(Failure::input(format!(
            "--key-file reads the key file of a Coinbase CDP API key; a {exchange} key is not given that way"
        ))
        .hint("give the key at the prompt, or name environment variables with --key-env and --secret-env")
        .into());
    }
    check_passphrase_env(exchange, keys, &args)?;
    let source = match (&args.key_env, wants_key || args.key_file.is_some()) {
        (Some(_), _) => CredentialSource::Env,
        (None, true) => CredentialSource::File,
        (None, false) => CredentialSource::None,
    };
    let new = NewAccount {
        label: args.label.clone(),
        exchange: exchange.as_str().to_string(),
        base_url: args.base_url.clone(),
        credential_source: source,
        key_env: args.key_env.clone(),
        secret_env: args.secret_env.clone(),
        passphrase_env: args.passphrase_env.clone(),
        allow_withdraw_key: args.allow_withdraw_key,
    };
    let base_url = args
        .base_url
        .clone()
        .or_else(|| std::env::var(connect::base_url_env(exchange)).ok().filter(|v| !v.trim().is_empty()));
    // Where the key may go is settled before it is read, asked about or stored.
    let bound = match source != CredentialSource::None && connect::has_client(exchange) {
        true => {
            let (origin, warning) =
                connect::check_host(&args.label, exchange, base_url.as_deref(), args.allow_custom_host)?;
            if let Some(warning) = warning {
                context.note(format!("warning: {warning}"));
            }
            Some(origin)
        }
        false => None,
    };
    let production = connect::production_url(exchange).and_then(cointally_exchanges::http::origin_of);
    let mut checked = false;
    let mut stored_in = None;
    if source == CredentialSource::Env {
        let env =
            |var: &Option<String>| var.as_ref().and_then(|v| std::env::var(v).ok()).filter(|v| !v.trim().is_empty());
        let passphrase = env(&args.passphrase_env);
        if let (Some(key), Some(secret), true, true) = (
            env(&args.key_env),
            env(&args.secret_env),
            connect::has_client(exchange),
            passphrase.is_some() || !keys.passphrase,
        ) {
            let api_key = ApiKey {
                key: Secret::new(key.trim()),
                secret: Secret::new(secret.trim()),
                passphrase: passphrase.map(|p| Secret::new(p.trim())),
            };
            check_key_shape(keys, &api_key)?;
            check_key(context, &args.label, exchange, api_key, base_url.as_deref(), args.allow_withdraw_key)?;
            checked = true;
        }
        // The key is not stored, but where it may go is: elsewhere than production, an
        // entry without a secret binds it (the ledger's URL alone never decides).
        if let Some(origin) = bound.as_ref().filter(|origin| Some(*origin) != production.as_ref()) {
            let file = CredentialsFile::at(context.credentials.clone())?;
            file.bind(&ledger.ledger_id()?, &args.label, origin)?;
            stored_in = Some(file);
        }
    }
    if source == CredentialSource::File {
        let api_key = match (&args.key_file, keys.key_file) {
            (Some(path), Some(read)) => read_key_file(path, read)?,
            _ => read_api_key(exchange, keys, &args.label)?,
        };
        check_key_shape(keys, &api_key)?;
        if connect::has_client(exchange) {
            check_key(context, &args.label, exchange, api_key.clone(), base_url.as_deref(), args.allow_withdraw_key)?;
            checked = true;
        }
        let file = CredentialsFile::at(context.credentials.clone())?;
        let origin = bound.clone().or_else(|| production.clone()).unwrap_or_default();
        file.put(&ledger.ledger_id()?, &args.label, &api_key, &origin)?;
        stored_in = Some(file);
    }
    let account = match ledger.add_account(&new) {
        Ok(account) => account,
        Err(e) => {
            if let Some(file) = &stored_in {
                let _ = file.remove(&ledger.ledger_id()?, &args.label);
            }
            return Err(e.into());
        }
    };
    if context.json {
        print_json(&AccountJson::from_account(&account, 0))?;
    } else {
        println!("added account {} ({})", account.label, account.exchange);
    }
    match source {
        CredentialSource::None => context.note(format!(
            "{} holds imported files only; import with `cointally import FILE --account {}`",
            account.label, account.label
        )),
        CredentialSource::Env => {
            for var in [&args.key_env, &args.secret_env, &args.passphrase_env].into_iter().flatten() {
                if std::env::var_os(var).is_none() {
                    context.note(format!("note: ${var} is not set now; it is read when the account is synced"));
                }
            }
            if let (Some(file), Some(origin)) = (&stored_in, &bound) {
                context.note(format!(
                    "the key is bound to {origin} in {} (no secret is stored there)",
                    file.path().display()
                ));
            }
            if !checked {
                context.note("the key's permissions are checked with the exchange when the account is synced");
            }
        }
        CredentialSource::File => {
            if let Some(file) = stored_in {
                context.note(format!("the key is stored in {} (owner-only), not in the ledger", file.path().display()));
            }
            if !checked {
                context.note("the key's permissions are checked with the exchange when the account is synced");
            }
        }
    }
    Ok(())
}

/// Asks the exchange what the key may do: refuses a key that can withdraw (unless allowed),
/// warns about trading and missing IP restrictions. Nothing is written before this passes.
fn check_key(
    context: &Context,
    label: &str,
    exchange: Exchange,
    key: ApiKey,
    base_url: Option<&str>,
    allow_withdraw: bool,
) -> anyhow::Result<KeyPermissions> {
    let adapter = Connector::new().adapter(label, exchange, key, base_url)?;
    let permissions = adapter.key_permissions().map_err(|source| ConnectError::fetch(label, source))?;
    for warning in connect::judge_permissions(label, &permissions, allow_withdraw)? {
        context.note(format!("warning: {warning}"));
    }
    for note in adapter.key_notes().map_err(|source| ConnectError::fetch(label, source))? {
        context.note(format!("note: {note}"));
    }
    Ok(permissions)
}

/// `account check --json`: what the key may do.
#[derive(Serialize)]
struct CheckJson {
    account: String,
    exchange: String,
    can_read: bool,
    can_trade: Option<bool>,
    can_withdraw: Option<bool>,
    ip_restricted: Option<bool>,
    details: Vec<String>,
}

fn check(context: &Context, args: CheckArgs) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let account = ledger.account(&args.label)?;
    let exchange: Exchange = account.exchange.parse().map_err(|e| Failure::input(format!("{e}")))?;
    let file = CredentialsFile::at(context.credentials.clone())?;
    let ledger_id = ledger.ledger_id()?;
    let route = connect::route(&account, exchange, &ledger_id, &file)?;
    for warning in &route.warnings {
        context.note(format!("warning: {warning}"));
    }
    let key = connect::api_key(&account, &ledger_id, &file)?;
    let p = check_key(context, &account.label, exchange, key, route.base_url.as_deref(), account.allow_withdraw_key)?;
    if context.json {
        return Ok(print_json(&CheckJson {
            account: account.label,
            exchange: account.exchange,
            can_read: p.can_read,
            can_trade: p.can_trade,
            can_withdraw: p.can_withdraw,
            ip_restricted: p.ip_restricted,
            details: p.details,
        })?);
    }
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown (the exchange does not say)",
    };
    println!("account {} ({})", account.label, account.exchange);
    println!("  read:     {}", yes_no(Some(p.can_read)));
    println!("  trade:    {}", yes_no(p.can_trade));
    println!("  withdraw: {}", yes_no(p.can_withdraw));
    let ip = match p.ip_restricted {
        Some(true) => "restricted to listed addresses",
        Some(false) => "any address",
        None => "not reported",
    };
    println!("  IP:       {ip}");
    Ok(())
}

/// `account bind LABEL`: binds the account's key to the origin of the URL it now talks to
/// (its base URL, else the environment override, else production), under the same rules as
/// `account add`. Nothing is contacted.
fn bind(context: &Context, args: BindArgs) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let account = ledger.account(&args.label)?;
    let exchange: Exchange = account.exchange.parse().map_err(|e| Failure::input(format!("{e}")))?;
    if account.credential_source == CredentialSource::None || !connect::has_client(exchange) {
        return Err(ConnectError::NoKey(account.label).into());
    }
    let url = connect::base_url(&account, exchange);
    let (origin, warning) = connect::check_host(&account.label, exchange, url.as_deref(), args.allow_custom_host)?;
    if let Some(warning) = warning {
        context.note(format!("warning: {warning}"));
    }
    let ledger_id = ledger.ledger_id()?;
    let file = CredentialsFile::at(context.credentials.clone())?;
    if account.credential_source == CredentialSource::File && file.get(&ledger_id, &account.label)?.is_none() {
        return Err(ConnectError::NotInFile(account.label).into());
    }
    file.bind(&ledger_id, &account.label, &origin)?;
    if context.json {
        print_json(&serde_json::json!({"account": account.label, "bound_to": origin}))?;
    } else {
        println!("account {}: its API key is now bound to {origin}", account.label);
    }
    Ok(())
}

/// Reads an API key and secret: at a terminal by prompts without echo (a Coinbase private key
/// may be a multi-line PEM: its lines are read up to the `-----END` line); otherwise from
/// standard input, the key on the first line and the secret on the rest (so a multi-line
/// PEM private key can be piped in).
fn read_api_key(exchange: Exchange, keys: Keys, label: &str) -> anyhow::Result<ApiKey> {
    let stdin = std::io::stdin();
    let (key, secret, passphrase) = if stdin.is_terminal() {
        let key_prompt = match keys.key_prompt {
            Some(prompt) => prompt(label),
            None => format!("API key for {label} ({exchange}): "),
        };
        let key = rpassword::prompt_password(key_prompt)?;
        let secret = match keys.pem_secret {
            Some(intro) => {
                eprintln!("{intro}");
                let first = rpassword::read_password()?;
                read_pem_rest(first, rpassword::read_password)?
            }
            None => rpassword::prompt_password(format!("API secret for {label} ({exchange}): "))?,
        };
        let passphrase = match keys.passphrase {
            true => Some(rpassword::prompt_password(format!("API passphrase for {label} ({exchange}): "))?),
            false => None,
        };
        (key, secret, passphrase)
    } else {
        let mut lock = stdin.lock();
        let mut key = String::new();
        lock.read_line(&mut key)?;
        let mut secret = String::new();
        let mut passphrase = None;
        if keys.passphrase {
            // Key, secret and passphrase: one line each.
            lock.read_line(&mut secret)?;
            let mut line = String::new();
            lock.read_line(&mut line)?;
            passphrase = Some(line);
        } else {
            lock.read_to_string(&mut secret)?;
        }
        (key, secret, passphrase)
    };
    let api_key = ApiKey {
        key: Secret::new(key.trim()),
        secret: Secret::new(secret.trim()),
        passphrase: passphrase.map(|p| Secret::new(p.trim())),
    };
    if keys.passphrase && api_key.passphrase.as_ref().is_none_or(Secret::is_blank) {
        return Err(Failure::input(format!("no API passphrase was given; a {exchange} key has one"))
            .hint("give the key, the secret and the passphrase at the prompts (or on standard input, one a line)")
            .into());
    }
    if api_key.key.is_blank() || api_key.secret.is_blank() {
        return Err(Failure::input("no API key or secret was given")
            .hint("give the key, then the secret, at the prompts (or on standard input: the key on the first line)")
            .hint("or name environment variables with --key-env and --secret-env, or use --no-key for files only")
            .into());
    }
    Ok(api_key)
}

/// Most lines a pasted PEM key is read for before giving up on its `-----END` line.
const PEM_MAX_LINES: usize = 64;

/// A private key typed at the prompt: `first` line, and when it opens a PEM block, the lines
/// `next_line` gives up to the `-----END` line (or an empty line, or [`PEM_MAX_LINES`]).
fn read_pem_rest(first: String, mut next_line: impl FnMut() -> std::io::Result<String>) -> std::io::Result<String> {
    let mut text = first;
    if !text.contains("-----BEGIN") || text.contains("-----END") {
        return Ok(text);
    }
    for _ in 0..PEM_MAX_LINES {
        let line = next_line()?;
        if line.trim().is_empty() {
            break;
        }
        text.push('\n');
        text.push_str(line.trim_end());
        if line.contains("-----END") {
            break;
        }
    }
    Ok(text)
}

/// The key in the key file the exchange's portal downloaded, read by `read` and checked; no
/// error quotes the file.
fn read_key_file(path: &std::path::Path, read: ReadKeyFile) -> anyhow::Result<ApiKey> {
    let content = std::fs::read(path).map_err(|e| {
        Failure::input(format!("cannot read the key file {}: {e}", path.display()))
            .hint("give the path of the .json file the CDP portal downloaded when the key was created")
    })?;
    let (key, secret) = read(&content).map_err(|problem| failure(problem, format!("key file {}: ", path.display())))?;
    Ok(ApiKey { key: Secret::new(key), secret, passphrase: None })
}

/// Refuses `--passphrase-env` where keys have no passphrase, and `--key-env` without it where
/// they do (before anything is contacted or stored).
fn check_passphrase_env(exchange: Exchange, keys: Keys, args: &AddArgs) -> anyhow::Result<()> {
    match (keys.passphrase, args.key_env.is_some(), args.passphrase_env.is_some()) {
        (false, _, true) => Err(Failure::input(format!("a {exchange} API key has no passphrase"))
            .hint("leave out --passphrase-env")
            .into()),
        (true, true, false) => Err(Failure::input(format!("a {exchange} API key has a passphrase: name its variable"))
            .hint("add --passphrase-env VAR (the passphrase chosen when the key was made)")
            .into()),
        _ => Ok(()),
    }
}

/// Refuses a key whose shape the exchange's entry says is wrong, before anything is
/// contacted or stored (exit 2, the message says what is wrong: legacy key, mangled PEM,
/// swapped fields…).
fn check_key_shape(keys: Keys, api_key: &ApiKey) -> anyhow::Result<()> {
    match keys.check {
        Some(check) => {
            check(api_key.key.expose(), &api_key.secret).map_err(|problem| failure(problem, String::new()).into())
        }
        None => Ok(()),
    }
}

/// The input failure that says `problem`, its message after `prefix`.
fn failure(problem: KeyProblem, prefix: String) -> Failure {
    let failure = Failure::input(format!("{prefix}{}", problem.message));
    match problem.hint {
        Some(hint) => failure.hint(hint),
        None => failure,
    }
}

/// `account list --json`: one object per account.
#[derive(Serialize)]
struct AccountJson {
    label: String,
    exchange: String,
    base_url: Option<String>,
    credentials: &'static str,
    key_env: Option<String>,
    secret_env: Option<String>,
    allow_withdraw_key: bool,
    events: i64,
    created_at: String,
}

impl AccountJson {
    fn from_account(account: &Account, events: i64) -> AccountJson {
        AccountJson {
            label: account.label.clone(),
            exchange: account.exchange.clone(),
            base_url: account.base_url.clone(),
            credentials: credentials_name(account.credential_source),
            key_env: account.key_env.clone(),
            secret_env: account.secret_env.clone(),
            allow_withdraw_key: account.allow_withdraw_key,
            events,
            created_at: account.created_at.clone(),
        }
    }
}

fn credentials_name(source: CredentialSource) -> &'static str {
    match source {
        CredentialSource::None => "none",
        CredentialSource::Env => "env",
        CredentialSource::File => "file",
    }
}

fn list(context: &Context) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let accounts = ledger.accounts()?;
    let counts = ledger.event_counts()?;
    let count = |a: &Account| counts.get(&a.id).copied().unwrap_or(0);
    if context.json {
        let rows: Vec<AccountJson> = accounts.iter().map(|a| AccountJson::from_account(a, count(a))).collect();
        print_json(&rows)?;
        return Ok(());
    }
    if accounts.is_empty() {
        context.note("no accounts yet; add one with `cointally account add <exchange> --label NAME`");
        return Ok(());
    }
    let mut table = Table::new(&[
        ("Label", Align::Left),
        ("Exchange", Align::Left),
        ("Key", Align::Left),
        ("Events", Align::Right),
        ("Base URL", Align::Left),
    ]);
    for account in &accounts {
        let key = match account.credential_source {
            CredentialSource::None => "none".to_string(),
            CredentialSource::Env => format!("env ${}", account.key_env.as_deref().unwrap_or("?")),
            CredentialSource::File => "credentials file".to_string(),
        };
        table.row(vec![
            account.label.clone(),
            account.exchange.clone(),
            key,
            count(account).to_string(),
            account.base_url.clone().unwrap_or_default(),
        ]);
    }
    table.print()?;
    Ok(())
}

fn remove(context: &Context, args: RemoveArgs) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let account = ledger.account(&args.label)?;
    if !args.yes {
        let events = ledger.event_counts()?.get(&account.id).copied().unwrap_or(0);
        if !std::io::stdin().is_terminal() {
            return Err(Failure::input(format!("removing {} needs confirmation", account.label))
                .hint("pass --yes to remove it without a question")
                .into());
        }
        eprint!(
            "Remove account {} ({}) and its {events} events from {}? [y/N] ",
            account.label,
            account.exchange,
            ledger.path().display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("nothing removed");
            return Ok(());
        }
    }
    let ledger_id = ledger.ledger_id()?;
    // Read the credentials file before touching the ledger, so a file that cannot be used
    // stops the removal instead of leaving a key behind for an account that is gone.
    let credentials = match account.credential_source {
        CredentialSource::File => {
            let file = CredentialsFile::at(context.credentials.clone())?;
            file.get(&ledger_id, &account.label)?;
            Some(file)
        }
        _ => None,
    };
    let events = ledger.remove_account(&account.label)?;
    let forgot_key = match credentials {
        Some(file) => file.remove(&ledger_id, &account.label)?,
        None => false,
    };
    if account.credential_source == CredentialSource::Env {
        // Its binding entry holds no secret: removing it is tidying, and a file that cannot
        // be used does not stop the removal.
        if let Ok(file) = CredentialsFile::at(context.credentials.clone()) {
            let _ = file.remove(&ledger_id, &account.label);
        }
    }
    if context.json {
        print_json(&serde_json::json!({"removed": account.label, "events": events, "stored_key_deleted": forgot_key}))?;
    } else {
        println!("removed account {} and its {events} events", account.label);
    }
    match account.credential_source {
        CredentialSource::None => {}
        CredentialSource::File | CredentialSource::Env => {
            if forgot_key {
                context.note("its stored API key was deleted from the credentials file");
            }
            context.note(format!(
                "remember to revoke the API key on {} too: removing it here does not disable it there",
                account.exchange
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &'static str) -> impl FnMut() -> std::io::Result<String> {
        let mut lines = text.lines();
        move || Ok(lines.next().unwrap_or_default().to_owned())
    }

    #[test]
    fn a_pasted_pem_key_is_read_to_its_end_line() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\nAwEHoUQD\n-----END EC PRIVATE KEY-----";
        let read = read_pem_rest(
            "-----BEGIN EC PRIVATE KEY-----".into(),
            lines("MHcCAQEE\nAwEHoUQD\n-----END EC PRIVATE KEY-----\nlater"),
        )
        .unwrap();
        assert_eq!(read, pem);
        // A one-line key (base64 Ed25519, or a PEM pasted with literal \n) is read as it is.
        assert_eq!(read_pem_rest("AAEC".into(), lines("never read")).unwrap(), "AAEC");
        let one_line = "-----BEGIN EC PRIVATE KEY-----\\nMHcC\\n-----END EC PRIVATE KEY-----";
        assert_eq!(read_pem_rest(one_line.into(), lines("never read")).unwrap(), one_line);
        // An empty line ends a paste that lost its END line: the key check then says so.
        let cut = read_pem_rest("-----BEGIN EC PRIVATE KEY-----".into(), lines("MHcC\n\nlater")).unwrap();
        assert_eq!(cut, "-----BEGIN EC PRIVATE KEY-----\nMHcC");
    }
}
