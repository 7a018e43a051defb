//! `cointally sandbox serve --exchange binance|coinbase|kraken [--port P] [--seed S]`: run a bundled exchange
//! simulator on this machine, to try cointally (or another tool) against it with no real key.

use cointally_exchanges::Exchange;
use cointally_exchanges::binance::sim::{self as binance_sim, Limits, SimConfig, SimKey};
use cointally_exchanges::coinbase::sim::{self as coinbase_sim, CoinbaseSimConfig};
use cointally_exchanges::kraken::api::Tier;
use cointally_exchanges::kraken::sim::{self as kraken_sim, history::KrakenProfile};
use cointally_exchanges::sim::generate::Profile;

use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve a simulated exchange on 127.0.0.1 until interrupted
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The exchange to simulate: binance, kraken, or coinbase (its account APIs and public candles)
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
    match exchange {
        Exchange::Binance => {
            let key = SimKey::demo();
            let config = SimConfig {
                seed: args.seed,
                profile: Profile::demo(),
                limits: Limits::Real,
                faults: None,
                key: key.clone(),
                port: args.port,
            };
            let sim = binance_sim::start(config)?;
            println!("Binance simulator on {}", sim.base_url());
            println!("API key:    {}", key.api_key);
            println!("API secret: {} (a public test value from Binance's documentation)", key.secret);
            println!();
            println!("Try it in another terminal:");
            println!("  export COINTALLY_BINANCE_BASE_URL={}", sim.base_url());
            println!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret);
            println!(
                "  cointally init && cointally account add binance --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            );
            println!("  cointally sync");
            context.note("serving until interrupted (Ctrl-C)");
            loop {
                std::thread::park();
            }
        }
        Exchange::Coinbase => {
            let config = CoinbaseSimConfig { port: args.port, ..CoinbaseSimConfig::demo(args.seed) };
            let sim = coinbase_sim::start(config)?;
            println!(
                "Coinbase simulator (Coinbase Exchange's public market data, and a generated account behind the App \
                 v2 and Advanced Trade v3 APIs) on {}",
                sim.base_url()
            );
            let key = sim.key();
            println!("Key name:    {}", key.key_name);
            println!(
                "Private key: {} (the public test key of the Ed25519 example in Coinbase's JWT notes)",
                key.private_key
            );
            println!();
            println!("Try it in another terminal:");
            println!("  export COINTALLY_COINBASE_BASE_URL={}", sim.base_url());
            println!("  export COINTALLY_COINBASE_EXCHANGE_BASE_URL={}", sim.base_url());
            println!("  export SIM_KEY='{}' SIM_SECRET='{}'", key.key_name, key.private_key);
            println!(
                "  cointally init && cointally account add coinbase --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            );
            println!("  cointally sync");
            println!("  cointally prices");
            context.note("serving until interrupted (Ctrl-C)");
            loop {
                std::thread::park();
            }
        }
        Exchange::Kraken => {
            let key = kraken_sim::SimKey::demo();
            let sim = kraken_sim::start(kraken_sim::SimConfig {
                seed: args.seed,
                profile: KrakenProfile::demo(),
                limits: kraken_sim::Limits::Real(Tier::STARTER),
                faults: None,
                key: key.clone(),
                port: args.port,
            })?;
            println!("Kraken simulator on {}", sim.base_url());
            println!("API key:     {}", key.api_key);
            println!("Private key: {} (the public test value of Kraken's signing example)", key.secret);
            println!("Call counter: Starter tier (15, -0.33/s), as cointally assumes by default");
            println!();
            println!("Try it in another terminal:");
            println!("  export COINTALLY_KRAKEN_BASE_URL={}", sim.base_url());
            println!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret);
            println!(
                "  cointally init && cointally account add kraken --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            );
            println!("  cointally sync");
            context.note("serving until interrupted (Ctrl-C)");
            loop {
                std::thread::park();
            }
        }
        other => Err(Failure::input(format!("there is no simulator for {other} yet"))
            .hint("available: --exchange binance, --exchange coinbase, --exchange kraken")
            .into()),
    }
}
