//! A turn is never lost: PostgreSQL is killed (SIGKILL: a crash, not a shutdown) while callers
//! are mid-order, and afterwards every turn that Twilio got a dialog answer for is recorded, and
//! `kea replay` reproduces every call of the run.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Server, kea};

const AUTH_TOKEN: &str = "turns-durability";
/// What each simulated caller says, turn after turn, whatever kea asks.
const SAYS: [&str; 6] = [
    "a large pepperoni pizza",
    "no that's all",
    "pickup",
    "Maria",
    "yes",
    "yes",
];

/// Posts one signed webhook; returns the turn number kea's answer asks about (`?n=` of its
/// `<Gather>`), when kea answered with the dialog (not an apology, not an error).
async fn webhook(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    params: &[(String, String)],
) -> Option<i32> {
    let url = format!("{base}{path}");
    let signature = kea_twilio::compute_signature(AUTH_TOKEN, &url, params);
    let res = http
        .post(&url)
        .header(kea_twilio::SIGNATURE_HEADER, signature)
        .form(params)
        .send()
        .await
        .ok()?;
    if !res.status().is_success() {
        return None;
    }
    let xml = res.text().await.ok()?;
    let at = xml.find("/twilio/voice/turn?n=")? + "/twilio/voice/turn?n=".len();
    xml[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// A voice webhook's parameters for call `sid` from the test caller to Tony's, with `extra`.
fn params(sid: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", sid),
        ("From", "+15557654321"),
        ("To", "+15550100001"),
        ("CallStatus", "in-progress"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// One caller: calls, says its lines while kea answers, and records each turn kea answered.
async fn caller(
    base: String,
    answered: Arc<Mutex<BTreeSet<(String, i32)>>>,
    stop: Arc<Mutex<bool>>,
) {
    let http = reqwest::Client::new();
    while !*stop.lock().unwrap() {
        let sid = format!("CA{}", uuid::Uuid::new_v4().simple());
        let params = |extra: &[(&str, &str)]| params(&sid, extra);
        let Some(mut n) = webhook(&http, &base, "/twilio/voice", &params(&[])).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        answered.lock().unwrap().insert((sid.clone(), n));
        for say in SAYS {
            let path = format!("/twilio/voice/turn?n={n}");
            match webhook(
                &http,
                &base,
                &path,
                &params(&[("SpeechResult", say), ("Confidence", "0.93")]),
            )
            .await
            {
                Some(next) => {
                    answered.lock().unwrap().insert((sid.clone(), next));
                    n = next;
                }
                // An apology (the database is down), or the call ended: next call.
                None => break,
            }
        }
    }
}

#[tokio::test]
async fn a_postgres_crash_mid_load_loses_no_answered_turn() {
    let dir = tempfile::tempdir().unwrap();
    // A cluster of its own: crashing the shared test cluster would break the other tests.
    let (mut cluster, url) = crate::own_cluster(dir.path(), 55800).await;
    crate::import_stores(&url, &["tonys-pizza"]);
    let server = Server::start(&url, AUTH_TOKEN).await;

    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(Mutex::new(false));
    let callers: Vec<_> = (0..6)
        .map(|_| tokio::spawn(caller(server.url.clone(), answered.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        answered.lock().unwrap().len() > 20,
        "only {} turns before the crash",
        answered.lock().unwrap().len()
    );

    // The crash: PostgreSQL's processes are killed outright (the backends first, so none goes on
    // serving), as a machine failure would stop them.
    let pid: i32 = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let children = std::process::Command::new("pkill")
        .args(["-KILL", "-P", &pid.to_string()])
        .status()
        .unwrap();
    assert!(children.success(), "no backends to kill");
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A killed postmaster may linger as a zombie where nothing reaps it (a container's PID 1),
    // which `pg_ctl` would take for a running server: its lock file goes, as after a reboot.
    std::fs::remove_file(cluster.data_dir().join("postmaster.pid")).unwrap();
    cluster = tokio::task::spawn_blocking(move || {
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap();
    // Callers go on after the recovery.
    let recovered = answered.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    *stop.lock().unwrap() = true;
    for c in callers {
        c.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() > recovered, "no turns after the recovery");

    // Every answered turn is in the replay record.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let recorded: BTreeSet<(String, i32)> = sqlx::query_as::<_, (String, i32)>(
        "SELECT call_sid, (payload->>'turn')::int FROM call_events WHERE kind = 'twiml'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let lost: Vec<_> = answered.difference(&recorded).collect();
    assert!(lost.is_empty(), "answered but not recorded: {lost:?}");

    // And every call of the run replays as it went.
    let calls: Vec<String> = sqlx::query_scalar("SELECT call_sid FROM calls ORDER BY started_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(calls.len() > 5);
    let out = kea()
        .arg("replay")
        .args(&calls)
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("{} calls replayed, 0 differ", calls.len())),
        "{said}"
    );
    pool.close().await;
    drop(server);
    tokio::task::spawn_blocking(move || cluster.stop().unwrap())
        .await
        .unwrap();
}

/// Two replicas take turns of one call in alternation: each one's copy of the call is stale every
/// other turn, and the call still goes exactly as on one server (the save refuses a stale copy,
/// and the turn is taken again from the database).
#[tokio::test]
async fn replicas_taking_turns_in_alternation_agree_on_the_call() {
    let db = kea_test_db::TestDb::new().await;
    crate::import_stores(db.url(), &["tonys-pizza"]);
    let a = Server::start(db.url(), AUTH_TOKEN).await;
    let b = Server::start(db.url(), AUTH_TOKEN).await;
    let http = reqwest::Client::new();
    let sid = format!("CA{}", uuid::Uuid::new_v4().simple());
    let params = |extra: &[(&str, &str)]| params(&sid, extra);
    let mut n = webhook(&http, &a.url, "/twilio/voice", &params(&[]))
        .await
        .unwrap();
    let says = [
        "a large pepperoni pizza",
        "and a coke",
        "no that's all",
        "pickup",
        "Maria",
        "yes",
    ];
    for (i, say) in says.iter().enumerate() {
        let server = if i % 2 == 0 { &b } else { &a };
        let path = format!("/twilio/voice/turn?n={n}");
        n = webhook(
            &http,
            &server.url,
            &path,
            &params(&[("SpeechResult", say), ("Confidence", "0.93")]),
        )
        .await
        .unwrap_or_else(|| panic!("no dialog answer to {say:?}"));
    }
    let turns: Vec<i32> = sqlx::query_scalar(
        "SELECT (payload->>'turn')::int FROM call_events WHERE call_sid = $1 AND kind = 'twiml' ORDER BY seq",
    )
    .bind(&sid)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        turns,
        (1..=7).collect::<Vec<_>>(),
        "each turn once, in order"
    );
    let lines: Vec<(String, i32)> = sqlx::query_as(
        "SELECT i.sku, i.quantity FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE o.call_sid = $1 ORDER BY i.line_no",
    )
    .bind(&sid)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(
        lines.is_empty() || lines.iter().any(|(sku, _)| sku == "pizza-pepperoni"),
        "{lines:?}"
    );
    let state: serde_json::Value = sqlx::query_scalar(
        "SELECT payload->'after' FROM call_events WHERE call_sid = $1 AND kind = 'state'
              ORDER BY seq DESC LIMIT 1",
    )
    .bind(&sid)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let ordered = state.to_string();
    assert!(
        ordered.contains("pizza-pepperoni") && ordered.contains("coke"),
        "both lines once: {ordered}"
    );
    assert_eq!(
        ordered.matches("pizza-pepperoni").count(),
        1,
        "the pizza once: {ordered}"
    );
}
