//! Criterion benches of the duplicate-BMC detector: a power-parameters document in (as
//! `preflight bmc --input` reads it, power types inferred), MAAS004 and MAAS005 groups out, at
//! 10k, 100k and 1M machines (fleets from mocks' seeded generator). Run:
//! `cargo bench --bench bmc` (`BMC_BENCH_MAX=100000` to skip the 1M case).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mocks::fleet::Fleet;
use preflight::systems::maas::bmc::power_parameters::{read, PowerInput};
use preflight::systems::maas::bmc::{find_groups, PowerTypes};
use preflight::systems::maas::checks::pack as maas_pack;

fn detect(body: &[u8], types: &PowerTypes) -> (usize, usize) {
    let rules = &maas_pack().bmc;
    let obs = read(
        body,
        &PowerInput {
            rules,
            types,
            given: None,
        },
    )
    .expect("generated JSON is valid");
    let groups = find_groups(rules, &obs);
    (groups.collisions.len(), groups.shared_addresses.len())
}

fn bench(c: &mut Criterion) {
    let max: usize = std::env::var("BMC_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let types = PowerTypes::new(&maas_pack().bmc);
    let mut group = c.benchmark_group("bmc_detector");
    group.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000].into_iter().filter(|n| *n <= max) {
        let fleet = Fleet::generate(n, 7);
        let body = fleet.power_parameters_json().into_bytes();
        let expected = (fleet.truth.collisions.len(), fleet.truth.shared_addresses.len());
        drop(fleet);
        assert_eq!(detect(&body, &types), expected, "the bench measures a correct detector");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.iter(|| detect(body, &types))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
