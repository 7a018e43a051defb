//! `cointally coverage [--account L]`: the spans of time each endpoint and scope has been
//! fetched over, and the gaps between them, so completeness is seen rather than hoped for; and
//! how many records of each stream are not final yet (passed over, asked again at each sync).

use std::collections::BTreeMap;

use cointally_exchanges::adapter::{Span, Stream};
use cointally_exchanges::time::{format_rfc3339, from_millis};
use serde::Serialize;

use super::Context;
use super::output::{Align, Table, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this account
    #[arg(long)]
    account: Option<String>,
}

/// `coverage --json`: one object per account, endpoint and scope.
#[derive(Serialize)]
struct CoverageJson {
    account: String,
    endpoint: String,
    scope: String,
    ranges: Vec<RangeJson>,
    gaps: Vec<RangeJson>,
    /// When the newest part was fetched; empty for a stream that proves no span (pending only).
    fetched: String,
    /// Records passed over as not final yet, asked again at each sync.
    pending: u64,
}

#[derive(Serialize)]
struct RangeJson {
    from: String,
    to: String,
}

fn time(ms: i64) -> String {
    format_rfc3339(from_millis(ms))
}

fn range(span: &Span) -> RangeJson {
    RangeJson { from: time(span.from_ms), to: time(span.to_ms) }
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let accounts = match &args.account {
        Some(label) => vec![ledger.account(label)?],
        None => ledger.accounts()?,
    };
    let mut rows = Vec::new();
    for account in &accounts {
        let mut streams: BTreeMap<Stream, (Vec<Span>, Option<i64>)> = BTreeMap::new();
        for c in ledger.coverage(account.id)? {
            let entry = streams.entry(c.stream).or_default();
            entry.0.push(c.span);
            entry.1 = Some(entry.1.map_or(c.fetched_ms, |f| f.max(c.fetched_ms)));
        }
        let pending = ledger.pending(account.id)?;
        for stream in pending.keys() {
            streams.entry(stream.clone()).or_default();
        }
        for (stream, (spans, fetched)) in streams {
            let waiting = pending.get(&stream).map_or(0, |records| records.len() as u64);
            let gaps = spans.windows(2).map(|w| Span { from_ms: w[0].to_ms, to_ms: w[1].from_ms }).collect::<Vec<_>>();
            rows.push(CoverageJson {
                account: account.label.clone(),
                endpoint: stream.endpoint,
                scope: stream.scope,
                ranges: spans.iter().map(range).collect(),
                gaps: gaps.iter().map(range).collect(),
                fetched: fetched.map(time).unwrap_or_default(),
                pending: waiting,
            });
        }
    }
    if context.json {
        return Ok(print_json(&rows)?);
    }
    if rows.is_empty() {
        context.note("nothing has been synced yet; run `cointally sync`");
        return Ok(());
    }
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("Endpoint", Align::Left),
        ("Scope", Align::Left),
        ("From", Align::Left),
        ("To", Align::Left),
        ("Gaps", Align::Left),
        ("Pending", Align::Right),
    ]);
    for row in &rows {
        let gaps = if row.gaps.is_empty() {
            "none".to_string()
        } else {
            row.gaps.iter().map(|g| format!("{} .. {}", g.from, g.to)).collect::<Vec<_>>().join("; ")
        };
        let (from, to) = match (row.ranges.first(), row.ranges.last()) {
            (Some(first), Some(last)) => (first.from.clone(), last.to.clone()),
            _ => Default::default(),
        };
        let pending = row.pending.to_string();
        table.row(vec![row.account.clone(), row.endpoint.clone(), row.scope.clone(), from, to, gaps, pending]);
    }
    table.print()?;
    Ok(())
}
