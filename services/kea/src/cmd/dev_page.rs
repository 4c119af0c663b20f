//! `kea dev`'s page at `/dev`: the whole loop on one screen. A phone to call any store from the
//! browser (typed or, where the browser recognises speech, spoken), which goes through the real
//! signed webhooks and shows each turn's TwiML and time; the kitchen tickets the dev POS printed;
//! the texts the dev inbox took and their delivery; the live call list with each call's timeline;
//! and ready-made data-API tokens for every role. Live through server-sent events, never polled.
//!
//! Only `kea dev` mounts it, and it answers only a browser on this machine (a loopback peer that
//! names a loopback host): it hands out tokens, so a tunnel or a LAN must not reach it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc, watch};

use super::dev_board::{Board, Change};
use crate::phone::{self, Caller, Ended, Reply};

const SCRIPT: &str = include_str!("dev_page/dev.js");
const STYLE: &str = include_str!("dev_page/dev.css");

/// How long a browser call waits for the person before hanging up for them.
const CALLER_PATIENCE: Duration = Duration::from_secs(10 * 60);
/// How long the page waits for the server's next prompt.
const SERVER_PATIENCE: Duration = Duration::from_secs(30);
/// How long the tokens on the page are valid.
const TOKEN_TTL_SECS: i64 = 24 * 3600;

/// What the page needs.
#[derive(Clone)]
struct DevPage {
    db: PgPool,
    board: Board,
    /// The webhooks' side of the phone: where the server is and how Twilio signs.
    server: phone::Server,
    jwt_secret: Option<String>,
    /// The kea binary's full path, for the commands the page suggests (it is not on PATH).
    kea_bin: String,
    /// Live browser calls by their CallSid.
    calls: Arc<Mutex<HashMap<String, Arc<BrowserCall>>>>,
    http: reqwest::Client,
    /// Flips to true when `kea dev` stops, so the open event streams end and do not hold it up.
    stopping: watch::Receiver<bool>,
}

/// The routes to merge into the dev server.
pub fn routes(
    db: PgPool,
    board: Board,
    server: phone::Server,
    jwt_secret: Option<String>,
    kea_bin: String,
    stopping: watch::Receiver<bool>,
) -> Router {
    let state = DevPage {
        db,
        board,
        server,
        jwt_secret,
        kea_bin,
        calls: Arc::default(),
        http: reqwest::Client::new(),
        stopping,
    };
    Router::new()
        .route("/dev", get(page))
        .route("/dev/events", get(events))
        .route("/dev/calls/{sid}", get(timeline))
        .route("/dev/phone", post(dial))
        .route("/dev/phone/{sid}", post(reply))
        .route("/dev/static/dev.js", get(script))
        .route("/dev/static/dev.css", get(style))
        .layer(axum::middleware::from_fn(this_machine_only))
        .with_state(state)
}

/// Announces every webhook (a turn, a status callback) to the page's call list; for the layer
/// around the whole dev server.
pub async fn announce_calls(State(board): State<Board>, req: Request, next: Next) -> Response {
    let webhook = req.uri().path().starts_with("/twilio/");
    let res = next.run(req).await;
    if webhook {
        board.changed(Change::Calls);
    }
    res
}

/// Refuses anyone but a browser on this machine: the peer is loopback and the `Host` it asked
/// for is a loopback name (which also keeps out DNS rebinding and tunnels that forward the
/// original host).
async fn this_machine_only(req: Request, next: Next) -> Response {
    let peer_local = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());
    let host_local = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(loopback_host);
    if peer_local && host_local {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "kea dev's page answers only a browser on this machine (http://127.0.0.1:<port>/dev or http://localhost:<port>/dev)\n",
        )
            .into_response()
    }
}

/// `localhost`, `127.0.0.1`, `[::1]`, with or without a port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn script() -> Response {
    kea_api::console::static_file("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    kea_api::console::static_file("text/css; charset=utf-8", STYLE)
}

/// Never cached (it holds tokens), never framed, scripts only from here: as the console's pages.
fn html_page(status: StatusCode, markup: Markup) -> Response {
    kea_api::console::page(status, markup)
}

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/dev/static/dev.css";
                script src="/dev/static/dev.js" defer {}
            }
            body { (body) }
        }
    }
}

/// A store, for the phone.
#[derive(sqlx::FromRow)]
struct StoreRow {
    id: String,
    name: String,
    phone: String,
}

