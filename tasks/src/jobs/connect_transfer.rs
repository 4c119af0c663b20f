//! `connect_transfer`: a caller waiting for a person is connected to the agent who accepted.
//!
//! Queued by the tasks trigger when an agent accepts a `transfer` offer. The live call is
//! redirected through Twilio's REST API to TwiML that dials the agent's phone or Twilio Client
//! identity; the task is then `completed`. A caller who hung up meanwhile cancels it.

use apalis::prelude::Data;
use kea_twilio::twiml::{Dial, Response, Verb};
use serde_json::json;

use super::ConnectTransfer;
use crate::{JobError, TaskEnv};

/// The job's handler.
pub async fn run(job: ConnectTransfer, env: Data<TaskEnv>) -> Result<(), JobError> {
    let Some(t) = kea_store::routing::accepted_transfer(&env.db, job.task_id).await? else {
        tracing::debug!(task.id = %job.task_id, "transfer not waiting to be connected");
        return Ok(());
    };
    if t.call_ended {
        kea_store::routing::finish_transfer(
            &env.db,
            job.task_id,
            false,
            json!({"why": "the caller hung up before the agent was connected"}),
        )
        .await?;
        return Ok(());
    }
    let Some(contact) = t.contact.as_deref() else {
        tracing::error!(task.id = %job.task_id, worker.id = %t.worker_id, "agent has no phone or client identity to connect");
        kea_store::routing::finish_transfer(
            &env.db,
            job.task_id,
            false,
            json!({"why": "the agent has no phone number or client identity (kea agent add --contact)"}),
        )
        .await?;
        return Ok(());
    };
    let twiml = connect_twiml(contact, &t.language);
    match env.twilio.update_call(&t.call_sid, &twiml).await {
        Ok(call) => {
            kea_store::routing::finish_transfer(
                &env.db,
                job.task_id,
                true,
                json!({"call_sid": t.call_sid, "to": contact, "call_status": call.status}),
            )
            .await?;
            tracing::info!(task.id = %job.task_id, call.sid = %t.call_sid, "caller connected to the agent");
            Ok(())
        }
        Err(e) if e.is_transient() => Err(JobError::CallTransient {
            call_sid: t.call_sid,
            source: e,
        }),
        Err(e) => {
            tracing::warn!(task.id = %job.task_id, error = %e, "the call could not be connected");
            kea_store::routing::finish_transfer(
                &env.db,
                job.task_id,
                false,
                json!({"why": format!("Twilio refused to connect the call: {e}")}),
            )
            .await?;
            Ok(())
        }
    }
}

/// What the caller hears, then the agent's line.
pub fn connect_twiml(contact: &str, language: &str) -> String {
    let words = if language.starts_with("es") {
        "Le comunico ahora con una persona."
    } else {
        "Connecting you to a person now."
    };
    Response::new()
        .say(words, language, None)
        .push(Verb::Dial(Dial {
            timeout: Some(30),
            ..Dial::new(contact)
        }))
        .to_xml()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dials_a_number_or_a_client() {
        let xml = connect_twiml("+15551230000", "en-US");
        assert!(
            xml.contains("<Dial timeout=\"30\">+15551230000</Dial>"),
            "{xml}"
        );
        let xml = connect_twiml("client:ana", "es-US");
        assert!(
            xml.contains("<Client>ana</Client>") && xml.contains("Le comunico"),
            "{xml}"
        );
    }
}
