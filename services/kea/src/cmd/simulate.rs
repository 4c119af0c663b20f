//! `kea simulate PATH...`: plays caller scenarios against a running server exactly as Twilio would
//! (signed webhooks, TwiML followed, the status callback), checks what each call left in the
//! database, and reports pass/fail and turn latency. With `--repeat` and `--concurrency` it is also
//! the load test: many simultaneous callers, with the server's own time per turn from the replay
//! record.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use kea_menu::Store;
use kea_sim::{ObservedLine, ObservedOrder, Scenario, SimCaller};
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::cmd::call::TargetArgs;
use crate::phone::{self, Caller, Ended, Line, Reply};

/// `kea simulate`
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Scenario files or folders of them (`*.toml`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Only scenarios whose id matches this regular expression.
    #[arg(long)]
    only: Option<String>,
    /// Play every scenario this many times (a load run).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// How many calls are in progress at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Print every call's transcript, not only the failures'.
    #[arg(long, short)]
    verbose: bool,
    /// Afterwards, wait up to this many seconds for the placed orders to reach the POS (a worker
    /// must be running, as in `kea dev`) and report the time from each call's end to the POS.
    #[arg(long, default_value_t = 0)]
    pipeline_wait: u64,
    #[command(flatten)]
    target: TargetArgs,
}

impl Caller for SimCaller {
    async fn respond(&mut self, prompt: &str) -> Reply {
        match SimCaller::respond(self, prompt) {
            Some(text) => Reply::Speak(text),
            None if self.hung_up() => Reply::HangUp,
            None => Reply::Silence,
        }
    }

    fn confidence(&self) -> f32 {
        SimCaller::confidence(self)
    }
}

struct Played {
    id: String,
    fails: Vec<String>,
    call: Option<phone::Call>,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let mut scenarios = kea_sim::load(&args.paths)?;
    if let Some(only) = &args.only {
        let re = regex::Regex::new(only)
            .with_context(|| format!("--only `{only}` is not a regular expression"))?;
        scenarios.retain(|s| re.is_match(&s.id));
    }
    anyhow::ensure!(
        !scenarios.is_empty(),
        "no scenarios found in {:?}",
        args.paths
    );
    let db = args.target.pool(args.concurrency.max(1) as u32 + 1).await?;
    let stores = load_stores(&db, &scenarios).await?;
    let server = Arc::new(args.target.server());
    let http = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let started = Instant::now();

    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..args.repeat.max(1) {
        for (index, scenario) in scenarios.iter().enumerate() {
            let (scenario, store) = (scenario.clone(), stores.get(&scenario.store).cloned());
            let (server, http, limit, db) =
                (server.clone(), http.clone(), limit.clone(), db.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let played = play(&http, &server, &db, &scenario, store.as_deref()).await;
                (round * 100_000 + index, played)
            });
        }
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        results.push(joined.context("a simulated call panicked")?);
    }
    results.sort_by_key(|(order, _)| *order);
    let wall = started.elapsed();

    let (mut passed, mut failed) = (0, 0);
    let mut latencies = Vec::new();
    let mut sids = Vec::new();
    for (_, played) in &results {
        let turns = played.call.as_ref().map_or(0, |c| {
            c.transcript
                .iter()
                .filter(|l| matches!(l, Line::Caller(_)))
                .count()
        });
        if played.fails.is_empty() {
            passed += 1;
            println!("PASS  {:40} turns={turns:2}", played.id);
        } else {
            failed += 1;
            println!(
                "FAIL  {:40} turns={turns:2} {}",
                played.id,
                played.fails.join("; ")
            );
        }
        if let Some(call) = &played.call {
            latencies.extend(call.latencies.iter().copied());
            sids.push(call.sid.clone());
            if args.verbose || !played.fails.is_empty() {
                for line in &call.transcript {
                    match line {
                        Line::System(text) => println!("        kea: {text}"),
                        Line::Caller(Some(text)) => println!("     caller: {text}"),
                        Line::Caller(None) => println!("     caller: <silence>"),
                    }
                }
            }
        }
    }
    let server_micros: Vec<i64> = sqlx::query_scalar(
        "SELECT server_micros FROM call_events WHERE kind = 'twiml' AND server_micros IS NOT NULL AND call_sid = ANY($1)",
    )
    .bind(&sids)
    .fetch_all(&db)
    .await
    .context("reading the server's turn times")?;
    let mut client_ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    let mut server_ms: Vec<f64> = server_micros.iter().map(|m| *m as f64 / 1000.0).collect();
    println!();
    println!(
        "{} calls in {:.1} s ({} at a time); webhook round trip ms: {}; server time per turn ms: {}",
        results.len(),
        wall.as_secs_f64(),
        args.concurrency.max(1),
        percentiles(&mut client_ms),
        percentiles(&mut server_ms),
    );
    if args.pipeline_wait > 0 {
        report_pipeline(&db, &sids, args.pipeline_wait).await?;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Waits for the calls' orders to leave the pipeline and prints how long the POS took to get
/// them, counted from the call's end (negative when the POS had it before the hang-up) and from
/// the moment the order was written (the caller's "yes").
async fn report_pipeline(db: &PgPool, sids: &[String], wait_secs: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + std::time::Duration::from_secs(wait_secs);
    let waiting = loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE call_sid = ANY($1)
               AND (status = 'confirmed' OR (status = 'pending_verification' AND decided_at IS NULL))",
        )
        .bind(sids)
        .fetch_one(db)
        .await
        .context("reading the orders' progress")?;
        if waiting == 0 || Instant::now() >= deadline {
            break waiting;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let rows: Vec<(String, Option<f64>, Option<f64>)> = sqlx::query_as(
        "SELECT o.status,
                extract(epoch FROM o.sent_to_pos_at - c.ended_at)::float8 * 1000,
                extract(epoch FROM o.sent_to_pos_at - o.created_at)::float8 * 1000
         FROM orders o JOIN calls c USING (call_sid) WHERE o.call_sid = ANY($1)",
    )
    .bind(sids)
    .fetch_all(db)
    .await
    .context("reading the orders' pipeline times")?;
    let mut from_end: Vec<f64> = rows.iter().filter_map(|r| r.1).collect();
    let mut from_order: Vec<f64> = rows.iter().filter_map(|r| r.2).collect();
    let mut by_status: std::collections::BTreeMap<&str, usize> = Default::default();
    for (status, _, _) in &rows {
        *by_status.entry(status.as_str()).or_default() += 1;
    }
    println!(
        "orders: {by_status:?}; call end → POS ms: {}; order written → POS ms: {}",
        percentiles(&mut from_end),
        percentiles(&mut from_order)
    );
    if waiting > 0 {
        println!(
            "{waiting} order(s) still in the pipeline after {wait_secs} s (is a worker running, and the POS answering?)"
        );
    }
    Ok(())
}

fn percentiles(values: &mut [f64]) -> String {
    if values.is_empty() {
        return "none".to_owned();
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50={:.2} p95={:.2} p99={:.2} max={:.2} (n={})",
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0),
        values.len()
    )
}

