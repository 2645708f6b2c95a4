//! Criterion benches of the duplicate-BMC detector: bulk power-parameters JSON in, MAAS004 and
//! MAAS005 groups out, at 10k and 100k machines (fleets from mocks' seeded generator).
//! Run: `cargo bench --bench bmc`.

use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mocks::fleet::Fleet;
use preflight::checks::bmc::{find_collisions, find_shared_addresses, MachinePower};
use preflight::checks::maas_pack;
use preflight::probe::maas::read_power_parameters;

fn detect(body: &[u8], types: &HashMap<String, String>) -> (usize, usize) {
    let rules = &maas_pack().bmc;
    let mut machines = Vec::with_capacity(types.len());
    read_power_parameters(body, |system_id, params| {
        let power_type = types.get(&system_id).cloned().unwrap_or_default();
        let fingerprint = params.and_then(|p| rules.fingerprint(&power_type, &p));
        machines.push(MachinePower {
            system_id,
            power_type,
            fingerprint,
        });
    })
    .expect("generated JSON is valid");
    (
        find_collisions(rules, &machines).len(),
        find_shared_addresses(rules, &machines).len(),
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("bmc_detector");
    group.sample_size(10);
    for n in [10_000usize, 100_000] {
        let fleet = Fleet::generate(n, 7);
        let body = fleet.power_parameters_json().into_bytes();
        let types: HashMap<String, String> = fleet
            .machines
            .iter()
            .map(|m| (m.system_id.clone(), m.power_type.clone()))
            .collect();
        let expected = (
            fleet.truth.collisions.len(),
            fleet.truth.shared_addresses.len(),
        );
        assert_eq!(
            detect(&body, &types),
            expected,
            "the bench measures a correct detector"
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.iter(|| detect(body, &types))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
