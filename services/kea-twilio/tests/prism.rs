//! The client against a Prism mock generated from Twilio's OpenAPI description
//! (`../shared/specs/twilio_api_v2010.json`). Prism validates every request against the spec
//! (path, basic auth, form fields) and answers 422 when a request breaks it, so this proves that
//! what `Client` sends is what Twilio accepts.
//!
//! Prism is started by `kea-test-prism`; the test is skipped, saying why, when `../shared` or Prism
//! is missing.

#![expect(clippy::unwrap_used, reason = "tests")]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use kea_test_prism::Prism;

use kea_twilio::{Client, MessageStatus, OutboundMessage, TwilioError};

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";

/// Starts Prism on Twilio's description, or says why the test cannot run.
fn start_prism() -> Result<(Prism, SocketAddr), String> {
    let spec = kea_test_prism::shared_spec("twilio_api_v2010.json")?;
    // The spec takes about 10 s to load (longer when npx must download Prism first).
    let prism = kea_test_prism::start(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &spec,
        Duration::from_secs(180),
    )?;
    let addr = prism.addr;
    Ok((prism, addr))
}

fn client(addr: SocketAddr, account_sid: &str) -> Client {
    Client::new(account_sid, "prism-does-not-check-the-token")
        .with_base_url(format!("http://{addr}"))
        .with_timeout(Duration::from_secs(20))
        .with_retries(1, Duration::from_millis(100))
}

#[tokio::test]
async fn messages_against_twilio_openapi_mock() {
    let (prism, addr) = match start_prism() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("skipping the Prism test: {why}");
            return;
        }
    };

    // A receipt as kea sends it: accepted (201) and decoded.
    let receipt = OutboundMessage::new(
        "+15557654321",
        "+15551234567",
        "Tony's Pizza: 1 large pepperoni, 2 Diet Coke. Total $26.27. Pickup at 6:40 pm.",
    )
    .with_status_callback("https://kea.example.com/twilio/sms/status");
    let msg = client(addr, ACCOUNT_SID)
        .send_message(receipt)
        .await
        .unwrap_or_else(|e| panic!("Prism rejected a valid request: {e}\n{}", prism.log()));
    assert!(msg.sid.starts_with("SM"), "{msg:?}");
    assert_eq!(msg.status, Some(MessageStatus::Queued));
    assert_eq!(msg.num_segments, Some(1));

    // No `To` (an empty one is left out of the form): the spec requires it.
    let err = client(addr, ACCOUNT_SID)
        .send_message(OutboundMessage::new("+15557654321", "", "hello"))
        .await
        .unwrap_err();
    match &err {
        TwilioError::Api {
            status, message, ..
        } => {
            assert!((400..500).contains(status), "{err}");
            assert!(message.contains("'To'"), "{err}");
            eprintln!("missing To → {err}");
        }
        other => panic!("expected a typed 4xx error, got {other:?}"),
    }
    assert!(!err.is_transient());

    // An account SID that breaks the path's pattern.
    let err = client(addr, "not-an-account-sid")
        .send_message(OutboundMessage::new("+15557654321", "+15551234567", "hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TwilioError::Api { status, .. } if (400..500).contains(status)),
        "{err:?}"
    );
    drop(prism);
}
