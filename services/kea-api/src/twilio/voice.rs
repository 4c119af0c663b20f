//! The voice call: the first webhook and every turn after it.
//!
//! Each request is one short transaction: lock the call's row, run the pure dialog step, save the
//! new state, append the replay record (params in, state, TwiML out, server time) and, when the
//! caller confirmed, write the order. Every `<Gather>` and `<Redirect>` carries the turn number it
//! answers (`?n=`), so a repeated delivery of a turn gets the TwiML already sent for it and never
//! runs the dialog twice (no item is added twice).

use std::time::Instant;

use axum::extract::{Query, State};
use axum::response::Response;
use kea_dialog::{DialogState, Event, Next, Outcome, Turn};
use kea_twilio::VoiceRequest;
use kea_twilio::twiml::{Gather, Say};
use serde::Deserialize;
use serde_json::json;

use super::menus::StoreBundle;
use super::{SignedForm, twiml};
use crate::AppState;

/// What went wrong in a turn; the caller still gets TwiML (an apology and a person).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The form lacked what Twilio always sends.
    #[error("bad webhook parameters: {0}")]
    Params(#[from] kea_twilio::TwilioError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] kea_store::StoreError),
    /// A database statement failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The store's menu could not be loaded.
    #[error(transparent)]
    Menu(#[from] super::menus::MenuError),
    /// The dialog state could not be (de)serialised.
    #[error("dialog state: {0}")]
    State(#[from] serde_json::Error),
    /// The confirmed order does not price (the dialog and the menu disagree).
    #[error("the confirmed order cannot be priced: {0}")]
    Price(#[from] kea_menu::PriceError),
}

impl WebhookError {
    /// Apologises and hands the caller to a person, so no call is dropped by a failure of ours.
    fn into_twiml(self, state: &AppState, call_sid: &str) -> Response {
        tracing::error!(call.sid = %call_sid, error = %self, "voice webhook failed; transferring the caller");
        twiml(
            kea_twilio::twiml::Response::new()
                .say(
                    "Sorry, something went wrong on our side. Let me get someone to help you.",
                    "en-US",
                    None,
                )
                .push(super::queue::enqueue(state))
                .to_xml(),
        )
    }
}

/// `POST /twilio/voice`: a call to one of the stores' numbers.
pub async fn incoming(State(state): State<AppState>, form: SignedForm) -> Response {
    let started = Instant::now();
    let sid = sid_of(&form);
    match start_call(&state, &form, started).await {
        Ok(response) => response,
        Err(e) => e.into_twiml(&state, &sid),
    }
}

/// Which turn a request answers.
#[derive(Debug, Deserialize)]
pub struct TurnQuery {
    /// The number of dialog steps taken when the prompt was sent.
    n: Option<i32>,
}

/// `POST /twilio/voice/turn?n=N`: the caller spoke (or said nothing) after prompt N.
pub async fn turn(
    State(state): State<AppState>,
    Query(query): Query<TurnQuery>,
    form: SignedForm,
) -> Response {
    let started = Instant::now();
    let sid = sid_of(&form);
    match take_turn(&state, &form, query.n, started).await {
        Ok(response) => response,
        Err(e) => e.into_twiml(&state, &sid),
    }
}

fn sid_of(form: &SignedForm) -> String {
    form.params
        .iter()
        .find(|(k, _)| k == "CallSid")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

async fn start_call(
    state: &AppState,
    form: &SignedForm,
    started: Instant,
) -> Result<Response, WebhookError> {
    let req = VoiceRequest::from_form(&form.body)?;
    let Some((store_id, updated_at)) = kea_store::calls::store_by_phone(&state.db, &req.to).await?
    else {
        tracing::warn!(call.sid = %req.call_sid, "call to a number that is no store's; hanging up politely");
        return Ok(twiml(
            kea_twilio::twiml::Response::new()
                .say(
                    "Sorry, this number is not taking orders right now. Please call the store directly. Goodbye.",
                    "en-US",
                    None,
                )
                .hangup()
                .to_xml(),
        ));
    };
    let bundle = state.menus.get(&state.db, &store_id, updated_at).await?;
    let initial = DialogState::new(&req.from);
    let (next, turn) = kea_dialog::step(
        &initial,
        &Event::Start,
        &bundle.context(state.config.clock.now(), state.config.enforce_store_hours),
    );
    let language = default_language(&bundle);

    let mut tx = state.db.begin().await?;
    let initial_json = serde_json::to_value(&initial)?;
    let created = kea_store::calls::insert_call(
        &mut tx,
        &kea_store::calls::NewCall {
            call_sid: &req.call_sid,
            store_id: &store_id,
            account_sid: req.account_sid.as_deref(),
            from_number: &req.from,
            to_number: &req.to,
            state: &initial_json,
            language: &language,
        },
    )
    .await?;
    if !created {
        // Twilio delivered the first webhook twice: answer as the first time.
        if let Some(xml) = kea_store::calls::twiml_of_turn(&mut tx, &req.call_sid, 1).await? {
            return Ok(twiml(xml));
        }
    }
    let _lock = kea_store::calls::lock_call(&mut tx, &req.call_sid).await?;
    let response = finish_turn(
        state,
        &mut tx,
        form,
        &req,
        &bundle,
        &initial_json,
        next,
        turn,
        0,
        started,
    )
    .await?;
    tx.commit().await?;
    Ok(response)
}

async fn take_turn(
    state: &AppState,
    form: &SignedForm,
    answered: Option<i32>,
    started: Instant,
) -> Result<Response, WebhookError> {
    let req = VoiceRequest::from_form(&form.body)?;
    let mut tx = state.db.begin().await?;
    let Some(call) = kea_store::calls::lock_call(&mut tx, &req.call_sid).await? else {
        // A turn for a call we never saw start (or that was purged): start it now.
        drop(tx);
        return start_call(state, form, started).await;
    };
    let answered = answered.unwrap_or(call.turns);
    if answered < call.turns {
        // A repeated delivery of a turn already taken: the same answer again.
        if let Some(xml) =
            kea_store::calls::twiml_of_turn(&mut tx, &req.call_sid, answered + 1).await?
        {
            return Ok(twiml(xml));
        }
    }
    if call.outcome.is_some() {
        // The call already ended (placed, cancelled, transferred): nothing more to do.
        return Ok(twiml(kea_twilio::twiml::Response::new().hangup().to_xml()));
    }
    let bundle = state
        .menus
        .get(&state.db, &call.store_id, call.store_updated_at)
        .await?;
    let before: DialogState = serde_json::from_value(call.state.clone())?;
    let event = event_of(&req);
    let (next, turn) = kea_dialog::step(
        &before,
        &event,
        &bundle.context(state.config.clock.now(), state.config.enforce_store_hours),
    );
    let response = finish_turn(
        state,
        &mut tx,
        form,
        &req,
        &bundle,
        &call.state,
        next,
        turn,
        call.turns,
        started,
    )
    .await?;
    tx.commit().await?;
    Ok(response)
}

/// What the caller did, in the dialog's terms.
fn event_of(req: &VoiceRequest) -> Event {
    if let Some(text) = req
        .speech_result
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Event::Speech {
            text: text.to_owned(),
            confidence: req.confidence.unwrap_or(0.0),
        };
    }
    if let Some(digits) = req.digits.as_deref().filter(|d| !d.is_empty()) {
        return Event::Digits(digits.to_owned());
    }
    Event::Silence
}

fn default_language(bundle: &StoreBundle) -> String {
    bundle
        .store
        .languages
        .first()
        .cloned()
        .unwrap_or_else(|| "en-US".to_owned())
}

/// Saves the step's result, writes the order if one was placed, and renders the TwiML.
#[expect(
    clippy::too_many_arguments,
    reason = "one turn's whole context, used once"
)]
async fn finish_turn(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    form: &SignedForm,
    req: &VoiceRequest,
    bundle: &StoreBundle,
    // The state the step started from, as stored (recorded as it is, not re-encoded).
    before: &serde_json::Value,
    after: DialogState,
    turn: Turn,
    turns_before: i32,
    started: Instant,
) -> Result<Response, WebhookError> {
    let turns = turns_before + 1;
    let outcome = turn.outcome.map(Outcome::as_str);
    let mut order_id = None;
    if let Some(placed) = &turn.order {
        let now = state.config.clock.now();
        order_id = Some(write_order(tx, req, bundle, placed, now).await?);
    }
    let xml = render(state, bundle, &turn, turns);
    let after_json = serde_json::to_value(&after)?;
    kea_store::calls::save_turn(
        tx,
        &req.call_sid,
        &after_json,
        turns,
        turn.language.bcp47(),
        outcome,
    )
    .await?;
    let micros = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    let said: Vec<&str> = turn.say.iter().map(|u| u.text.as_str()).collect();
    kea_store::calls::append_events(
        tx,
        &req.call_sid,
        &[
            kea_store::calls::CallEvent {
                kind: "webhook",
                payload: form.to_json(),
                server_micros: None,
            },
            kea_store::calls::CallEvent {
                kind: "state",
                payload: json!({"turn": turns, "before": before, "after": after_json,
                                "said": said, "outcome": outcome, "order_id": order_id}),
                server_micros: None,
            },
            kea_store::calls::CallEvent {
                kind: "twiml",
                payload: json!({"turn": turns, "xml": xml}),
                server_micros: Some(micros),
            },
        ],
    )
    .await?;
    if let Some(id) = order_id {
        tracing::info!(call.sid = %req.call_sid, order.id = %id, store.id = %bundle.store.id, "order placed");
    }
    Ok(twiml(xml))
}

/// Prices the placed order by the store's rules and writes it with its lines.
async fn write_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    req: &VoiceRequest,
    bundle: &StoreBundle,
    placed: &kea_dialog::PlacedOrder,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<uuid::Uuid, WebhookError> {
    let store = &bundle.store;
    let price = kea_menu::price_order(store, &placed.lines, placed.fulfillment)?;
    let items = placed
        .lines
        .iter()
        .zip(&price.lines)
        .map(|(line, priced)| {
            let item = store.menu.item(&line.sku);
            let size = match (&line.size, item) {
                (Some(size), Some(item)) => item.size(size).map(|s| s.name.as_str()),
                (None, Some(item)) if !item.sizes.is_empty() => item.default_size.as_deref(),
                _ => None,
            };
            kea_store::calls::NewOrderItem {
                sku: &line.sku,
                name: item.map(|i| i.name.as_str()).unwrap_or(line.sku.as_str()),
                size,
                quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                modifiers: line.modifiers.iter().map(String::as_str).collect(),
                unit_price_cents: priced.unit_price_cents,
                line_total_cents: priced.line_total_cents,
            }
        })
        .collect();
    let minutes = i64::from(placed.ready_in_minutes);
    let order = kea_store::calls::NewOrder {
        call_sid: &req.call_sid,
        store_id: &store.id,
        // Not decided yet: the `decide_order` job confirms it or asks an agent (queued by the
        // `orders_enqueue` trigger in this transaction).
        status: kea_store::pipeline::OrderStatus::PendingVerification,
        customer_name: &placed.customer_name,
        customer_phone: &placed.customer_phone,
        fulfillment: placed.fulfillment.as_str(),
        delivery_address: placed.delivery_address.as_deref(),
        subtotal_cents: price.subtotal_cents,
        tax_cents: price.tax_cents,
        delivery_fee_cents: price.delivery_fee_cents,
        total_cents: price.total_cents,
        confidence: placed.confidence.clamp(0.0, 1.0),
        ready_at: placed
            .ready_at
            .unwrap_or_else(|| now + chrono::Duration::minutes(minutes)),
        items,
    };
    Ok(kea_store::calls::insert_order(tx, &order).await?)
}

/// The turn as TwiML: what to say, then listen (with a redirect for silence), transfer or hang up.
fn render(state: &AppState, bundle: &StoreBundle, turn: &Turn, turns: i32) -> String {
    let config = &state.config;
    let mut doc = kea_twilio::twiml::Response::new();
    match &turn.next {
        Next::Listen { hints } => {
            let action = format!("{}/twilio/voice/turn?n={turns}", config.public_url);
            let hints = if hints.is_empty() {
                &bundle.hints
            } else {
                hints
            };
            let mut gather = Gather::speech(action.clone(), turn.language.bcp47())
                .with_hints(hints.iter().cloned());
            for u in &turn.say {
                gather = gather.say(Say::new(u.text.clone(), u.language.bcp47()));
            }
            // Twilio falls through to the next verb when the caller says nothing.
            doc = doc.gather(gather).redirect(action);
        }
        Next::Transfer => {
            for u in &turn.say {
                doc = doc.say(u.text.clone(), u.language.bcp47(), None);
            }
            doc = doc.push(super::queue::enqueue(state));
        }
        Next::Hangup => {
            for u in &turn.say {
                doc = doc.say(u.text.clone(), u.language.bcp47(), None);
            }
            doc = doc.hangup();
        }
    }
    doc.to_xml()
}
