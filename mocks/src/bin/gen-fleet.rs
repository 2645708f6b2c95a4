//! Writes a seeded MAAS fleet for tests and benchmarks:
//! `cargo run -p mocks --release --bin gen-fleet -- --machines 1000000 --seed 7 --out DIR`
//! → `DIR/power-parameters.json` (what `maas $PROFILE machines power-parameters` prints),
//! `DIR/machines.json` (what `maas $PROFILE machines read` prints: by default the fields
//! preflight reads and a few more, one line; with `--real-size` whole upstream-shaped machine
//! objects of about 16 KB each, pretty-printed like MAAS) and `DIR/truth.json` (the planted
//! collisions a correct detector reports).

use std::path::PathBuf;

use clap::Parser;
use mocks::fleet::Fleet;

/// Generate a MAAS fleet with planted BMC collisions.
#[derive(Parser)]
struct Args {
    /// Number of machines.
    #[arg(long, default_value_t = 10_000)]
    machines: usize,
    /// Seed: the same seed gives the same fleet.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Output directory (created if missing).
    #[arg(long, default_value = "fleet")]
    out: PathBuf,
    /// Write machines.json at its real size: every machine a whole upstream-shaped object
    /// (interfaces, block devices, …; about 16 KB each, 4-space indent), streamed.
    #[arg(long)]
    real_size: bool,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let fleet = Fleet::generate(args.machines, args.seed);
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("power-parameters.json"), fleet.power_parameters_json())?;
    let machines = args.out.join("machines.json");
    if args.real_size {
        fleet.write_machines_real(std::io::BufWriter::new(std::fs::File::create(machines)?))?;
    } else {
        std::fs::write(machines, fleet.machines_json())?;
    }
    std::fs::write(args.out.join("truth.json"), fleet.truth_json())?;
    eprintln!(
        "gen-fleet: {} machines, {} collision groups, {} shared-address groups, {} pod groups → {}",
        fleet.machines.len(),
        fleet.truth.collisions.len(),
        fleet.truth.shared_addresses.len(),
        fleet.truth.pod_collisions.len(),
        args.out.display()
    );
    Ok(())
}
