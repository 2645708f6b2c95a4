//! A fake MAAS region on loopback for trying preflight and for `scripts/bench-bmc`:
//! `cargo run -p mocks --release --bin fake-maas -- --machines 50000 --seconds 60`
//! prints `MAAS_URL=…` and `MAAS_API_KEY=…` lines, then serves the fleet until `--seconds`
//! pass or its standard input closes.

use std::io::Read;
use std::time::Duration;

use clap::Parser;
use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, MachinesFront, API_KEY};

/// Serve a generated MAAS fleet on 127.0.0.1.
#[derive(Parser)]
struct Args {
    /// Number of machines.
    #[arg(long, default_value_t = 5_000)]
    machines: usize,
    /// Seed of the fleet.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Refuse the bulk power-parameters call with this status (e.g. 400), forcing per-machine calls.
    #[arg(long)]
    bulk_status: Option<u16>,
    /// Serve real-size machine objects from `machines/` (about 16 KB each, as MAAS prints them).
    #[arg(long)]
    real_size: bool,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let fleet = Fleet::generate(args.machines, args.seed);
    let mut options = MaasOptions::mixed("3.2.9", "3.2.9");
    options.bulk_status = args.bulk_status;
    options.real_size = args.real_size;
    let server = MaasServer::start(&fleet, &options).await;
    // `machines/` is answered by a front from one buffer: wiremock would copy it twice a call.
    let list = if options.real_size {
        fleet.machines_json_real()
    } else {
        fleet.machines_json()
    };
    let front = MachinesFront::start(&server, list.into_bytes()).await;
    println!("MAAS_URL={}", front.maas_url());
    println!("MAAS_API_KEY={API_KEY}");
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    });
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(args.seconds)) => {}
        _ = stdin_closed => {}
    }
}
