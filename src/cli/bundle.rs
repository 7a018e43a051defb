//! `cointally bundle -o FILE.zip [--account L]... [--keep-ids]` and `cointally --ledger NEW
//! import-bundle FILE.zip`: a problem bundle for a maintainer, with no secret and no name.

use std::path::PathBuf;

use crate::bundle::{self, BundleError, Options};

use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle to write (a .zip file)
    #[arg(long, short = 'o', value_name = "FILE.zip")]
    output: PathBuf,
    /// Only this account (repeat for several); default: every account
    #[arg(long = "account", value_name = "LABEL")]
    accounts: Vec<String>,
    /// Keep account labels, addresses and tx hashes (default: stable pseudonyms)
    #[arg(long)]
    keep_ids: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The bundle written by `cointally bundle`
    bundle: PathBuf,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let options = Options { accounts: args.accounts, keep_ids: args.keep_ids };
    let manifest = bundle::write(&context.ledger_path(), &args.output, &options).map_err(failure)?;
    if context.json {
        super::output::print_json(&manifest)?;
    } else {
        println!(
            "wrote {} ({} account(s), {} raw records, {} imported files, {} events{})",
            args.output.display(),
            manifest.accounts.len(),
            manifest.rows.get("raw_records").copied().unwrap_or(0),
            manifest.rows.get("import_files").copied().unwrap_or(0),
            manifest.rows.get("events").copied().unwrap_or(0),
            if manifest.ids_kept { ", labels, addresses and tx hashes kept" } else { ", ids replaced by pseudonyms" }
        );
        context.note("it holds no key, secret or credentials; look inside before sending it (it is a zip file)");
    }
    Ok(())
}

pub fn import(context: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let target = context.ledger_path();
    let manifest = bundle::import(&args.bundle, &target).map_err(failure)?;
    if context.json {
        super::output::print_json(&manifest)?;
    } else {
        println!(
            "rebuilt ledger {} from {} ({} account(s))",
            target.display(),
            args.bundle.display(),
            manifest.accounts.len()
        );
        context.note("its accounts have no keys: `report`, `check` and `export` work on it; `sync` needs keys added");
    }
    Ok(())
}

fn failure(e: BundleError) -> anyhow::Error {
    let hint = match &e {
        BundleError::Exists(_) => "give --ledger a path that does not exist yet",
        BundleError::NoSuchAccount(_) => "list the accounts with `cointally account list`",
        BundleError::Zip { .. } => "check that the file is a bundle written by `cointally bundle`",
        BundleError::Ledger(_) => return e.into(),
        BundleError::Io { .. } | BundleError::Sql(_) => "nothing was written; fix the cause and run it again",
    };
    Failure::input(e.to_string()).hint(hint).into()
}
