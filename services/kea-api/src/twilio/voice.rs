//! The voice call: the first webhook and every turn after it.
//!
//! A turn reads the call ([`kea_store::calls::load_call`]), runs the pure dialog step, and saves
//! the result in one statement ([`kea_store::calls::save_turn`]: the new state and the replay
//! record, params in, state, TwiML out, server time; with the order, when the caller confirmed,
//! in the same transaction). Every `<Gather>` and `<Redirect>` carries the turn number it answers
//! (`?n=`), so a repeated delivery of a turn gets the TwiML already sent for it and never runs the
//! dialog twice (no item is added twice); two deliveries racing on two replicas are told apart
//! by the save, which takes only the first. Between turns, the process keeps each call as its
//! last turn left it ([`super::live`]), so a turn usually reads nothing from the database.

use std::time::Instant;

use axum::extract::{Query, State};
use axum::response::Response;
use kea_dialog::{DialogState, Event, Next, Outcome, Turn};
use kea_store::calls::{NewCall, TurnRecord, TurnSaved};
use kea_twilio::VoiceRequest;
use kea_twilio::twiml::{Gather, Say};
use serde::Deserialize;

use super::live::LiveCall;
use super::menus::StoreBundle;
use super::{SignedForm, apology, twiml};
use crate::AppState;

/// What went wrong in a turn; the caller still gets TwiML (an apology and a person).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] kea_store::StoreError),
    /// The store's menu could not be loaded.
    #[error(transparent)]
    Menu(#[from] super::menus::MenuError),
    /// The stored dialog state could not be read.
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
        apology(state)
    }
}

/// One turn's inputs, gathered once.
struct TurnInput<'a> {
    state: &'a AppState,
    form: &'a SignedForm<VoiceRequest>,
    bundle: &'a StoreBundle,
    started: Instant,
}

