//! `cointally reclassify EVENT KIND`: the user's word on what an event is.
//!
//! For what the source cannot know: a send to another person that was a gift or a payment, an
//! exchange type cointally does not know (imported as an `adjustment`) that was income. The
//! kind is kept beside the event, keyed by the source's id, so a re-import or `renormalize`
//! keeps it; giving the source's own kind back removes it. The new kind must fit the event's
//! legs (a gift must send something, income must receive something).

use cointally_exchanges::EventKind;

use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event's id (`cointally events`, `cointally check --details`)
    event: i64,
    /// What it is (gift, spend, staking, airdrop, income, …; its original kind undoes)
    #[arg(value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<EventKind>()))]
    kind: EventKind,
}

/// Kinds that must send something, and kinds that must receive something.
fn fits(kind: EventKind, sends: bool, receives: bool) -> bool {
    let needs_send = matches!(
        kind,
        EventKind::Trade
            | EventKind::Conversion
            | EventKind::Swap
            | EventKind::Withdrawal
            | EventKind::FiatWithdrawal
            | EventKind::Spend
            | EventKind::Gift
            | EventKind::GiftSpouse
            | EventKind::Lost
            | EventKind::Fee
    );
    let needs_receive = kind.is_income()
        || matches!(
            kind,
            EventKind::Trade | EventKind::Conversion | EventKind::Swap | EventKind::Deposit | EventKind::FiatDeposit
        );
    (!needs_send || sends) && (!needs_receive || receives)
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let Some((current, _)) = ledger.event_kind(args.event)? else {
        return Err(Failure::input(format!("no event {}", args.event))
            .hint("`cointally events` and `cointally check --details` show event ids")
            .into());
    };
    let (sends, receives) = ledger.event_sides(args.event)?;
    if !fits(args.kind, sends, receives) {
        return Err(Failure::input(format!(
            "event {} {} and so cannot be a {}",
            args.event,
            match (sends, receives) {
                (true, true) => "sends and receives",
                (true, false) => "only sends",
                (false, true) => "only receives",
                (false, false) => "moves nothing but fees",
            },
            args.kind
        ))
        .hint("choose a kind that fits: gift, spend, lost or fee send; staking, airdrop, income or deposit receive")
        .into());
    }
    let original = ledger.reclassify(args.event, args.kind)?.unwrap_or(current);
    if args.kind == original {
        context.note(format!("event {}: back to {original}, as its source says", args.event));
    } else {
        context.note(format!(
            "event {}: {current} → {} (the source said {original}; `cointally reclassify {} {original}` undoes it)",
            args.event, args.kind, args.event
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_must_fit_the_legs() {
        assert!(fits(EventKind::Gift, true, false));
        assert!(!fits(EventKind::Gift, false, true));
        assert!(fits(EventKind::Staking, false, true));
        assert!(!fits(EventKind::Staking, true, false));
        assert!(!fits(EventKind::Trade, true, false));
        assert!(fits(EventKind::Adjustment, true, false));
    }
}
