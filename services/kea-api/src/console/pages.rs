//! The console's HTML, server-rendered with maud (every value escaped by the template engine).
//! Forms work without JavaScript; `console.js` adds live updates and keyboard shortcuts.

use chrono::{DateTime, Utc};
use kea_menu::{ModifierGroup, Portion, Store, kitchen_name};
use kea_store::console::{Session, TaskSummary, TranscriptTurn};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;
use uuid::Uuid;

/// Dollars and cents.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

/// A task kind in words.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "verify_order" => "Verify an order",
        "callback" => "Call the store",
        "transfer" => "Caller waiting for a person",
        _ => "Task",
    }
}

/// The page around everything.
fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · kea console" }
                // No icon to fetch.
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/console/static/console.css";
                script src="/console/static/console.js" defer {}
            }
            body { (body) }
        }
    }
}

/// The sign-in page, with an error when the last attempt failed.
pub fn sign_in(error: Option<&str>, email: &str) -> Markup {
    layout(
        "Sign in",
        html! {
            main class="sign-in" {
                h1 { "kea console" }
                p { "Sign in to take orders that need a person." }
                @if let Some(e) = error {
                    p class="error" role="alert" id="sign-in-error" { (e) }
                }
                form method="post" action="/console/login" {
                    label for="email" { "E-mail" }
                    input id="email" name="email" type="email" autocomplete="username" required
                        value=(email) autofocus[email.is_empty()]
                        aria-describedby=[error.map(|_| "sign-in-error")];
                    label for="password" { "Password" }
                    input id="password" name="password" type="password"
                        autocomplete="current-password" required autofocus[!email.is_empty()];
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// A page that only says something went wrong (a refused form, a missing task).
pub fn problem(title: &str, message: &str) -> Markup {
    layout(
        title,
        html! {
            main class="sign-in" {
                h1 { (title) }
                p class="error" role="alert" { (message) }
                p { a href="/console" { "Back to the console" } }
            }
        },
    )
}

/// The hidden form field every console form carries.
fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf_token); }
}

/// Everything the task pane shows.
pub struct TaskView<'a> {
    /// The task.
    pub task: &'a TaskSummary,
    /// The order, as the agent reads it (JSON of `api.orders`), and its lines.
    pub order: Option<(&'a Value, &'a [Value])>,
    /// The store's parsed document (menu), for names and the edit form.
    pub store: Option<&'a Store>,
    /// The store's phone.
    pub store_phone: Option<&'a str>,
    /// The call, turn by turn.
    pub transcript: &'a [TranscriptTurn],
    /// The record: when, who, what, details.
    pub history: &'a [(DateTime<Utc>, Option<String>, String, Value)],
}

/// The whole console: header, the task list, the selected task.
pub fn console(
    session: &Session,
    open: &[TaskSummary],
    done: &[TaskSummary],
    selected: Option<&TaskView<'_>>,
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let selected_id = selected.map(|v| v.task.id);
    layout(
        selected.map_or("Your tasks", |v| kind_label(&v.task.kind)),
        html! {
            a class="skip" href="#task" { "Skip to the task" }
            header {
                h1 { "kea console" }
                span class="who" { "Signed in as " strong { (session.worker_name) } }
                (activity_form(session))
                form method="post" action="/console/logout" {
                    (csrf(session))
                    button type="submit" class="quiet" { "Sign out" }
                }
            }
            div id="live" class="visually-hidden" aria-live="polite" {}
            @if let Some(e) = error {
                p class="banner error" role="alert" { (e) }
            }
            @if let Some(n) = notice {
                p class="banner notice" role="status" { (n) }
            }
            main data-task=[selected_id] data-csrf=(session.csrf_token) {
                nav id="tasks" aria-label="Your tasks" {
                    (task_list(session, open, done, selected_id))
                }
                section id="task" aria-label="Selected task" tabindex="-1" {
                    @match selected {
                        Some(view) => (task_pane(session, view)),
                        None => (empty_pane(session, open)),
                    }
                }
            }
            footer {
                "Keys: " kbd { "A" } " accept · " kbd { "V" } " approve · " kbd { "N" } " next task"
            }
        },
    )
}

fn activity_form(session: &Session) -> Markup {
    let offline = session.activity == "offline";
    html! {
        form method="post" action="/console/activity" class="activity" {
            (csrf(session))
            span class={"status " (session.activity)} id="activity-status" {
                @match session.activity.as_str() {
                    "available" => "Available",
                    "busy" => "Busy (full)",
                    _ => "Offline",
                }
            }
            @if offline {
                input type="hidden" name="activity" value="available";
                button type="submit" aria-describedby="activity-status" { "Go available" }
            } @else {
                input type="hidden" name="activity" value="offline";
                button type="submit" class="quiet" aria-describedby="activity-status" { "Go offline" }
            }
        }
    }
}

fn task_line(t: &TaskSummary) -> Markup {
    html! {
        span class="kind" { (kind_label(&t.kind)) }
        span class="meta" {
            @if let Some(s) = &t.store_name { (s) }
            @if let Some(total) = t.total_cents { " · " (money(total)) }
            @if let Some(l) = &t.language { " · " span lang="en" { (l.to_uppercase()) } }
        }
    }
}

/// The list of offers, assigned tasks and recently finished ones (also served alone, for the
/// live refresh).
pub fn task_list(
    session: &Session,
    open: &[TaskSummary],
    done: &[TaskSummary],
    selected: Option<Uuid>,
) -> Markup {
    let offers: Vec<&TaskSummary> = open.iter().filter(|t| t.status == "reserved").collect();
    let assigned: Vec<&TaskSummary> = open.iter().filter(|t| t.status == "assigned").collect();
    html! {
        h2 { "Offers " span class="count" { "(" (offers.len()) ")" } }
        @if offers.is_empty() {
            p class="empty" {
                @if session.activity == "offline" { "You are offline. Go available to be offered tasks." }
                @else { "No offers right now. New ones appear here as they arrive." }
            }
        }
        ul class="tasks" {
            @for t in &offers {
                li class={"offer" @if Some(t.id) == selected { " selected" }} data-task-id=(t.id) {
                    a href={"/console?task=" (t.id)} aria-current=[(Some(t.id) == selected).then_some("true")] { (task_line(t)) }
                    @if let Some(exp) = t.reservation_expires_at {
                        span class="expires" { "Answer within " time datetime=(exp.to_rfc3339()) data-expires=(exp.to_rfc3339()) { (seconds_left(exp)) " s" } }
                    }
                    div class="actions" {
                        form method="post" action={"/console/tasks/" (t.id) "/accept"} {
                            (csrf(session))
                            button type="submit" data-key="a" {
                                @if t.kind == "transfer" { "Connect" } @else { "Accept" }
                            }
                        }
                        form method="post" action={"/console/tasks/" (t.id) "/reject"} {
                            (csrf(session))
                            button type="submit" class="quiet" { "Reject" }
                        }
                    }
                }
            }
        }
        h2 { "In hand " span class="count" { "(" (assigned.len()) ")" } }
        @if assigned.is_empty() { p class="empty" { "Nothing accepted yet." } }
        ul class="tasks" {
            @for t in &assigned {
                li class={"assigned" @if Some(t.id) == selected { " selected" }} data-task-id=(t.id) {
                    a href={"/console?task=" (t.id)} aria-current=[(Some(t.id) == selected).then_some("true")] { (task_line(t)) }
                }
            }
        }
        @if !done.is_empty() {
            h2 { "Done" }
            ul class="tasks done" {
                @for t in done {
                    li data-task-id=(t.id) {
                        a href={"/console?task=" (t.id)} { (task_line(t)) " — " (t.status) }
                    }
                }
            }
        }
    }
}

fn seconds_left(at: DateTime<Utc>) -> i64 {
    (at - Utc::now()).num_seconds().max(0)
}

fn empty_pane(session: &Session, open: &[TaskSummary]) -> Markup {
    html! {
        h2 { "Nothing selected" }
        @if open.is_empty() {
            p { "When kea is unsure of an order, a store's POS refuses one, or a caller asks for a person, the task is offered here." }
            @if session.activity == "offline" { p { strong { "You are offline." } " Press “Go available” to start receiving tasks." } }
        } @else {
            p { "Choose a task on the left, or press " kbd { "N" } "." }
        }
    }
}

/// The selected task: what it is, why, the order, the call, the record, and what to do.
pub fn task_pane(session: &Session, v: &TaskView<'_>) -> Markup {
    let t = v.task;
    let holding = t.status == "assigned";
    let order_open = v.order.is_some_and(|(o, _)| {
        matches!(
            o.get("status").and_then(Value::as_str),
            Some("pending_verification" | "pos_failed")
        )
    });
    html! {
        div class="pane" data-kind=(t.kind) data-status=(t.status) data-task-id=(t.id) {
        h2 { (kind_label(&t.kind)) @if let Some(s) = &t.store_name { " — " (s) } }
        p class="task-status" {
            @match t.status.as_str() {
                "reserved" => "Offered to you. Accept it to work on it.",
                "assigned" => "Yours: you accepted it.",
                "completed" => "Done.",
                "canceled" => "Canceled: the work is no longer needed.",
                other => (other),
            }
        }
        @if let Some(r) = &t.reason {
            div class="reason" { h3 { "Why kea asked" } p { (r) } }
        }
        @if let Some((order, _)) = v.order {
            (second_opinion(order, v.store))
        }
        @if t.status == "reserved" {
            div class="actions big" {
                form method="post" action={"/console/tasks/" (t.id) "/accept"} {
                    (csrf(session))
                    button type="submit" data-key="a" {
                        @if t.kind == "transfer" { "Connect the caller to me" } @else { "Accept" }
                        " " kbd { "A" }
                    }
                }
                form method="post" action={"/console/tasks/" (t.id) "/reject"} {
                    (csrf(session))
                    button type="submit" class="quiet" { "Reject (offer it to someone else)" }
                }
            }
        }
        @if t.kind == "callback" {
            div class="callback" {
                @if t.order_id.is_some() {
                    h3 { "The store" }
                    @if let Some(phone) = v.store_phone {
                        p { "Phone: " a href={"tel:" (phone)} { (phone) } }
                    }
                } @else {
                    h3 { "The caller" }
                    @if let Some(phone) = &t.caller_phone {
                        p { "Call back: " a href={"tel:" (phone)} { (phone) } }
                    }
                }
                @if let Some((o, _)) = v.order {
                    @if let Some(e) = o.get("pos_error").and_then(Value::as_str) {
                        p { "What the POS said: " code { (e) } }
                    }
                }
                @if holding {
                    form method="post" action={"/console/tasks/" (t.id) "/complete"} class="stack" {
                        (csrf(session))
                        label for="note" { "What happened (for the record)" }
                        textarea id="note" name="note" rows="2" required placeholder="Store took the order by phone" {}
                        button type="submit" { "Done" }
                    }
                }
            }
        }
        @if let Some((order, lines)) = v.order {
            (order_section(session, t, order, lines, v.store, holding && order_open))
        }
        @if !v.transcript.is_empty() {
            h3 { "The call" }
            ol class="transcript" {
                @for turn in v.transcript {
                    li class=(turn.speaker) {
                        span class="speaker" { @if turn.speaker == "caller" { "Caller" } @else { "kea" } }
                        span class="said" { (turn.text) }
                        @if let Some(c) = turn.confidence {
                            span class={"confidence" @if c < 0.6 { " low" }}
                                title="Speech recognition's confidence" {
                                (format!("{:.0}%", c * 100.0)) " sure"
                            }
                        }
                    }
                }
            }
        }
        @if !v.history.is_empty() {
            h3 { "Record" }
            ol class="history" {
                @for (at, who, action, detail) in v.history {
                    li {
                        time datetime=(at.to_rfc3339()) { (at.format("%H:%M:%S")) }
                        @match (action.as_str(), who.as_deref()) {
                            // kea's routing acts on a worker; the worker is its object.
                            ("offered" | "timed_out" | "rescinded", Some(w)) => {
                                " " strong { "kea" } " " (action.replace('_', " ")) " — " (w)
                            }
                            _ => {
                                " " strong { (who.as_deref().unwrap_or("kea")) } " " (action.replace('_', " "))
                            }
                        }
                        @if let Some(d) = describe(detail) { " — " (d) }
                    }
                }
            }
        }
        }
    }
}

/// Where the entity model's reading of the call differs from the dialog's order
/// (`orders.second_opinion`, written by `extract_order`), and what it heard in each turn.
fn second_opinion(order: &Value, store: Option<&Store>) -> Markup {
    let Some(opinion) = order.get("second_opinion").filter(|o| o.is_object()) else {
        return html! {};
    };
    let agrees = opinion
        .get("agrees")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let lines = |key: &str| -> Vec<String> {
        opinion
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|l| {
                let sku = l.get("sku").and_then(Value::as_str).unwrap_or_default();
                let name = store
                    .and_then(|s| s.menu.item(sku))
                    .map_or(sku, |i| i.name.as_str());
                let mut text = format!(
                    "{} × {name}",
                    l.get("quantity").and_then(Value::as_u64).unwrap_or(1)
                );
                if let Some(size) = l.get("size").and_then(Value::as_str) {
                    text.push_str(&format!(", {size}"));
                }
                for m in l
                    .get("modifiers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(m) = m.as_str() {
                        text.push_str(&format!(", {}", modifier_label(store, sku, m)));
                    }
                }
                text
            })
            .collect()
    };
    let (dialog, model) = (lines("only_dialog"), lines("only_model"));
    html! {
        section class={"second-opinion" @if !agrees { " disagrees" }} aria-labelledby="second-opinion-h" {
            h3 id="second-opinion-h" { "Second reading of the call" }
            @if agrees {
                p { "The entity model heard the same order." }
            } @else {
                p { "The entity model heard something else. Check these lines against the call:" }
                div class="compare" {
                    div { h4 { "On the order, not heard by the model" }
                        @if dialog.is_empty() { p { "—" } } @else { ul { @for l in &dialog { li { (l) } } } } }
                    div { h4 { "Heard by the model, not on the order" }
                        @if model.is_empty() { p { "—" } } @else { ul { @for l in &model { li { (l) } } } } }
                }
            }
        }
    }
}

