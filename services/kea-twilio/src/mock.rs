//! An in-memory [`TwilioApi`] for other crates' tests (cargo feature `mock`).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::{Call, Message, MessageStatus, OutboundMessage, TwilioApi, TwilioError};

/// Records every message instead of sending it, and answers with a queued [`Message`] or with the
/// errors queued by [`MockTwilio::fail_next`].
#[derive(Debug, Default)]
pub struct MockTwilio {
    sent: Mutex<Vec<OutboundMessage>>,
    calls: Mutex<Vec<(String, String)>>,
    failures: Mutex<VecDeque<TwilioError>>,
}

impl MockTwilio {
    /// A mock that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next call fail with `err` (calls take queued errors first, in order).
    pub fn fail_next(&self, err: TwilioError) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(err);
    }

    /// The next queued failure, if any.
    fn next_failure(&self) -> Option<TwilioError> {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    /// The calls redirected so far, `(call_sid, twiml)`, in order.
    pub fn updated_calls(&self) -> Vec<(String, String)> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The messages accepted so far, in order (failed calls are not included).
    pub fn sent(&self) -> Vec<OutboundMessage> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait::async_trait]
impl TwilioApi for MockTwilio {
    async fn send_message(&self, msg: OutboundMessage) -> Result<Message, TwilioError> {
        if let Some(err) = self.next_failure() {
            return Err(err);
        }
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        let message = Message {
            sid: format!("SM{:032x}", sent.len() + 1),
            status: Some(MessageStatus::Queued),
            to: Some(msg.to.clone()),
            from: Some(msg.from.clone()),
            body: Some(msg.body.clone()),
            direction: Some("outbound-api".to_owned()),
            num_segments: Some(1),
            ..Message::default()
        };
        sent.push(msg);
        Ok(message)
    }

    async fn update_call(&self, call_sid: &str, twiml: &str) -> Result<Call, TwilioError> {
        if let Some(err) = self.next_failure() {
            return Err(err);
        }
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((call_sid.to_owned(), twiml.to_owned()));
        Ok(Call {
            sid: call_sid.to_owned(),
            status: Some("in-progress".to_owned()),
            ..Call::default()
        })
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn records_and_fails_on_request() {
        let mock = Arc::new(MockTwilio::new());
        let api: Arc<dyn TwilioApi> = mock.clone();
        mock.fail_next(TwilioError::Api {
            status: 400,
            code: Some(21211),
            message: "Invalid 'To' Phone Number".to_owned(),
            more_info: None,
        });
        let msg = OutboundMessage::new("+15557654321", "+15551234567", "Thanks!");
        let err = api.send_message(msg.clone()).await.unwrap_err();
        assert!(matches!(
            err,
            TwilioError::Api {
                code: Some(21211),
                ..
            }
        ));
        let sent = api.send_message(msg.clone()).await.unwrap();
        assert_eq!(sent.sid, "SM00000000000000000000000000000001");
        assert_eq!(mock.sent(), vec![msg]);
    }
}
