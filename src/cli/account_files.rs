//! `cointally account files LABEL`: the history files an account's events were imported from,
//! kept whole in the ledger, listed or saved back byte for byte.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::digest::Hashing;
use crate::ledger::ImportedFile;
use serde::Serialize;

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account's label
    label: String,
    /// Save the file with this ID (from the list) back as it was imported
    #[arg(long, value_name = "ID", requires = "output")]
    save: Option<i64>,
    /// Where to save it
    #[arg(long, short, value_name = "PATH", requires = "save")]
    output: Option<PathBuf>,
}

/// `account files --json`: one kept file.
#[derive(Serialize)]
struct FileJson<'a> {
    id: i64,
    name: &'a str,
    format: &'a str,
    bytes: u64,
    sha256: &'a str,
    imported: String,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let account = ledger.account(&args.label)?;
    let files = ledger.imported_files(account.id)?;
    if let (Some(id), Some(output)) = (args.save, &args.output) {
        let Some(file) = files.iter().find(|f| f.id == id) else {
            return Err(Failure::input(format!("account {} has no imported file #{id}", account.label))
                .hint(format!("`cointally account files {}` lists its files", account.label))
                .into());
        };
        save(&ledger, file, output)?;
        context.note(format!("saved file #{} ({}, {} bytes) to {}", file.id, file.name, file.bytes, output.display()));
        return Ok(());
    }
    let format = |f: &'_ ImportedFile| f.source.strip_prefix("csv:").unwrap_or(&f.source).to_string();
    let imported = |f: &ImportedFile| crate::tax::zone::Zone::UTC.rfc3339(f.imported_ms);
    if context.json {
        let formats: Vec<String> = files.iter().map(format).collect();
        let rows: Vec<FileJson> = files
            .iter()
            .zip(&formats)
            .map(|(f, format)| FileJson {
                id: f.id,
                name: &f.name,
                format,
                bytes: f.bytes,
                sha256: &f.sha256,
                imported: imported(f),
            })
            .collect();
        return Ok(print_json(&rows)?);
    }
    if files.is_empty() {
        context.note(format!(
            "account {} holds no imported file (files imported before cointally kept them whole are not listed)",
            account.label
        ));
        return Ok(());
    }
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("Name", Align::Left),
        ("Format", Align::Left),
        ("Bytes", Align::Right),
        ("SHA-256", Align::Left),
        ("Imported (UTC)", Align::Left),
    ]);
    for f in &files {
        table.row(vec![
            f.id.to_string(),
            f.name.clone(),
            format(f),
            f.bytes.to_string(),
            f.sha256.clone(),
            imported(f),
        ]);
    }
    table.print()?;
    Ok(())
}

/// Writes a kept file to `output` (through a temporary file beside it: never half a file),
/// checking its bytes against the hash taken when it was imported.
fn save(ledger: &crate::ledger::Ledger, file: &ImportedFile, output: &Path) -> anyhow::Result<()> {
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut hashed = Hashing::new(std::io::BufWriter::new(&mut tmp));
    ledger.write_imported_file(file.id, &mut hashed)?;
    hashed.flush()?;
    let (sha256, written) = hashed.finish();
    if written != file.bytes || sha256 != file.sha256 {
        return Err(Failure::problems(format!(
            "file #{} in the ledger is not what was imported: {written} bytes with SHA-256 {sha256}, \
             imported as {} bytes with SHA-256 {}",
            file.id, file.bytes, file.sha256
        ))
        .into());
    }
    tmp.persist(output).map_err(|e| e.error)?;
    Ok(())
}