/// One call in the list.
#[derive(sqlx::FromRow)]
struct CallRow {
    call_sid: String,
    store_id: String,
    from_number: String,
    status: String,
    outcome: Option<String>,
    turns: i32,
    started_at: DateTime<Utc>,
    order_status: Option<String>,
    total_cents: Option<i64>,
}

async fn page(State(dev): State<DevPage>) -> Response {
    let stores: Vec<StoreRow> =
        match sqlx::query_as("SELECT id, name, phone FROM stores ORDER BY id")
            .fetch_all(&dev.db)
            .await
        {
            Ok(s) => s,
            Err(e) => return unavailable(&e),
        };
    let calls = match call_list(&dev.db).await {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let tokens = match tokens(&dev).await {
        Ok(t) => t,
        Err(e) => return unavailable(&e),
    };
    let body = html! {
        a class="skip" href="#phone" { "Skip to the phone" }
        header {
            h1 { "kea dev" }
            nav aria-label="Elsewhere" {
                a href="/console" { "Agent console" }
                a href="/readyz" { "Readiness" }
                a href="/metrics" { "Metrics" }
            }
            p id="live" class="live" role="status" { "Connecting for live updates…" }
        }
        main {
            section id="phone" aria-labelledby="phone-h" {
                h2 id="phone-h" { "Phone a store" }
                p class="hint" { "Goes through the real signed webhooks, as Twilio would: each turn shows the TwiML kea answered and how long it took." }
                form id="dial" {
                    div class="row" {
                        label for="store" { "Store" }
                        select id="store" name="store" {
                            @for s in &stores {
                                option value=(s.id) { (s.name) " (" (s.phone) ")" }
                            }
                        }
                        label for="from" { "Your number" }
                        input id="from" name="from" type="tel" value="+15557654321" autocomplete="off" pattern="\\+[1-9][0-9]{6,14}" required;
                        button id="call" type="submit" { "Call" }
                    }
                }
                ol id="transcript" class="transcript" aria-live="polite" aria-label="Conversation" {}
                form id="speak" hidden {
                    div class="row" {
                        label for="say" { "You say" }
                        input id="say" name="say" type="text" autocomplete="off" placeholder="a large pepperoni pizza";
                        button type="submit" { "Say" }
                        button id="mic" type="button" class="quiet" hidden { "Speak" }
                        button id="silence" type="button" class="quiet" { "Stay silent" }
                        button id="hangup" type="button" class="danger" { "Hang up" }
                    }
                    div class="row" {
                        input id="aloud" type="checkbox";
                        label for="aloud" { "Read kea's replies aloud" }
                    }
                }
            }
            section id="tickets-section" aria-labelledby="tickets-h" {
                h2 id="tickets-h" { "Kitchen tickets " span class="where" { "(the dev POS)" } }
                div id="tickets" { (tickets_fragment(&dev.board)) }
            }
            section id="texts-section" aria-labelledby="texts-h" {
                h2 id="texts-h" { "Texts " span class="where" { "(the dev inbox: nothing leaves this machine)" } }
                div id="texts" { (texts_fragment(&dev.board)) }
            }
            section id="calls-section" aria-labelledby="calls-h" {
                h2 id="calls-h" { "Calls" }
                div id="calls" { (calls_fragment(&calls)) }
            }
            section id="tokens" aria-labelledby="tokens-h" {
                h2 id="tokens-h" { "Data API tokens" }
                (tokens)
            }
        }
    };
    html_page(StatusCode::OK, layout("kea dev", body))
}

fn unavailable(e: &sqlx::Error) -> Response {
    tracing::warn!(error = %e, "dev page: database unavailable");
    html_page(
        StatusCode::SERVICE_UNAVAILABLE,
        layout(
            "kea dev: database unavailable",
            html! { main { h1 { "The database is unavailable" } p { "kea dev's PostgreSQL did not answer: " (e.to_string()) ". Reload once it is back." } } },
        ),
    )
}

async fn call_list(db: &PgPool) -> Result<Vec<CallRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.call_sid, c.store_id, c.from_number, c.status, c.outcome, c.turns, c.started_at,
                o.status AS order_status, o.total_cents
           FROM calls c LEFT JOIN orders o ON o.call_sid = c.call_sid
          ORDER BY c.started_at DESC
          LIMIT 25",
    )
    .fetch_all(db)
    .await
}