fn describe(detail: &Value) -> Option<String> {
    let obj = detail.as_object()?;
    if let (Some(b), Some(a)) = (obj.get("before"), obj.get("after")) {
        let total = |v: &Value| v.get("total_cents").and_then(Value::as_i64).map(money);
        return Some(format!(
            "total {} → {}",
            total(b).unwrap_or_default(),
            total(a).unwrap_or_default()
        ));
    }
    let parts: Vec<String> = obj
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// An order line's option as a kitchen reads it (`extra:cheese` → "Extra Cheese"), by the
/// store's menu (the sku itself for an option no longer on it).
pub fn modifier_label(store: Option<&Store>, item_sku: &str, modifier: &str) -> String {
    let (portion, sku) = Portion::parse_modifier(modifier);
    let name = store
        .and_then(|s| {
            let item = s.menu.item(item_sku)?;
            s.menu
                .option_of_item(item, sku)
                .map(|(_, o)| o.name.clone())
        })
        .unwrap_or_else(|| sku.to_owned());
    kitchen_name(portion, &name)
}

fn order_section(
    session: &Session,
    task: &TaskSummary,
    order: &Value,
    lines: &[Value],
    store: Option<&Store>,
    editable: bool,
) -> Markup {
    let s = |k: &str| {
        order
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let cents = |k: &str| order.get(k).and_then(Value::as_i64).unwrap_or_default();
    let order_id = s("id");
    html! {
        h3 { "The order" }
        dl class="order-facts" {
            dt { "Status" } dd { (s("status").replace('_', " ")) }
            dt { "Customer" } dd { (s("customer_name")) " " a href={"tel:" (s("customer_phone"))} { (s("customer_phone")) } }
            dt { "How" } dd { (s("fulfillment")) @if s("fulfillment") == "delivery" { " to " (s("delivery_address")) } }
            @if let Some(c) = order.get("confidence").and_then(Value::as_f64) {
                dt { "kea's confidence" } dd { (format!("{:.0}%", c * 100.0)) }
            }
        }
        table class="lines" {
            caption class="visually-hidden" { "Order lines" }
            thead { tr { th scope="col" { "Qty" } th scope="col" { "Item" } th scope="col" { "Size" } th scope="col" { "Options" } th scope="col" class="num" { "Each" } th scope="col" class="num" { "Line" } } }
            tbody {
                @for line in lines {
                    @let sku = line.get("sku").and_then(Value::as_str).unwrap_or_default();
                    @let mods: Vec<String> = line.get("modifiers").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(|m| modifier_label(store, sku, m)).collect()).unwrap_or_default();
                    tr {
                        td { (line.get("quantity").and_then(Value::as_i64).unwrap_or_default()) }
                        td { (line.get("name").and_then(Value::as_str).unwrap_or(sku)) }
                        td { (line.get("size").and_then(Value::as_str).unwrap_or("—")) }
                        td { (if mods.is_empty() { "—".to_owned() } else { mods.join(", ") }) }
                        td class="num" { (money(line.get("unit_price_cents").and_then(Value::as_i64).unwrap_or_default())) }
                        td class="num" { (money(line.get("line_total_cents").and_then(Value::as_i64).unwrap_or_default())) }
                    }
                }
            }
            tfoot {
                tr { th scope="row" colspan="5" { "Subtotal" } td class="num" { (money(cents("subtotal_cents"))) } }
                tr { th scope="row" colspan="5" { "Tax" } td class="num" { (money(cents("tax_cents"))) } }
                @if cents("delivery_fee_cents") > 0 {
                    tr { th scope="row" colspan="5" { "Delivery" } td class="num" { (money(cents("delivery_fee_cents"))) } }
                }
                tr class="total" { th scope="row" colspan="5" { "Total" } td class="num" id="order-total" { (money(cents("total_cents"))) } }
            }
        }
        @if editable {
            @if let Some(store) = store {
                details class="edit" open {
                    summary { "Correct the order" }
                    @for (n, line) in lines.iter().enumerate() {
                        (line_form(session, task.id, &order_id, n + 1, line, store))
                    }
                    form method="post" action={"/console/orders/" (order_id) "/lines"} class="add-line" {
                        (csrf(session))
                        input type="hidden" name="task" value=(task.id);
                        input type="hidden" name="op" value="add";
                        label for="add-sku" { "Add an item" }
                        select id="add-sku" name="sku" required {
                            @for item in store.menu.items.iter().filter(|i| i.available) {
                                option value=(item.sku) { (item.name) }
                            }
                        }
                        label for="add-qty" { "Quantity" }
                        input id="add-qty" name="quantity" type="number" min="1" max="99" value="1" required;
                        button type="submit" { "Add" }
                    }
                }
            }
            div class="decide" {
                form method="post" action={"/console/orders/" (order_id) "/approve"} {
                    (csrf(session))
                    input type="hidden" name="task" value=(task.id);
                    button type="submit" class="approve" data-key="v" {
                        @if s("status") == "pos_failed" { "Approve and push to the POS again" } @else { "Approve and send to the store" }
                        " " kbd { "V" }
                    }
                }
                form method="post" action={"/console/orders/" (order_id) "/reject"} class="stack" {
                    (csrf(session))
                    input type="hidden" name="task" value=(task.id);
                    label for="reject-reason" { "Reason to reject (texted to the caller)" }
                    input id="reject-reason" name="reason" type="text" required maxlength="300";
                    button type="submit" class="danger" { "Reject the order" }
                }
            }
        }
    }
}

fn line_form(
    session: &Session,
    task: Uuid,
    order_id: &str,
    line_no: usize,
    line: &Value,
    store: &Store,
) -> Markup {
    let sku = line.get("sku").and_then(Value::as_str).unwrap_or_default();
    let size = line.get("size").and_then(Value::as_str);
    let qty = line.get("quantity").and_then(Value::as_i64).unwrap_or(1);
    let chosen: Vec<&str> = line
        .get("modifiers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(item) = store.menu.item(sku) else {
        return html! { p class="error" { "Line " (line_no) ": " (sku) " is no longer on the menu; remove it." } };
    };
    let id = |what: &str| format!("l{line_no}-{what}");
    html! {
        form method="post" action={"/console/orders/" (order_id) "/lines"} class="line-edit" aria-labelledby=(id("title")) {
            (csrf(session))
            input type="hidden" name="task" value=(task);
            input type="hidden" name="line" value=(line_no);
            h4 id=(id("title")) { "Line " (line_no) ": " (item.name) }
            div class="row" {
                @if !item.sizes.is_empty() {
                    label for=(id("size")) { "Size" }
                    select id=(id("size")) name="size" {
                        @for s in &item.sizes {
                            option value=(s.name) selected[size.is_some_and(|z| z.eq_ignore_ascii_case(&s.name))] { (s.name) " (" (money(s.price_cents)) ")" }
                        }
                    }
                }
                label for=(id("qty")) { "Quantity" }
                input id=(id("qty")) name="quantity" type="number" min="1" max="99" value=(qty) required;
            }
            @for gid in &item.modifier_groups {
                @if let Some(group) = store.menu.group(gid) {
                    fieldset {
                        legend { (group.name) @if group.max > 0 { " (up to " (group.max) ")" } }
                        @if store.uses_portions() {
                            (portion_choices(line_no, item, group, &chosen))
                        } @else {
                            @for opt in &group.options {
                                @let oid = format!("l{line_no}-{}-{}", group.id, opt.sku);
                                label for=(oid) class="check" {
                                    input id=(oid) type="checkbox" name="modifier" value=(opt.sku) checked[chosen.contains(&opt.sku.as_str())];
                                    " " (opt.name) @if opt.price_cents > 0 { " +" (money(opt.price_cents)) }
                                }
                            }
                        }
                    }
                }
            }
            div class="row" {
                button type="submit" name="op" value="update" { "Save line " (line_no) }
                button type="submit" name="op" value="remove" class="quiet" formnovalidate { "Remove line " (line_no) }
            }
        }
    }
}

/// For a store with portions: one choice per option of `group` — not on it (or, for what the item
/// comes with, as it comes), added, each portion the option is offered in with its price, or none
/// of it.
fn portion_choices(
    line_no: usize,
    item: &kea_menu::Item,
    group: &ModifierGroup,
    chosen: &[&str],
) -> Markup {
    html! {
        div class="portions" {
            @for opt in &group.options {
                @let oid = format!("l{line_no}-{}-{}", group.id, opt.sku);
                @let included = item.includes_option(&group.id, &opt.sku);
                @let current = chosen
                    .iter()
                    .map(|m| Portion::parse_modifier(m))
                    .find(|(_, sku)| *sku == opt.sku)
                    .map(|(p, _)| p);
                label for=(oid) { (opt.name) }
                select id=(oid) name="modifier" {
                    @if included {
                        option value="" selected[current.is_none()] { "As it comes" }
                    } @else {
                        option value="" selected[current.is_none()] { "None" }
                        option value=(opt.sku) selected[current == Some(Portion::Regular)] {
                            "Add" @if opt.price_cents > 0 { " (+" (money(opt.price_cents)) ")" }
                        }
                    }
                    // Each portion it is offered in, with what it adds as pricing says.
                    @for (portion, extra) in [Portion::Light, Portion::Extra, Portion::Side]
                        .into_iter()
                        .filter_map(|p| kea_menu::option_price(opt, p, included).ok().map(|c| (p, c)))
                    {
                        option value=(portion.modifier(&opt.sku)) selected[current == Some(portion)] {
                            (kitchen_name(portion, &opt.name))
                            @if extra > 0 { " (+" (money(extra)) ")" }
                        }
                    }
                    option value=(Portion::No.modifier(&opt.sku)) selected[current == Some(Portion::No)] {
                        (kitchen_name(Portion::No, &opt.name))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_dollars_and_cents() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(1234), "$12.34");
        assert_eq!(money(-250), "-$2.50");
    }

    #[test]
    fn sign_in_escapes_what_it_echoes() {
        let page = sign_in(Some("wrong"), "<script>@x").into_string();
        assert!(page.contains("&lt;script&gt;@x"));
        assert!(!page.contains("<script>@x"));
        assert!(page.contains("role=\"alert\""));
    }

    #[test]
    fn portions_read_as_a_kitchen_would() {
        assert_eq!(
            modifier_label(None, "pizza", "extra:cheese"),
            "Extra Cheese"
        );
        assert_eq!(modifier_label(None, "pizza", "onions"), "onions");
    }
}
