//! The agent console under `/console`: sign-in, the tasks offered to the signed-in worker (live,
//! over server-sent events fed by PostgreSQL's `LISTEN/NOTIFY`), and the work itself: accept or
//! reject an offer, correct an order's lines from the store's menu (priced by kea-menu), approve
//! or reject it, finish a callback, connect a waiting caller.
//!
//! Every change an agent makes runs as the agent (`kea_agent` with its claims, as the data API
//! does for an agent's token), so row-level security and the task triggers decide what is
//! allowed, in one place for the console and for anyone else's tools. Line edits, which the data
//! API does not offer agents, check in the same transaction that the agent holds the order's task.

pub mod auth;
mod events;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use kea_menu::{FulfillmentKind, OrderLine, Store};
use kea_store::StoreError;
use kea_store::console::{EditError, EditedLine, EditedTotals, Session, TaskSummary};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

pub use events::Hub;

use crate::AppState;
use crate::twilio::menus::StoreBundle;

/// The console's pages and forms (behind the server's usual layers, timeout included).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(sign_in_page).post(sign_in))
        .route("/logout", post(sign_out))
        .route("/activity", post(set_activity))
        .route("/fragments/tasks", get(tasks_fragment))
        .route("/fragments/task/{id}", get(task_fragment))
        .route("/tasks/{id}/{action}", post(task_action))
        .route("/orders/{id}/approve", post(approve))
        .route("/orders/{id}/reject", post(reject_order))
        .route("/orders/{id}/lines", post(edit_lines))
        .route("/static/console.js", get(script))
        .route("/static/console.css", get(style))
}

/// The live event stream, which stays open: served outside the request timeout.
pub fn live_routes() -> Router<AppState> {
    Router::new().route("/console/events", get(live))
}

const SCRIPT: &str = include_str!("static/console.js");
const STYLE: &str = include_str!("static/console.css");

async fn script() -> Response {
    static_file("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    static_file("text/css; charset=utf-8", STYLE)
}

/// A page's script or style sheet, compiled in (also `kea dev`'s page's).
pub fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

/// Pages are never cached and never framed by another site, and run only their own scripts
/// (also `kea dev`'s page).
pub fn page(status: StatusCode, markup: maud::Markup) -> Response {
    let mut r = (status, Html(markup.into_string())).into_response();
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    r
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Back to the console (on `task`), saying what was done: the post/redirect/get pattern, so a
/// reload never sends the form again.
fn redirect_with_notice(task: Option<Uuid>, notice: &str) -> Response {
    let mut to = String::from("/console?");
    if let Some(t) = task {
        to.push_str(&format!("task={t}&"));
    }
    to.push_str("notice=");
    to.extend(form_urlencoded::byte_serialize(notice.as_bytes()));
    redirect(&to)
}

fn server_error(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console: request failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::problem(
            "Something went wrong",
            "kea could not do that just now; nothing was changed. Try again in a moment.",
        ),
    )
}

fn secure_cookies(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}

/// The signed-in worker, or a redirect to the sign-in page.
async fn session_of(state: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    let Some(token) = auth::session_token(headers) else {
        return Err(redirect("/console/login"));
    };
    match kea_store::console::session(&state.db, &auth::token_hash(&token)).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(redirect("/console/login")),
        Err(e) => Err(server_error(&e)),
    }
}

/// A form's fields (repeated names kept, as checkboxes send them).
struct FormFields(Vec<(String, String)>);

impl FormFields {
    fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The session behind a form POST, after checking the form came from this session's page.
async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    form: &FormFields,
) -> Result<Session, Response> {
    let session = session_of(state, headers).await?;
    if !auth::same_origin(headers) || !auth::csrf_matches(&session.csrf_token, form.get("csrf")) {
        tracing::warn!(worker.id = %session.worker_id, "console: form refused (CSRF token or origin)");
        return Err(page(
            StatusCode::FORBIDDEN,
            pages::problem(
                "Form refused",
                "This form did not come from your console session (it is from another site, an \
                 old page or another sign-in). Nothing was changed. Reload the console and try again.",
            ),
        ));
    }
    Ok(session)
}

