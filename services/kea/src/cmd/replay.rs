//! `kea replay CALL_SID…`: feeds each recorded call's caller turns back through the current
//! dialog engine and shows, turn by turn, where what kea would say now differs from what it said
//! then. Exits 0 when nothing differs, 1 otherwise: a regression check for dialog changes.

use std::process::ExitCode;

use anyhow::{Context, bail};
use kea_dialog::{DialogState, Event};
use kea_menu::Store;
use kea_menu::matcher::MenuMatcher;
use serde_json::Value;

use crate::cmd::call::TargetArgs;

/// `kea replay`
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The CallSids of recorded calls (one or more).
    #[arg(required = true, num_args = 1..)]
    call_sids: Vec<String>,
    /// Print every turn, not only those that differ.
    #[arg(long, short)]
    verbose: bool,
    #[command(flatten)]
    target: TargetArgs,
}

/// The call's caller, store, the store's document, when it started and how it ended.
type RecordedCall = (
    String,
    String,
    Value,
    chrono::DateTime<chrono::Utc>,
    Option<String>,
);

/// One recorded turn: what came in and what kea said.
struct Recorded {
    event: Event,
    said: Vec<String>,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let db = args.target.pool(2).await?;
    let mut differing_calls = 0;
    for sid in &args.call_sids {
        let (turns, differing) = replay(&db, sid, args.verbose).await?;
        if args.call_sids.len() > 1 {
            print!("{sid}: ");
        }
        println!("{turns} turns replayed, {differing} differ");
        if differing > 0 {
            differing_calls += 1;
        }
    }
    if args.call_sids.len() > 1 {
        println!(
            "{} calls replayed, {differing_calls} differ",
            args.call_sids.len()
        );
    }
    Ok(if differing_calls == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Replays one call; returns how many turns it had and how many differ now.
async fn replay(
    db: &sqlx::PgPool,
    call_sid: &str,
    verbose: bool,
) -> anyhow::Result<(usize, usize)> {
    let call: Option<RecordedCall> = sqlx::query_as(
        "SELECT c.from_number, c.store_id, s.document, c.started_at, c.outcome
           FROM calls c JOIN stores s ON s.id = c.store_id WHERE c.call_sid = $1",
    )
    .bind(call_sid)
    .fetch_optional(db)
    .await
    .context("reading the call")?;
    let Some((from, store_id, document, started_at, outcome)) = call else {
        bail!("no recorded call {call_sid}")
    };
    let store = Store::from_json(&document).with_context(|| format!("store `{store_id}`"))?;
    let events: Vec<(String, Value)> =
        sqlx::query_as("SELECT kind, payload FROM call_events WHERE call_sid = $1 AND kind IN ('webhook', 'state') ORDER BY seq")
            .bind(call_sid)
            .fetch_all(db)
            .await
            .context("reading the call's events")?;
    let turns = recorded_turns(&events);
    if turns.is_empty() {
        bail!("call {call_sid} has no recorded turns");
    }

    let matcher = MenuMatcher::new(&store.menu);
    // The call as it was: at its time (store hours, orders for later today), with hours
    // enforced if that is how it ended (otherwise they made no difference).
    let ctx = kea_dialog::Context {
        store: &store,
        matcher: &matcher,
        now: Some(started_at),
        enforce_hours: matches!(outcome.as_deref(), Some("closed_hours" | "closed_today")),
    };
    let mut state = DialogState::new(&from);
    let mut differing = 0;
    for (n, turn) in turns.iter().enumerate() {
        let (next, now) = kea_dialog::step(&state, &turn.event, &ctx);
        state = next;
        let said_now: Vec<String> = now.say.iter().map(|u| u.text.clone()).collect();
        let heard = match &turn.event {
            Event::Start => "(call starts)".to_owned(),
            Event::Speech { text, confidence } => format!("{text:?} (confidence {confidence:.2})"),
            Event::Digits(d) => format!("keys {d}"),
            Event::Silence => "(silence)".to_owned(),
        };
        let same = said_now == turn.said;
        if !same {
            differing += 1;
        }
        if verbose || !same {
            println!("turn {}: caller {heard}", n + 1);
            println!("  then: {}", turn.said.join(" "));
            if !same {
                println!("  now:  {}", said_now.join(" "));
            }
        }
    }
    Ok((turns.len(), differing))
}

/// Pairs each recorded webhook with the dialog's answer to it (the `state` event that follows).
fn recorded_turns(events: &[(String, Value)]) -> Vec<Recorded> {
    let mut turns = Vec::new();
    let mut pending: Option<Event> = None;
    for (kind, payload) in events {
        match kind.as_str() {
            "webhook" => {
                let param = |name: &str| {
                    payload
                        .get(name)
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                };
                pending = Some(if turns.is_empty() && pending.is_none() {
                    Event::Start
                } else if let Some(text) = param("SpeechResult") {
                    let confidence = param("Confidence")
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0.0);
                    Event::Speech {
                        text: text.trim().to_owned(),
                        confidence,
                    }
                } else if let Some(digits) = param("Digits") {
                    Event::Digits(digits.to_owned())
                } else {
                    Event::Silence
                });
            }
            "state" => {
                if let Some(event) = pending.take() {
                    let said = payload
                        .get("said")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    turns.push(Recorded { event, said });
                }
            }
            _ => {}
        }
    }
    turns
}
