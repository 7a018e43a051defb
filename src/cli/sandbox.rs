//! `cointally sandbox serve --exchange binance|coinbase|kraken [--port P] [--seed S]`: run a bundled exchange
//! simulator on this machine, to try cointally (or another tool) against it with no real key.

use cointally_exchanges::Exchange;
use cointally_exchanges::simulators;

use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve a simulated exchange on 127.0.0.1 until interrupted
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The exchange to simulate, its account APIs and public candles (a name without a simulator lists those with one)
    #[arg(long)]
    exchange: String,
    /// The port to listen on (0: any free port)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The seed of the generated account history (the same seed gives the same history)
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    let Command::Serve(args) = command;
    let exchange: Exchange = args.exchange.parse().map_err(|e| Failure::input(format!("{e}")))?;
    let Some(simulator) = simulators::simulator(exchange) else {
        let mut available: Vec<String> = Exchange::ALL
            .into_iter()
            .filter(|&exchange| simulators::simulator(exchange).is_some())
            .map(|exchange| format!("--exchange {exchange}"))
            .collect();
        available.sort();
        return Err(Failure::input(format!("there is no simulator for {exchange} yet"))
            .hint(format!("available: {}", available.join(", ")))
            .into());
    };
    let serving = (simulator.serve)(args.port, args.seed)?;
    for line in &serving.intro {
        println!("{line}");
    }
    context.note("serving until interrupted (Ctrl-C)");
    loop {
        std::thread::park();
    }
}