/// `?task=…&notice=…`; a task id that is not one selects nothing (links are typed by people too).
#[derive(Debug, Deserialize)]
struct HomeQuery {
    #[serde(default, deserialize_with = "lenient_uuid")]
    task: Option<Uuid>,
    notice: Option<String>,
}

fn lenient_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.and_then(|s| Uuid::parse_str(s.trim()).ok()))
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Response {
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    render_console(
        &state,
        &session,
        q.task,
        q.notice.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The console page for `session`, with `selected` open, and a notice or error.
async fn render_console(
    state: &AppState,
    session: &Session,
    selected: Option<Uuid>,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (open, done) = match kea_store::console::tasks_of(&state.db, session.worker_id).await {
        Ok(t) => t,
        Err(e) => return server_error(&e),
    };
    let selected = selected.or_else(|| open.first().map(|t| t.id));
    let loaded = match selected {
        Some(id) => match load_task(state, session.worker_id, id).await {
            Ok(l) => l,
            Err(e) => return server_error(&e),
        },
        None => None,
    };
    let view = loaded.as_ref().map(Loaded::view);
    page(
        status,
        pages::console(session, &open, &done, view.as_ref(), notice, error),
    )
}

/// Everything about one task that the pane shows, owned.
struct Loaded {
    task: TaskSummary,
    order: Option<(Value, Vec<Value>)>,
    store: Option<Arc<StoreBundle>>,
    store_phone: Option<String>,
    transcript: Vec<kea_store::console::TranscriptTurn>,
    history: Vec<(chrono::DateTime<chrono::Utc>, Option<String>, String, Value)>,
}

impl Loaded {
    fn view(&self) -> pages::TaskView<'_> {
        pages::TaskView {
            task: &self.task,
            order: self.order.as_ref().map(|(o, l)| (o, l.as_slice())),
            store: self.store.as_deref().map(|b| &b.store),
            store_phone: self.store_phone.as_deref(),
            transcript: &self.transcript,
            history: &self.history,
        }
    }
}

async fn load_task(state: &AppState, worker: Uuid, id: Uuid) -> Result<Option<Loaded>, StoreError> {
    let Some(task) = kea_store::console::task_of(&state.db, worker, id).await? else {
        return Ok(None);
    };
    let mut order = None;
    let mut store = None;
    let mut store_phone = None;
    if let Some(order_id) = task.order_id
        && let Some(o) = kea_store::console::order_for_agent(&state.db, worker, order_id).await?
    {
        store = state
            .menus
            .get(&state.db, &o.store_id, o.store_updated_at)
            .await
            .map_err(
                |e| tracing::warn!(error = %e, "console: the order's store menu is unreadable"),
            )
            .ok();
        store_phone = Some(o.store_phone);
        order = Some((o.order, o.lines));
    }
    if store_phone.is_none()
        && let Some(sid) = &task.call_sid
    {
        store_phone = kea_store::calls::store_phone_of_call(&state.db, sid).await?;
    }
    let transcript = match &task.call_sid {
        Some(sid) => kea_store::console::transcript(&state.db, worker, sid).await?,
        None => Vec::new(),
    };
    let history = kea_store::console::history(&state.db, worker, id, task.order_id).await?;
    Ok(Some(Loaded {
        task,
        order,
        store,
        store_phone,
        transcript,
        history,
    }))
}

async fn tasks_fragment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Response {
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match kea_store::console::tasks_of(&state.db, session.worker_id).await {
        Ok((open, done)) => page(
            StatusCode::OK,
            pages::task_list(&session, &open, &done, q.task),
        ),
        Err(e) => server_error(&e),
    }
}

async fn task_fragment(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(_) => return (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
    };
    match load_task(&state, session.worker_id, id).await {
        Ok(Some(loaded)) => page(StatusCode::OK, pages::task_pane(&session, &loaded.view())),
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            maud::html! { p class="error" role="alert" { (NOT_YOURS) } },
        ),
        Err(e) => server_error(&e),
    }
}

async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if session_of(&state, &headers).await.is_ok() {
        return redirect("/console");
    }
    page(StatusCode::OK, pages::sign_in(None, ""))
}

