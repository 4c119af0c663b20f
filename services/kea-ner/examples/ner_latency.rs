//! Measures one-utterance inference latency and memory, as the server would run the model:
//!
//! ```text
//! cargo run --release -p kea-ner --features torch --example ner_latency -- [MODEL_DIR] [THREADS] [RUNS]
//! ```
//!
//! MODEL_DIR is a saved model; without it (or with `-`) the base weights from `KEA_NER_BASE` with
//! an untrained classifier are used, which costs the same to run. THREADS defaults to 1, RUNS to 500.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use kea_ner::model::{Device, Labels, Model, base_dir_from_env, set_threads};

const UTTERANCE: &str = "can I get two large pepperoni pizzas and a diet coke please";

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = args.get(1).map_or(Ok(1), |s| s.parse())?;
    let runs: usize = args.get(2).map_or(Ok(500), |s| s.parse())?;
    let rss_before = rss_kib("VmRSS");
    let started = Instant::now();
    let model = match args.first().map(String::as_str) {
        Some(dir) if dir != "-" => Model::load_on(Path::new(dir), Device::Cpu)?,
        _ => {
            let labels = Labels::new(&["ITEM", "QUANTITY", "SIZE", "MODIFIER", "PORTION"])?;
            Model::from_base(&base_dir_from_env()?, labels, 0, Device::Cpu)?
        }
    };
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    set_threads(threads);

    for _ in 0..20 {
        model.predict(&[UTTERANCE])?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let entities = model.predict(&[UTTERANCE])?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(entities);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    let words = UTTERANCE.split_whitespace().count();
    println!("utterance: {words} words; threads: {threads}; runs: {runs}; load: {load_ms:.0} ms");
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  mean {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        times.iter().sum::<f64>() / times.len() as f64
    );
    println!(
        "memory KiB: RSS before load {}, now {}, peak {}",
        rss_before,
        rss_kib("VmRSS"),
        rss_kib("VmHWM")
    );
    Ok(())
}

/// A `/proc/self/status` field in KiB (0 where there is no such file).
fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
