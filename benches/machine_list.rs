//! Criterion benches of the machine-list reader (`preflight::systems::maas::bmc::machine_list::read`) against
//! `serde_json::from_slice::<Vec<Machine>>` on the same bytes: a real-size list (mocks'
//! upstream-shaped machine objects, about 16.8 KB each, pretty-printed like MAAS) and the compact
//! list `gen-fleet` writes by default, read from memory. Run:
//! `cargo bench --bench machine_list` (`MACHINE_LIST_BENCH_MAX=1000` to skip the larger cases).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mocks::fleet::Fleet;
use preflight::systems::maas::bmc::machine_list::read;
use preflight::systems::maas::facts::Machine;

fn bench(c: &mut Criterion) {
    let max: usize = std::env::var("MACHINE_LIST_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut group = c.benchmark_group("machine_list");
    group.sample_size(10);
    for n in [1_000usize, 10_000].into_iter().filter(|n| *n <= max) {
        let fleet = Fleet::generate(n, 7);
        for (form, body) in [
            ("real", fleet.machines_json_real().into_bytes()),
            ("compact", fleet.machines_json().into_bytes()),
        ] {
            let expected: Vec<Machine> = serde_json::from_slice(&body).expect("generated JSON is valid");
            assert_eq!(
                read(body.as_slice()).expect("the reader takes it").to_machines(),
                expected
            );
            group.throughput(Throughput::Bytes(body.len() as u64));
            group.bench_with_input(BenchmarkId::new(format!("streaming/{form}"), n), &body, |b, body| {
                b.iter(|| read(body.as_slice()).map(|m| m.len()))
            });
            group.bench_with_input(BenchmarkId::new(format!("serde_json/{form}"), n), &body, |b, body| {
                b.iter(|| serde_json::from_slice::<Vec<Machine>>(body).map(|m| m.len()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