/// The store files of the scenarios' stores, from the database (what the server itself uses).
async fn load_stores(
    db: &PgPool,
    scenarios: &[Scenario],
) -> anyhow::Result<HashMap<String, Arc<Store>>> {
    let mut stores = HashMap::new();
    for scenario in scenarios {
        if stores.contains_key(&scenario.store) {
            continue;
        }
        let document: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT document FROM stores WHERE id = $1")
                .bind(&scenario.store)
                .fetch_optional(db)
                .await?;
        if let Some(document) = document {
            let store = Store::from_json(&document)
                .with_context(|| format!("store `{}` in the database", scenario.store))?;
            stores.insert(scenario.store.clone(), Arc::new(store));
        }
    }
    Ok(stores)
}

async fn play(
    http: &reqwest::Client,
    server: &phone::Server,
    db: &PgPool,
    scenario: &Scenario,
    store: Option<&Store>,
) -> Played {
    let id = scenario.id.clone();
    let Some(store) = store else {
        return Played {
            id,
            fails: vec![format!("store `{}` is not in the database", scenario.store)],
            call: None,
        };
    };
    let mut caller = SimCaller::new(scenario);
    let call = match phone::place_call(
        http,
        server,
        phone::Dial {
            sid: phone::new_call_sid(),
            from: &scenario.caller.phone,
            to: &store.phone,
        },
        &mut caller,
        40,
    )
    .await
    {
        Ok(call) => call,
        Err(e) => {
            return Played {
                id,
                fails: vec![format!("{e:#}")],
                call: None,
            };
        }
    };
    let fails = match observe(db, &call.sid).await {
        Ok((outcome, order)) => {
            let mut fails = kea_sim::check(store, scenario, outcome.as_deref(), order.as_ref());
            if scenario.expect.outcome == "transferred" && call.ended != Ended::Transferred {
                fails.push(format!(
                    "the call ended by {:?}, not a transfer",
                    call.ended
                ));
            }
            fails
        }
        Err(e) => vec![format!("reading the call's result: {e:#}")],
    };
    Played {
        id,
        fails,
        call: Some(call),
    }
}

/// An order row as `observe` reads it: id, fulfillment, name, phone, address, total.
type OrderRow = (
    uuid::Uuid,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// The call's outcome and order, as the server stored them.
async fn observe(
    db: &PgPool,
    sid: &str,
) -> anyhow::Result<(Option<String>, Option<ObservedOrder>)> {
    let outcome: Option<Option<String>> =
        sqlx::query_scalar("SELECT outcome FROM calls WHERE call_sid = $1")
            .bind(sid)
            .fetch_optional(db)
            .await?;
    let Some(outcome) = outcome else {
        anyhow::bail!("the server has no record of call {sid}")
    };
    let order: Option<OrderRow> = sqlx::query_as(
        "SELECT id, fulfillment, customer_name, customer_phone, delivery_address, total_cents
         FROM orders WHERE call_sid = $1 AND status NOT IN ('cancelled', 'rejected')",
    )
    .bind(sid)
    .fetch_optional(db)
    .await?;
    let Some((order_id, fulfillment, name, phone, address, total_cents)) = order else {
        return Ok((outcome, None));
    };
    let lines: Vec<(String, Option<String>, i32, serde_json::Value)> =
        sqlx::query_as("SELECT sku, size, quantity, modifiers FROM order_items WHERE order_id = $1 ORDER BY line_no")
            .bind(order_id)
            .fetch_all(db)
            .await?;
    let lines = lines
        .into_iter()
        .map(|(sku, size, quantity, modifiers)| ObservedLine {
            sku,
            size,
            quantity: u32::try_from(quantity).unwrap_or(0),
            modifiers: modifiers
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let order = ObservedOrder {
        lines,
        fulfillment,
        customer_name: name.unwrap_or_default(),
        customer_phone: phone.unwrap_or_default(),
        delivery_address: address,
        total_cents,
    };
    Ok((outcome, Some(order)))
}

#[cfg(test)]
mod tests {
    use super::percentiles;

    #[test]
    fn percentiles_pick_ranks() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            percentiles(&mut v),
            "p50=51.00 p95=95.00 p99=99.00 max=100.00 (n=100)"
        );
        assert_eq!(percentiles(&mut []), "none");
    }
}