fn money(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

fn tickets_fragment(board: &Board) -> Markup {
    let tickets = board.tickets();
    html! {
        @if tickets.is_empty() {
            p class="empty" { "No tickets yet. Place an order with the phone: it prints here when the POS receives it." }
        }
        ol class="tickets" aria-label="Kitchen tickets, newest first" {
            @for t in &tickets {
                li class="ticket" data-ref=(t.reference) {
                    p class="head" {
                        strong { (t.reference) } " · " (t.store_id) " · "
                        time datetime=(t.received_at.to_rfc3339()) { (t.received_at.format("%H:%M:%S")) }
                    }
                    p { (t.fulfillment) " for " strong { (t.customer) }
                        @if let Some(at) = &t.ready_at { ", ready at " (at) } }
                    ul { @for line in &t.lines { li { (line) } } }
                    p class="total" { "Total " (money(t.total_cents)) }
                    @if t.repeats > 0 {
                        p class="hint" { "Delivered again " (t.repeats) " time(s) with the same Idempotency-Key: not printed twice." }
                    }
                }
            }
        }
    }
}

fn texts_fragment(board: &Board) -> Markup {
    let texts = board.texts();
    html! {
        @if texts.is_empty() {
            p class="empty" { "No texts yet. The caller's receipt arrives here after the order reaches the POS." }
        }
        ol class="texts" aria-label="Texts, newest first" {
            @for t in &texts {
                li class="text" data-sid=(t.sid) {
                    p class="head" {
                        "To " strong { (t.to) } " from " (t.from) " · "
                        time datetime=(t.received_at.to_rfc3339()) { (t.received_at.format("%H:%M:%S")) }
                        " · " span class={ "status " (t.status) } { (t.status) }
                        @if let Some(code) = t.callback_answer { span class="hint" { " (kea answered the status callback " (code) ")" } }
                    }
                    p class="body" { (t.body) }
                }
            }
        }
    }
}

fn calls_fragment(calls: &[CallRow]) -> Markup {
    html! {
        @if calls.is_empty() {
            p class="empty" { "No calls yet." }
        } @else {
            table class="calls" {
                caption class="visually-hidden" { "Calls, newest first" }
                thead { tr { th scope="col" { "Started" } th scope="col" { "Store" } th scope="col" { "From" }
                    th scope="col" { "Call" } th scope="col" class="num" { "Turns" } th scope="col" { "Order" } th scope="col" { "Timeline" } } }
                tbody {
                    @for c in calls {
                        tr data-sid=(c.call_sid) {
                            td { time datetime=(c.started_at.to_rfc3339()) { (c.started_at.format("%H:%M:%S")) } }
                            td { (c.store_id) }
                            td { (c.from_number) }
                            td { (c.status) @if let Some(o) = &c.outcome { " · " (o.replace('_', " ")) } }
                            td class="num" { (c.turns) }
                            td class="order" {
                                @match (&c.order_status, c.total_cents) {
                                    (Some(s), Some(total)) => { span class={ "status " (s) } { (s.replace('_', " ")) } " " (money(total)) }
                                    _ => { "—" }
                                }
                            }
                            td { a href={ "/dev/calls/" (c.call_sid) } { "Timeline" span class="visually-hidden" { " of call " (c.call_sid) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The tokens section: one token per role, with copy buttons and examples.
async fn tokens(dev: &DevPage) -> Result<Markup, sqlx::Error> {
    let Some(secret) = dev.jwt_secret.as_deref() else {
        return Ok(html! { p { "KEA_JWT_SECRET is not set, so the data API takes no tokens." } });
    };
    let merchants: Vec<(uuid::Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT m.id, m.name, string_agg(s.id, ', ' ORDER BY s.id)
           FROM merchants m LEFT JOIN stores s ON s.merchant_id = m.id
          GROUP BY m.id, m.name ORDER BY m.name",
    )
    .fetch_all(&dev.db)
    .await?;
    let agents: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM workers ORDER BY name")
            .fetch_all(&dev.db)
            .await?;
    let now = Utc::now().timestamp();
    let mint = |role| kea_api::tokens::mint(secret, role, now, TOKEN_TTL_SECS).ok();
    let base = dev.server.public_url.trim_end_matches('/');
    let service = mint(kea_api::tokens::Role::Service);
    let mut n = 0;
    let mut token_row = |who: Markup, token: Option<String>| {
        n += 1;
        let id = format!("token-{n}");
        html! {
            div class="token" {
                label for=(id) { (who) }
                @match token {
                    Some(t) => {
                        div class="row" {
                            input id=(id) type="text" readonly value=(t) class="mono";
                            button type="button" class="copy quiet" data-copy=(id) { "Copy" span class="visually-hidden" { " " (who) } }
                        }
                    }
                    None => { p class="error" { "No token could be made (the secret is too weak)." } }
                }
            }
        }
    };
    let service_row = token_row(html! { "Service (everything)" }, service.clone());
    let merchant_rows: Vec<Markup> = merchants
        .iter()
        .map(|(id, name, stores)| {
            token_row(
                html! { "Merchant " (name) " (" (stores.as_deref().unwrap_or("no stores")) ")" },
                mint(kea_api::tokens::Role::Merchant(*id)),
            )
        })
        .collect();
    let agent_rows: Vec<Markup> = agents
        .iter()
        .map(|(id, name)| {
            token_row(
                html! { "Agent " (name) },
                mint(kea_api::tokens::Role::Agent(*id)),
            )
        })
        .collect();
    let example = service.as_deref().unwrap_or("<token>");
    let stores = merchants
        .iter()
        .filter_map(|(_, _, s)| s.as_deref())
        .collect::<Vec<_>>()
        .join(",")
        .replace(' ', "");
    let curl = format!(
        "curl -H 'Authorization: Bearer {example}' \\\n  '{base}/rest/v1/orders?select=id,status,total_cents,order_items(name,quantity)&order=created_at.desc&limit=5'"
    );
    let js = format!(
        "import {{ PostgrestClient }} from '@supabase/postgrest-js'\n\nconst kea = new PostgrestClient('{base}/rest/v1', {{\n  headers: {{ Authorization: 'Bearer {example}' }},\n}})\nconst {{ data, error }} = await kea\n  .from('orders')\n  .select('id, status, total_cents')\n  .eq('status', 'sent_to_pos')"
    );
    Ok(html! {
        p class="hint" { "Signed with this folder's secret, valid for 24 hours. A merchant's token sees only its own stores and orders; an agent's only its tasks. " code { (dev.kea_bin) " token --role …" } " makes more." }
        (service_row)
        @for r in merchant_rows { (r) }
        @if agents.is_empty() {
            p class="hint" { "No agents yet: " code { "echo 'a password' | " (dev.kea_bin) " agent add you@example.com --name You --stores " (stores) } " adds one (reload this page after)." }
        }
        @for r in agent_rows { (r) }
        h3 { "Examples" }
        div class="example" {
            div class="row" { span id="curl-label" { "curl" } button type="button" class="copy quiet" data-copy="curl" { "Copy" span class="visually-hidden" { " the curl example" } } }
            pre id="curl" aria-labelledby="curl-label" { code { (curl) } }
        }
        div class="example" {
            div class="row" { span id="js-label" { "postgrest-js" } button type="button" class="copy quiet" data-copy="js" { "Copy" span class="visually-hidden" { " the postgrest-js example" } } }
            pre id="js" aria-labelledby="js-label" { code { (js) } }
        }
    })
}

/// The page's live updates: each change re-renders the part it touches (already escaped HTML),
/// a new connection first gets every part fresh (it may have missed changes), and the stream
/// ends when `kea dev` stops.
async fn events(State(dev): State<DevPage>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = dev.board.subscribe();
    let mut stopping = dev.stopping.clone();
    let stream = futures_util::stream::unfold((dev, rx, true), |(dev, mut rx, first)| async move {
        let mut wanted = [first; 3];
        if !first {
            match rx.recv().await {
                Ok(change) => mark(&mut wanted, change),
                Err(broadcast::error::RecvError::Lagged(_)) => wanted = [true; 3],
                Err(broadcast::error::RecvError::Closed) => return None,
            }
            // A turn comes with a burst of changes: show them together.
            tokio::time::sleep(Duration::from_millis(50)).await;
            loop {
                match rx.try_recv() {
                    Ok(change) => mark(&mut wanted, change),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => wanted = [true; 3],
                    Err(_) => break,
                }
            }
        }
        let mut out = Vec::new();
        if first {
            out.push(Event::default().event("ready").data("{}"));
        }
        if wanted[0] {
            out.push(part("tickets", tickets_fragment(&dev.board)));
        }
        if wanted[1] {
            out.push(part("texts", texts_fragment(&dev.board)));
        }
        if wanted[2] {
            match call_list(&dev.db).await {
                Ok(calls) => out.push(part("calls", calls_fragment(&calls))),
                Err(e) => tracing::debug!(error = %e, "dev page: no call list"),
            }
        }
        Some((
            futures_util::stream::iter(out.into_iter().map(Ok)),
            (dev, rx, false),
        ))
    })
    .flatten()
    .take_until(async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn mark(wanted: &mut [bool; 3], change: Change) {
    let at = match change {
        Change::Tickets => 0,
        Change::Texts => 1,
        Change::Calls => 2,
    };
    wanted[at] = true;
}

fn part(name: &str, markup: Markup) -> Event {
    Event::default().event(name).data(markup.into_string())
}

/// A call's timeline: each turn as the caller and kea had it, with the TwiML and the server time,
/// and the status callbacks.
async fn timeline(State(dev): State<DevPage>, Path(sid): Path<String>) -> Response {
    let call: Option<CallRow> = match sqlx::query_as(
        "SELECT c.call_sid, c.store_id, c.from_number, c.status, c.outcome, c.turns, c.started_at,
                o.status AS order_status, o.total_cents
           FROM calls c LEFT JOIN orders o ON o.call_sid = c.call_sid
          WHERE c.call_sid = $1",
    )
    .bind(&sid)
    .fetch_optional(&dev.db)
    .await
    {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let Some(call) = call else {
        return html_page(
            StatusCode::NOT_FOUND,
            layout(
                "kea dev: no such call",
                html! { main { h1 { "No such call" } p { "There is no call " code { (sid) } ". " a href="/dev" { "Back to kea dev" } } } },
            ),
        );
    };
    let events: Vec<EventRow> = match sqlx::query_as(
        "SELECT kind, payload, server_micros, at FROM call_events WHERE call_sid = $1 ORDER BY seq",
    )
    .bind(&sid)
    .fetch_all(&dev.db)
    .await
    {
        Ok(e) => e,
        Err(e) => return unavailable(&e),
    };
    let rows = timeline_rows(&events);
    let body = html! {
        header {
            h1 { "Call " (call.call_sid) }
            nav aria-label="Elsewhere" { a href="/dev" { "Back to kea dev" } }
        }
        main class="narrow" {
            dl class="facts" {
                dt { "Store" } dd { (call.store_id) }
                dt { "From" } dd { (call.from_number) }
                dt { "Started" } dd { (call.started_at.format("%Y-%m-%d %H:%M:%S UTC")) }
                dt { "Status" } dd { (call.status) @if let Some(o) = &call.outcome { " · " (o.replace('_', " ")) } }
                dt { "Order" } dd { @match (&call.order_status, call.total_cents) {
                    (Some(s), Some(t)) => { (s.replace('_', " ")) " · " (money(t)) }
                    _ => { "none" } } }
                dt { "Replay" } dd { code { (dev.kea_bin) " replay " (call.call_sid) } }
            }
            ol class="timeline" {
                @for row in &rows { li { (row) } }
            }
        }
    };
    html_page(
        StatusCode::OK,
        layout(&format!("kea dev: call {sid}"), body),
    )
}

/// One recorded event of a call.
#[derive(sqlx::FromRow)]
struct EventRow {
    kind: String,
    payload: Value,
    server_micros: Option<i64>,
    at: DateTime<Utc>,
}

/// The call's events as lines a person reads.
fn timeline_rows(events: &[EventRow]) -> Vec<Markup> {
    let mut rows = Vec::new();
    for EventRow {
        kind,
        payload,
        server_micros: micros,
        at,
    } in events
    {
        let when = at.format("%H:%M:%S%.3f").to_string();
        let row = match kind.as_str() {
            "webhook" => {
                let heard = payload["SpeechResult"]
                    .as_str()
                    .or(payload["Digits"].as_str())
                    .filter(|s| !s.is_empty());
                html! {
                    span class="when" { (when) }
                    @match heard {
                        Some(text) => { span class="who" { "Caller" } " " q { (text) }
                            @if let Some(c) = payload["Confidence"].as_str() { span class="hint" { " (confidence " (c) ")" } } }
                        None => { span class="who" { "Twilio" } " " (payload["CallStatus"].as_str().unwrap_or("webhook")) }
                    }
                }
            }
            "state" => {
                let said: Vec<&str> = payload["said"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                html! {
                    span class="when" { (when) }
                    span class="who" { "kea" } " " (said.join(" "))
                    @if let Some(o) = payload["outcome"].as_str() { " " span class="status" { (o.replace('_', " ")) } }
                }
            }
            "twiml" => html! {
                span class="when" { (when) }
                details {
                    summary { "TwiML" @if let Some(m) = micros { " · " (format!("{:.1}", *m as f64 / 1000.0)) " ms on the server" } }
                    pre { code { (payload["xml"].as_str().unwrap_or_default()) } }
                }
            },
            "status" => html! {
                span class="when" { (when) }
                span class="who" { "Twilio" } " status: " (payload["CallStatus"].as_str().unwrap_or("?"))
                @if let Some(d) = payload["CallDuration"].as_str() { ", " (d) " s" }
            },
            other => html! {
                span class="when" { (when) }
                span class="who" { (other) } " " code { (payload.to_string()) }
            },
        };
        rows.push(row);
    }
    rows
}

// ---- The browser's phone ----

/// What the page asks to start a call.
#[derive(Deserialize)]
struct DialRequest {
    store: String,
    from: String,
}

/// What the person does when kea waits for them.
#[derive(Deserialize)]
struct ReplyRequest {
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    hang_up: bool,
}

/// One webhook round trip, as the page shows it.
#[derive(Serialize, Clone)]
struct TurnShown {
    url: String,
    twiml: String,
    millis: f64,
}

/// What happened since the person last spoke.
#[derive(Serialize)]
struct Step {
    call_sid: String,
    /// What kea said.
    kea_says: String,
    /// The webhooks that got there.
    turns: Vec<TurnShown>,
    /// How the call ended, once it has.
    ended: Option<&'static str>,
    error: Option<String>,
}

/// A call the browser is on.
struct BrowserCall {
    replies: mpsc::Sender<Reply>,
    steps: tokio::sync::Mutex<mpsc::Receiver<Step>>,
}

/// The person at the browser, as the phone's caller.
struct BrowserCaller {
    sid: String,
    steps: mpsc::Sender<Step>,
    replies: mpsc::Receiver<Reply>,
    turns: Vec<TurnShown>,
}

impl Caller for BrowserCaller {
    async fn respond(&mut self, prompt: &str) -> Reply {
        let step = Step {
            call_sid: self.sid.clone(),
            kea_says: prompt.to_owned(),
            turns: std::mem::take(&mut self.turns),
            ended: None,
            error: None,
        };
        if self.steps.send(step).await.is_err() {
            return Reply::HangUp;
        }
        match tokio::time::timeout(CALLER_PATIENCE, self.replies.recv()).await {
            Ok(Some(reply)) => reply,
            _ => Reply::HangUp,
        }
    }

    fn answered(&mut self, url: &str, twiml: &str, took: Duration) {
        self.turns.push(TurnShown {
            url: url.to_owned(),
            twiml: twiml.to_owned(),
            millis: took.as_secs_f64() * 1000.0,
        });
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Starts a call to a store; answers with what kea says first.
async fn dial(State(dev): State<DevPage>, Json(req): Json<DialRequest>) -> Response {
    let to: Option<String> = match sqlx::query_scalar("SELECT phone FROM stores WHERE id = $1")
        .bind(&req.store)
        .fetch_optional(&dev.db)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("database unavailable: {e}"),
            );
        }
    };
    let Some(to) = to else {
        return problem(StatusCode::NOT_FOUND, &format!("no store `{}`", req.store));
    };
    let from = req.from.trim().to_owned();
    if !kea_menu::is_e164(&from) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("`{from}` is not a phone number in international form, such as +15557654321"),
        );
    }
    let sid = phone::new_call_sid();
    let (steps_tx, steps_rx) = mpsc::channel(4);
    let (replies_tx, replies_rx) = mpsc::channel(1);
    let call = Arc::new(BrowserCall {
        replies: replies_tx,
        steps: tokio::sync::Mutex::new(steps_rx),
    });
    if let Ok(mut calls) = dev.calls.lock() {
        calls.insert(sid.clone(), call.clone());
    }
    let mut caller = BrowserCaller {
        sid: sid.clone(),
        steps: steps_tx,
        replies: replies_rx,
        turns: Vec::new(),
    };
    let (http, server, calls) = (dev.http.clone(), dev.server.clone(), dev.calls.clone());
    let call_sid = sid.clone();
    tokio::spawn(async move {
        let dialled = phone::place_call(
            &http,
            &server,
            phone::Dial {
                sid: call_sid.clone(),
                from: &from,
                to: &to,
            },
            &mut caller,
            200,
        )
        .await;
        let last = match dialled {
            Ok(call) => Step {
                call_sid: call_sid.clone(),
                kea_says: match call.transcript.last() {
                    Some(phone::Line::System(last)) => last.clone(),
                    _ => String::new(),
                },
                turns: std::mem::take(&mut caller.turns),
                ended: Some(match call.ended {
                    Ended::Hangup => "kea hung up",
                    Ended::Transferred => "transferred to a person",
                    Ended::CallerHungUp => "you hung up",
                }),
                error: None,
            },
            Err(e) => Step {
                call_sid: call_sid.clone(),
                kea_says: String::new(),
                turns: std::mem::take(&mut caller.turns),
                ended: Some("the call failed"),
                error: Some(format!("{e:#}")),
            },
        };
        let _ = caller.steps.send(last).await;
        // The page reads the last step, then the call is forgotten.
        tokio::time::sleep(SERVER_PATIENCE).await;
        if let Ok(mut calls) = calls.lock() {
            calls.remove(&call_sid);
        }
    });
    next_step(&dev, &sid, &call).await
}

/// Passes what the person did to their call; answers with what kea says next.
async fn reply(
    State(dev): State<DevPage>,
    Path(sid): Path<String>,
    Json(req): Json<ReplyRequest>,
) -> Response {
    let call = dev.calls.lock().ok().and_then(|c| c.get(&sid).cloned());
    let Some(call) = call else {
        return problem(
            StatusCode::NOT_FOUND,
            "that call has ended (or was never placed from this page)",
        );
    };
    let reply = if req.hang_up {
        Reply::HangUp
    } else {
        match req.say.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Reply::Speak(text.to_owned()),
            _ => Reply::Silence,
        }
    };
    if call.replies.send(reply).await.is_err() {
        return problem(StatusCode::GONE, "that call has ended");
    }
    next_step(&dev, &sid, &call).await
}

async fn next_step(dev: &DevPage, sid: &str, call: &BrowserCall) -> Response {
    let mut steps = call.steps.lock().await;
    match tokio::time::timeout(SERVER_PATIENCE, steps.recv()).await {
        Ok(Some(step)) => {
            if step.ended.is_some()
                && let Ok(mut calls) = dev.calls.lock()
            {
                calls.remove(sid);
            }
            dev.board.changed(Change::Calls);
            Json(step).into_response()
        }
        Ok(None) => problem(StatusCode::GONE, "that call has ended"),
        Err(_) => problem(
            StatusCode::GATEWAY_TIMEOUT,
            "kea did not answer within 30 seconds",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts() {
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "example.com",
            "kea.example.com:443",
            "10.0.0.2:8080",
            "localhost.evil.example",
            "[2001:db8::1]:80",
            "",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }

    #[test]
    fn timelines_read_as_a_conversation() {
        let event = |kind: &str, payload: Value, micros: Option<i64>| EventRow {
            kind: kind.to_owned(),
            payload,
            server_micros: micros,
            at: Utc::now(),
        };
        let events = vec![
            event("webhook", json!({"CallStatus": "ringing"}), None),
            event(
                "state",
                json!({"said": ["Thanks for calling."], "outcome": null}),
                None,
            ),
            event(
                "twiml",
                json!({"xml": "<Response><Say>Thanks & hi</Say></Response>"}),
                Some(1500),
            ),
            event(
                "webhook",
                json!({"SpeechResult": "a <b>large</b> pizza", "Confidence": "0.92"}),
                None,
            ),
        ];
        let html: String = timeline_rows(&events)
            .into_iter()
            .map(Markup::into_string)
            .collect();
        assert!(html.contains("Twilio</span> ringing"), "{html}");
        assert!(html.contains("Thanks for calling."), "{html}");
        assert!(html.contains("1.5 ms on the server"), "{html}");
        // What callers and TwiML say is escaped, never markup.
        assert!(html.contains("a &lt;b&gt;large&lt;/b&gt; pizza"), "{html}");
        assert!(html.contains("Thanks &amp; hi"), "{html}");
    }
}
