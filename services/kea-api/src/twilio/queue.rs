//! A caller waiting for a person, in kea's own queue.
//!
//! The dialog (or a failure of ours) answers `<Enqueue waitUrl=/twilio/queue/wait
//! action=/twilio/queue/leave>`. Twilio fetches the wait URL at once and again each time its
//! TwiML ends, so each fetch is a turn of the wait: the first opens the caller's `transfer` task
//! (which the router offers to agents); each tells the caller their place in line. When an agent
//! accepts, the `connect_transfer` job redirects the live call to the agent through Twilio's REST
//! API. If nobody accepts within `transfer_timeout`, or no agent is on duty at all, the wait
//! answers `<Leave/>`, and the leave URL offers the store's own line (its `staff_phone`, when the
//! store has one) or a call back: nobody is left on hold forever.

use axum::extract::State;
use axum::response::Response;
use kea_twilio::twiml::{Dial, Enqueue, Gather, Response as TwiML, Say, Verb};

use super::{SignedForm, twiml};
use crate::AppState;

/// The `<Enqueue>` that puts a caller in kea's queue.
pub fn enqueue(state: &AppState) -> Verb {
    let config = &state.config;
    Verb::Enqueue(Enqueue {
        queue_name: config.twilio_queue.clone(),
        workflow_sid: config.twilio_workflow_sid.clone(),
        action: Some(format!("{}/twilio/queue/leave", config.public_url)),
        wait_url: Some(format!("{}/twilio/queue/wait", config.public_url)),
    })
}

/// The caller's language for what kea says while they wait.
async fn language(state: &AppState, call_sid: &str) -> String {
    kea_store::calls::call_language(&state.db, call_sid)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| "en-US".to_owned())
}

fn spanish(language: &str) -> bool {
    language.starts_with("es")
}

/// `POST /twilio/queue/wait`: one turn of the wait (see the module doc).
pub async fn wait(State(state): State<AppState>, form: SignedForm) -> Response {
    let Some(call_sid) = form.param("CallSid") else {
        return twiml(TwiML::new().push(Verb::Leave).to_xml());
    };
    let waited = form
        .param("QueueTime")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(0);
    let lang = language(&state, call_sid).await;
    let es = spanish(&lang);
    let reason = if es {
        "La persona que llama pidió hablar con alguien."
    } else {
        "The caller asked for a person."
    };
    if let Err(e) = kea_store::routing::open_transfer(&state.db, call_sid, reason).await {
        tracing::error!(call.sid = call_sid, error = %e, "queue wait: cannot open the transfer task");
        return twiml(hold(&lang, None, 5));
    }
    let position = match kea_store::routing::transfer_position(&state.db, call_sid).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(call.sid = call_sid, error = %e, "queue wait: cannot read the caller's place");
            return twiml(hold(&lang, None, 5));
        }
    };
    let Some((_, status, ahead)) = position else {
        return twiml(hold(&lang, None, 5));
    };
    if status == "assigned" || status == "completed" {
        // An agent took the call; the connection is on its way.
        let words = if es {
            "Le comunicamos enseguida."
        } else {
            "Someone is picking up now."
        };
        return twiml(TwiML::new().say(words, &lang, None).pause(5).to_xml());
    }
    let timeout = state.config.transfer_timeout.as_secs();
    let nobody_on_duty = waited == 0
        && matches!(
            kea_store::routing::agents_on_duty(&state.db, "transfer").await,
            Ok(0)
        );
    if nobody_on_duty || waited >= timeout {
        let why = if nobody_on_duty {
            "no agent on duty"
        } else {
            "nobody answered in time"
        };
        match kea_store::routing::cancel_transfer(&state.db, call_sid, why).await {
            Ok(true) => {
                tracing::info!(call.sid = call_sid, waited, why, "caller leaves the queue");
                return twiml(TwiML::new().push(Verb::Leave).to_xml());
            }
            // An agent took it meanwhile: keep holding for the connection.
            Ok(false) => return twiml(hold(&lang, None, 5)),
            Err(e) => tracing::error!(call.sid = call_sid, error = %e, "queue wait: cannot cancel"),
        }
    }
    let pause = u32::try_from(timeout.saturating_sub(waited).clamp(2, 10)).unwrap_or(10);
    twiml(hold(&lang, Some(ahead + 1), pause))
}

/// Tells the caller their place in line, then a pause before Twilio fetches the wait URL again.
fn hold(language: &str, place: Option<i64>, pause: u32) -> String {
    let words = match (spanish(language), place) {
        (false, Some(1)) => "You're next in line for a person. Please stay on the line.".to_owned(),
        (false, Some(n)) => {
            format!("You're number {n} in line for a person. Please stay on the line.")
        }
        (false, None) => "Please stay on the line.".to_owned(),
        (true, Some(1)) => "Usted es el siguiente en la fila. Por favor, no cuelgue.".to_owned(),
        (true, Some(n)) => format!("Usted es el número {n} en la fila. Por favor, no cuelgue."),
        (true, None) => "Por favor, no cuelgue.".to_owned(),
    };
    TwiML::new()
        .say(words, language, None)
        .pause(pause)
        .to_xml()
}

