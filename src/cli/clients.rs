//! `cointally clients init|add|list`: an accountant's client directory, one ledger and one
//! credentials file per client.

use std::path::PathBuf;

use crate::clients::{self, ClientsError};

use super::init::CURRENCIES;
use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a client directory (owner-only)
    Init {
        /// The directory to create
        dir: PathBuf,
    },
    /// Add a client: a folder with a new ledger and an empty credentials file
    Add {
        /// The client's name (letters, digits, '-', '_')
        name: String,
        /// The client directory
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The currency the client's reports are made in
        #[arg(long, default_value = "USD", value_parser = CURRENCIES)]
        currency: String,
    },
    /// List the clients with their ledger and credentials file
    List {
        /// The client directory
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init { dir } => {
            clients::init(&dir).map_err(failure)?;
            println!("client directory {} is ready", dir.display());
            context.note(format!("next: cointally clients add NAME --dir {}", dir.display()));
        }
        Command::Add { name, dir, currency } => {
            let client = clients::add(&dir, &name, &currency).map_err(failure)?;
            if context.json {
                print_json(&client)?;
            } else {
                println!("added client {} (ledger {}, reporting currency {currency})", name, client.ledger.display());
                context.note(format!(
                    "next: cointally --ledger {} --credentials {} account add <exchange> --label NAME",
                    client.ledger.display(),
                    client.credentials.display()
                ));
            }
        }
        Command::List { dir } => {
            let list = clients::list(&dir).map_err(failure)?;
            if context.json {
                print_json(&list)?;
            } else {
                let mut table =
                    Table::new(&[("Client", Align::Left), ("Ledger", Align::Left), ("Credentials", Align::Left)]);
                for client in &list {
                    table.row(vec![
                        client.client.clone(),
                        client.ledger.display().to_string(),
                        client.credentials.display().to_string(),
                    ]);
                }
                table.print()?;
            }
        }
    }
    Ok(())
}

/// A client-directory error with what to do (exit 2).
pub(super) fn failure(e: ClientsError) -> anyhow::Error {
    let hint = match &e {
        ClientsError::NotClientDir(_) | ClientsError::NotEmpty(_) => "`cointally clients init DIR` creates one",
        ClientsError::NoSuchClient { .. } => "`cointally clients list --dir DIR` shows the clients",
        ClientsError::Exists(_) | ClientsError::BadName(_) => "choose another name",
        ClientsError::Io { .. } => "check the directory's path and permissions",
        ClientsError::Ledger(_) | ClientsError::Credentials(_) => "nothing was created; fix the cause and run it again",
    };
    Failure::input(e.to_string()).hint(hint).into()
}