async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormFields::parse(&body);
    if !auth::same_origin(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            pages::problem("Form refused", "This sign-in form came from another site."),
        );
    }
    let email = form.get("email").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default();
    let record = match kea_store::console::worker_for_sign_in(&state.db, &email).await {
        Ok(r) => r,
        Err(e) => return server_error(&e),
    };
    // Verify against a decoy when the e-mail is unknown, so both failures look and last alike.
    let hash = record
        .as_ref()
        .map_or_else(|| auth::decoy_hash(), |r| r.password_hash.as_str());
    let password_ok = !password.is_empty() && auth::verify_password(password, hash);
    let Some(worker) = record.filter(|_| password_ok) else {
        tracing::info!("console: sign-in refused");
        return page(
            StatusCode::UNAUTHORIZED,
            pages::sign_in(
                Some("That e-mail and password do not match an agent."),
                &email,
            ),
        );
    };
    let token = auth::new_token();
    let expires = chrono::Utc::now() + chrono::Duration::hours(auth::SESSION_HOURS);
    if let Err(e) = kea_store::console::create_session(
        &state.db,
        &auth::token_hash(&token),
        worker.id,
        &auth::new_token(),
        expires,
    )
    .await
    {
        return server_error(&e);
    }
    tracing::info!(worker.id = %worker.id, "console: signed in");
    let mut r = redirect("/console");
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(&token, secure_cookies(&state))) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormFields::parse(&body);
    if let Err(r) = form_session(&state, &headers, &form).await {
        return r;
    }
    if let Some(token) = auth::session_token(&headers)
        && let Err(e) =
            kea_store::console::delete_session(&state.db, &auth::token_hash(&token)).await
    {
        return server_error(&e);
    }
    let mut r = redirect("/console/login");
    if let Ok(v) = HeaderValue::from_str(&auth::cleared_cookie(secure_cookies(&state))) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