/// `POST /twilio/voice`: a call to one of the stores' numbers.
pub async fn incoming(State(state): State<AppState>, form: SignedForm<VoiceRequest>) -> Response {
    let started = Instant::now();
    match start_call(&state, &form, started).await {
        Ok(response) => response,
        Err(e) => e.into_twiml(&state, &form.request.call_sid),
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
    form: SignedForm<VoiceRequest>,
) -> Response {
    let started = Instant::now();
    match take_turn(&state, &form, query.n, started).await {
        Ok(response) => response,
        Err(e) => e.into_twiml(&state, &form.request.call_sid),
    }
}

async fn start_call(
    state: &AppState,
    form: &SignedForm<VoiceRequest>,
    started: Instant,
) -> Result<Response, WebhookError> {
    let req = &form.request;
    let Some((store_id, updated_at)) =
        kea_store::calls::store_by_phone(&state.calls_db, &req.to).await?
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
    let input = TurnInput {
        state,
        form,
        bundle: &bundle,
        started,
    };
    let call = NewCall {
        store_id: &store_id,
        account_sid: req.account_sid.as_deref(),
        from_number: &req.from,
        to_number: &req.to,
    };
    match finish_turn(&input, next, turn, 0, Some(call)).await? {
        Some(xml) => Ok(twiml(xml)),
        // Twilio delivered the first webhook twice: answer as the first time.
        None => answer_of_turn(state, &req.call_sid, 1).await,
    }
}

/// The TwiML a turn was answered with, for a repeated delivery of it.
async fn answer_of_turn(
    state: &AppState,
    call_sid: &str,
    turn: i32,
) -> Result<Response, WebhookError> {
    match kea_store::calls::twiml_of_turn(&state.db, call_sid, turn).await? {
        Some(xml) => Ok(twiml(xml)),
        // Saved by another delivery, yet not found: the call moved on; nothing more to say.
        None => Ok(twiml(kea_twilio::twiml::Response::new().hangup().to_xml())),
    }
}

async fn take_turn(
    state: &AppState,
    form: &SignedForm<VoiceRequest>,
    answered: Option<i32>,
    started: Instant,
) -> Result<Response, WebhookError> {
    let req = &form.request;
    // This process's copy of the call first; a copy that turns out stale (another replica took
    // a turn) makes the save refuse, and the turn is taken again from the database.
    if let Some(call) = state.live_calls.take(&req.call_sid)
        && let Some(response) = continue_call(state, form, answered, started, call).await?
    {
        return Ok(response);
    }
    let Some(row) = kea_store::calls::load_call(&state.db, &req.call_sid).await? else {
        // A turn for a call we never saw start (or that was purged): start it now.
        return start_call(state, form, started).await;
    };
    if row.outcome.is_some() && answered.is_none_or(|n| n >= row.turns) {
        // The call already ended (placed, cancelled, transferred): nothing more to do.
        return Ok(twiml(kea_twilio::twiml::Response::new().hangup().to_xml()));
    }
    let call = LiveCall {
        store_id: row.store_id,
        store_updated_at: row.store_updated_at,
        turns: row.turns,
        state: serde_json::from_value(row.state)?,
    };
    let turns = call.turns;
    match continue_call(state, form, answered, started, call).await? {
        Some(response) => Ok(response),
        // Another delivery of this turn was saved first: its answer is the one that stands.
        None => answer_of_turn(state, &req.call_sid, turns + 1).await,
    }
}

/// Takes the turn from `call` as it stood; `None` when the call was not there any more (its
/// turn was saved by another delivery, here or on another replica).
async fn continue_call(
    state: &AppState,
    form: &SignedForm<VoiceRequest>,
    answered: Option<i32>,
    started: Instant,
    call: LiveCall,
) -> Result<Option<Response>, WebhookError> {
    let req = &form.request;
    let answered = answered.unwrap_or(call.turns);
    if answered < call.turns {
        // A repeated delivery of a turn already taken: the same answer again.
        return answer_of_turn(state, &req.call_sid, answered + 1)
            .await
            .map(Some);
    }
    let bundle = state
        .menus
        .get(&state.db, &call.store_id, call.store_updated_at)
        .await?;
    let (next, turn) = kea_dialog::step(
        &call.state,
        &event_of(req),
        &bundle.context(state.config.clock.now(), state.config.enforce_store_hours),
    );
    let input = TurnInput {
        state,
        form,
        bundle: &bundle,
        started,
    };
    Ok(finish_turn(&input, next, turn, call.turns, None)
        .await?
        .map(twiml))
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

/// Saves the step's result (with the order, if one was placed) and returns its TwiML; `None`
/// when another delivery of the turn was saved first. A call that goes on is kept live.
async fn finish_turn(
    input: &TurnInput<'_>,
    after: DialogState,
    turn: Turn,
    turns_before: i32,
    new_call: Option<NewCall<'_>>,
) -> Result<Option<String>, WebhookError> {
    let TurnInput {
        state,
        form,
        bundle,
        started,
    } = input;
    let req = &form.request;
    let turns = turns_before + 1;
    let order = match &turn.order {
        Some(placed) => Some(priced_order(req, bundle, placed, state.config.clock.now())?),
        None => None,
    };
    let xml = render(state, bundle, &turn, turns);
    let said: Vec<&str> = turn.say.iter().map(|u| u.text.as_str()).collect();
    let record = TurnRecord {
        call_sid: &req.call_sid,
        turns_before,
        new_call,
        state: &after,
        language: turn.language.bcp47(),
        outcome: turn.outcome.map(Outcome::as_str),
        webhook: &form.params,
        said: &said,
        twiml: &xml,
        server_micros: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        order,
    };
    let ended = record.outcome.is_some();
    match kea_store::calls::save_turn(&state.calls_db, &record).await? {
        TurnSaved::Saved { order_id } => {
            if let Some(id) = order_id {
                tracing::info!(call.sid = %req.call_sid, order.id = %id, store.id = %bundle.store.id, "order placed");
            }
            if !ended {
                state.live_calls.put(
                    &req.call_sid,
                    LiveCall {
                        store_id: bundle.store.id.clone(),
                        store_updated_at: bundle.updated_at,
                        turns,
                        state: after,
                    },
                );
            }
            Ok(Some(xml))
        }
        TurnSaved::AlreadyTaken => Ok(None),
    }
}

/// The placed order, priced by the store's rules, as it is written.
fn priced_order<'a>(
    req: &'a VoiceRequest,
    bundle: &'a StoreBundle,
    placed: &'a kea_dialog::PlacedOrder,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<kea_store::calls::NewOrder<'a>, WebhookError> {
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
        // `orders_enqueue` trigger in the turn's transaction).
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
    Ok(order)
}

/// The turn as TwiML: what to say, then listen (with a redirect for silence), transfer or hang up.
fn render(state: &AppState, bundle: &StoreBundle, turn: &Turn, turns: i32) -> String {
    let config = &state.config;
    let mut doc = kea_twilio::twiml::Response::new();
    match &turn.next {
        Next::Listen { hints } => {
            let action = format!("{}/twilio/voice/turn?n={turns}", config.public_url);
            let gather = Gather::speech(action.clone(), turn.language.bcp47());
            // A question's own words, or the store's menu words (cleaned when it was loaded).
            let mut gather = if hints.is_empty() {
                gather.with_cleaned_hints(&bundle.hints)
            } else {
                gather.with_hints(hints)
            };
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