/// `POST /twilio/queue/leave`: the caller left the queue (`QueueResult`). After a timeout (we
/// answered `<Leave/>`), the caller chooses: the store's own line, or a call back.
pub async fn leave(State(state): State<AppState>, form: SignedForm) -> Response {
    let call_sid = form.param("CallSid").unwrap_or_default();
    let result = form.param("QueueResult").unwrap_or_default();
    match result {
        "bridged" | "redirected" => return twiml(TwiML::new().to_xml()),
        "hangup" => {
            if let Err(e) =
                kea_store::routing::cancel_transfer(&state.db, call_sid, "the caller hung up").await
            {
                tracing::error!(call.sid = call_sid, error = %e, "cannot cancel the transfer");
            }
            return twiml(TwiML::new().to_xml());
        }
        _ => {}
    }
    let lang = language(&state, call_sid).await;
    let staff_phone = kea_store::calls::staff_phone_of_call(&state.db, call_sid)
        .await
        .ok()
        .flatten();
    twiml(choice_prompt(&state, &lang, staff_phone.is_some()))
}

fn choice_prompt(state: &AppState, lang: &str, has_store_line: bool) -> String {
    let es = spanish(lang);
    let words = match (es, has_store_line) {
        (false, true) => {
            "Sorry, nobody can take your call right now. To be put through to the store, press 1 or say store. To have someone call you back, press 2 or say call me back."
        }
        (false, false) => {
            "Sorry, nobody can take your call right now. To have someone call you back, press 2 or say call me back."
        }
        (true, true) => {
            "Lo sentimos, nadie puede atenderle ahora. Para hablar con la tienda, marque 1 o diga tienda. Para que le llamemos, marque 2 o diga llámenme."
        }
        (true, false) => {
            "Lo sentimos, nadie puede atenderle ahora. Para que le llamemos, marque 2 o diga llámenme."
        }
    };
    let action = format!("{}/twilio/queue/choice", state.config.public_url);
    let mut gather = Gather::speech(action.clone(), lang)
        .with_hints(if es {
            ["tienda", "llámenme"]
        } else {
            ["store", "call me back"]
        })
        .with_timeout(6)
        .say(Say::new(words, lang));
    gather.input = "dtmf speech".to_owned();
    gather.num_digits = Some(1);
    // Silence: the store's line when there is one, else a call back (the choice URL decides).
    TwiML::new().gather(gather).redirect(action).to_xml()
}

/// `POST /twilio/queue/choice`: 1 or "store" → the store's own line; 2, "call me back", or
/// silence without a store line → a `callback` task and goodbye.
pub async fn choice(State(state): State<AppState>, form: SignedForm) -> Response {
    let call_sid = form.param("CallSid").unwrap_or_default();
    let lang = language(&state, call_sid).await;
    let es = spanish(&lang);
    let digits = form.param("Digits").unwrap_or_default();
    let speech = form
        .param("SpeechResult")
        .unwrap_or_default()
        .to_lowercase();
    let staff_phone = kea_store::calls::staff_phone_of_call(&state.db, call_sid)
        .await
        .ok()
        .flatten();
    let wants_callback = digits == "2"
        || ["back", "llám", "llam", "devuel"]
            .iter()
            .any(|w| speech.contains(w));
    let wants_store = digits == "1" || speech.contains("store") || speech.contains("tienda");
    match staff_phone {
        Some(phone) if wants_store || !wants_callback => {
            tracing::info!(
                call.sid = call_sid,
                "caller put through to the store's line"
            );
            let words = if es {
                "Le comunico con la tienda."
            } else {
                "Putting you through to the store."
            };
            twiml(
                TwiML::new()
                    .say(words, &lang, None)
                    .push(Verb::Dial(Dial {
                        timeout: Some(30),
                        ..Dial::new(phone)
                    }))
                    .say(
                        if es {
                            "No contestan en la tienda. Le llamaremos pronto. Adiós."
                        } else {
                            "The store did not answer. We'll call you back soon. Goodbye."
                        },
                        &lang,
                        None,
                    )
                    .hangup()
                    .to_xml(),
            )
        }
        _ => {
            let reason = if es {
                "Llamar a quien llamó: pidió una persona y nadie pudo atenderle."
            } else {
                "Call the caller back: they asked for a person and nobody was free."
            };
            if let Err(e) =
                kea_store::routing::open_caller_callback(&state.db, call_sid, reason).await
            {
                tracing::error!(call.sid = call_sid, error = %e, "cannot open the callback task");
            }
            let words = if es {
                "De acuerdo. Alguien le llamará a este número en breve. Adiós."
            } else {
                "All right. Someone will call you back at this number shortly. Goodbye."
            };
            twiml(TwiML::new().say(words, &lang, None).hangup().to_xml())
        }
    }
}