/// The outcome of an agent's change: done (back to the console, with a notice), or refused by
/// PostgreSQL's rules (the console again, with the refusal in words, and nothing changed).
async fn after_action(
    state: &AppState,
    session: &Session,
    task: Option<Uuid>,
    result: Result<u64, StoreError>,
    done: &str,
    none_matched: &str,
) -> Response {
    match result {
        Ok(0) => {
            render_console(
                state,
                session,
                task,
                None,
                Some(none_matched),
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Ok(_) => redirect_with_notice(task, done),
        Err(StoreError::Db(sqlx::Error::Database(db))) => {
            let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
            let message = match pg.and_then(|p| p.hint()) {
                Some(hint) => format!("{} {hint}", db.message()),
                None => db.message().to_owned(),
            };
            let status = match db.code().as_deref() {
                Some("42501") => StatusCode::FORBIDDEN,
                _ => StatusCode::CONFLICT,
            };
            render_console(state, session, task, None, Some(&message), status).await
        }
        Err(e) => server_error(&e),
    }
}

const NOT_YOURS: &str = "That task is not yours to act on: it was offered to someone else, or it has moved on. Nothing was changed.";

async fn set_activity(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormFields::parse(&body);
    let session = match form_session(&state, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let activity = form.get("activity").unwrap_or_default();
    if !matches!(activity, "available" | "offline") {
        return render_console(
            &state,
            &session,
            None,
            None,
            Some("Availability must be “available” or “offline”."),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let result = kea_store::console::act_as_agent(
        &state.db,
        session.worker_id,
        "UPDATE api.workers SET activity = $2 WHERE id = $1",
        session.worker_id,
        activity,
    )
    .await;
    let done = if activity == "available" {
        "You are available: offers will appear here."
    } else {
        "You are offline: your open offers went to other agents."
    };
    after_action(&state, &session, None, result, done, NOT_YOURS).await
}

/// One change an agent makes to a task or order (`sql` on the `api` views, `$1` the id, `$2`
/// what `value` reads from the form), run as the agent; then back to the task the form was
/// sent from (its `task` field, else `id` itself), with a notice or the refusal in words.
async fn agent_change(
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    id: Uuid,
    sql: &'static str,
    value: impl FnOnce(&FormFields) -> Result<String, &'static str>,
    done: &str,
) -> Response {
    let form = FormFields::parse(&body);
    let session = match form_session(&state, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let back = task_field(&form).or(Some(id));
    let value = match value(&form) {
        Ok(v) => v,
        Err(msg) => {
            return render_console(
                &state,
                &session,
                back,
                None,
                Some(msg),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let result =
        kea_store::console::act_as_agent(&state.db, session.worker_id, sql, id, &value).await;
    after_action(&state, &session, back, result, done, NOT_YOURS).await
}

/// `POST /console/tasks/{id}/{accept|reject|complete}`: the agent's answer to an offer, or a
/// callback or transfer it has finished (with a note for the record).
async fn task_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    type Answer = fn(&FormFields) -> Result<String, &'static str>;
    let (sql, value, done): (&'static str, Answer, &str) = match action.as_str() {
        "accept" => (
            "UPDATE api.tasks SET status = $2 WHERE id = $1 AND status = 'reserved'",
            |_| Ok("assigned".to_owned()),
            "Accepted: the task is yours.",
        ),
        "reject" => (
            "UPDATE api.tasks SET status = $2 WHERE id = $1 AND status = 'reserved'",
            |_| Ok("pending".to_owned()),
            "Rejected: the task goes to another agent.",
        ),
        "complete" => (
            "UPDATE api.tasks SET status = 'completed', reason = $2 WHERE id = $1 AND status = 'assigned'",
            |f| {
                let note = f.get("note").unwrap_or_default().trim();
                if note.is_empty() {
                    Err("Say what happened before marking the task done.")
                } else {
                    Ok(note.chars().take(500).collect())
                }
            },
            "Done: the task is closed.",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    agent_change(state, headers, body, id, sql, value, done).await
}

/// The task a decision form was sent from (to come back to it).
fn task_field(form: &FormFields) -> Option<Uuid> {
    form.get("task").and_then(|t| Uuid::parse_str(t).ok())
}

async fn approve(
    State(state): State<AppState>,
    Path(order): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    agent_change(
        state,
        headers,
        body,
        order,
        "UPDATE api.orders SET status = $2 WHERE id = $1",
        |_| Ok("confirmed".to_owned()),
        "Approved: the order is on its way to the store.",
    )
    .await
}

async fn reject_order(
    State(state): State<AppState>,
    Path(order): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    agent_change(
        state,
        headers,
        body,
        order,
        "UPDATE api.orders SET status = 'rejected', rejection_reason = $2 WHERE id = $1",
        |f| {
            let reason = f.get("reason").unwrap_or_default().trim();
            if reason.is_empty() {
                Err("Give a reason to reject the order: the caller is told.")
            } else {
                Ok(reason.chars().take(300).collect())
            }
        },
        "Rejected: the caller will be texted.",
    )
    .await
}

/// Changes one line (size, quantity, options), removes it, or adds an item; the whole order is
/// then re-priced by kea-menu from the store's menu, and refused with the menu's reason when it
/// does not price (a required choice missing, too many options…).
async fn edit_lines(
    State(state): State<AppState>,
    Path(order_id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    let session = match form_session(&state, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let task = task_field(&form);
    let refuse = |msg: String| {
        let state = state.clone();
        let session = session.clone();
        async move {
            render_console(
                &state,
                &session,
                task,
                None,
                Some(&msg),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let order =
        match kea_store::console::order_for_agent(&state.db, session.worker_id, order_id).await {
            Ok(Some(o)) => o,
            Ok(None) => return refuse(NOT_YOURS.to_owned()).await,
            Err(e) => return server_error(&e),
        };
    // The server's parsed menu, as every webhook turn uses it.
    let bundle = match state
        .menus
        .get(&state.db, &order.store_id, order.store_updated_at)
        .await
    {
        Ok(b) => b,
        Err(e) => return server_error(&e),
    };
    let store = &bundle.store;
    let mut lines: Vec<OrderLine> = order.lines.iter().map(order_line).collect();
    let quantity = match form.get("quantity").map(str::parse::<u32>) {
        None => 1,
        Some(Ok(q)) if (1..=99).contains(&q) => q,
        Some(_) => return refuse("Quantity must be a whole number from 1 to 99.".to_owned()).await,
    };
    let line_index = form
        .get("line")
        .and_then(|l| l.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .filter(|&i| i < lines.len());
    match (form.get("op").unwrap_or_default(), line_index) {
        ("update", Some(i)) => {
            let line = &mut lines[i];
            line.size = form.get("size").map(str::to_owned);
            line.quantity = quantity;
            // Choices left at "none" / "as it comes" send an empty value.
            line.modifiers = form
                .all("modifier")
                .into_iter()
                .filter(|m| !m.is_empty())
                .collect();
        }
        ("remove", Some(i)) => {
            if lines.len() == 1 {
                return refuse(
                    "An order needs at least one line: reject the order instead of emptying it."
                        .to_owned(),
                )
                .await;
            }
            lines.remove(i);
        }
        ("add", _) => {
            let sku = form.get("sku").unwrap_or_default();
            let Some(item) = store.menu.item(sku).filter(|i| i.available) else {
                return refuse(format!("“{sku}” is not on this store's menu.")).await;
            };
            lines.push(OrderLine {
                sku: item.sku.clone(),
                size: item
                    .default_size
                    .clone()
                    .or_else(|| item.sizes.first().map(|s| s.name.clone())),
                quantity,
                modifiers: Vec::new(),
            });
        }
        _ => return refuse("That change names no line of this order.".to_owned()).await,
    }
    let fulfillment = if order.order.get("fulfillment").and_then(Value::as_str) == Some("delivery")
    {
        FulfillmentKind::Delivery
    } else {
        FulfillmentKind::Pickup
    };
    let price = match kea_menu::price_order(store, &lines, fulfillment) {
        Ok(p) => p,
        Err(e) => {
            return refuse(format!(
                "The menu does not allow that: {e}. Nothing was changed."
            ))
            .await;
        }
    };
    let edited: Vec<EditedLine> = lines
        .iter()
        .zip(&price.lines)
        .map(|(l, p)| EditedLine {
            sku: l.sku.clone(),
            name: store
                .menu
                .item(&l.sku)
                .map_or_else(|| l.sku.clone(), |i| i.name.clone()),
            size: canonical_size(store, l),
            quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
            modifiers: l.modifiers.clone(),
            unit_price_cents: p.unit_price_cents,
            line_total_cents: p.line_total_cents,
        })
        .collect();
    let totals = EditedTotals {
        subtotal_cents: price.subtotal_cents,
        tax_cents: price.tax_cents,
        delivery_fee_cents: price.delivery_fee_cents,
        total_cents: price.total_cents,
    };
    match kea_store::console::replace_order_lines(
        &state.db,
        session.worker_id,
        order_id,
        &edited,
        totals,
    )
    .await
    {
        Ok(()) => redirect_with_notice(
            task,
            &format!(
                "Order updated: the total is now {}.",
                pages::money(price.total_cents)
            ),
        ),
        Err(EditError::NotYours(_)) => refuse(
            "Accept the task before changing its order (and only while the order waits for a decision)."
                .to_owned(),
        )
        .await,
        Err(EditError::Store(e)) => server_error(&e),
    }
}

/// An order row's line as kea-menu's pricing takes it.
fn order_line(line: &Value) -> OrderLine {
    OrderLine {
        sku: line
            .get("sku")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        size: line.get("size").and_then(Value::as_str).map(str::to_owned),
        quantity: line
            .get("quantity")
            .and_then(Value::as_u64)
            .and_then(|q| u32::try_from(q).ok())
            .unwrap_or(1),
        modifiers: line
            .get("modifiers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The size as the menu spells it (the form may send any case), or none for unsized items.
fn canonical_size(store: &Store, line: &OrderLine) -> Option<String> {
    let item = store.menu.item(&line.sku)?;
    if item.sizes.is_empty() {
        return None;
    }
    let wanted = line.size.as_deref().or(item.default_size.as_deref())?;
    item.sizes
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(wanted))
        .map(|s| s.name.clone())
}

async fn live(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(_) => return (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
    };
    let rx = state.console.subscribe(&state.db).await;
    let mut r = events::stream_for(session.worker_id, rx).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
