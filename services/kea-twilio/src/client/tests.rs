//! The client against a fake Twilio on loopback: a plain TCP listener that answers scripted
//! responses and records what it received.

#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "s3cret-auth-token";

const CREATED: &str = r#"{"account_sid":"AC0123456789abcdef0123456789abcdef","api_version":"2010-04-01",
"body":"Tony's: 1 large pepperoni, $26.27","date_created":"Thu, 24 Aug 2023 05:01:45 +0000",
"date_sent":null,"date_updated":"Thu, 24 Aug 2023 05:01:45 +0000","direction":"outbound-api",
"error_code":null,"error_message":null,"from":"+15557654321","num_media":"0","num_segments":"1",
"price":null,"price_unit":"USD","messaging_service_sid":null,"sid":"SM0123456789abcdef0123456789abcdef",
"status":"queued","subresource_uris":{"media":"/x"},"to":"+15551234567","uri":"/y","brand_new_field":42}"#;

#[derive(Clone)]
struct Scripted {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Scripted {
    Scripted {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
        delay: Duration::ZERO,
    }
}

#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves `script` in order, one connection per request (`Connection: close`); after the script
/// it keeps answering with the last entry.
async fn fake_twilio(script: Vec<Scripted>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let step = script[n.min(script.len() - 1)].clone();
            n += 1;
            let log = log.clone();
            tokio::spawn(async move {
                let Some(req) = read_request(&mut sock).await else {
                    return;
                };
                log.lock().unwrap().push(req);
                tokio::time::sleep(step.delay).await;
                let mut head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    step.status,
                    step.body.len()
                );
                for (name, value) in &step.headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(step.body.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), received)
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        request_line,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn client(base: &str) -> Client {
    Client::new(SID, TOKEN)
        .with_base_url(base)
        .with_timeout(Duration::from_secs(5))
        .with_retries(3, Duration::from_millis(20))
}

fn receipt() -> OutboundMessage {
    OutboundMessage::new(
        "+15557654321",
        "+15551234567",
        "Tony's: 1 large pepperoni, $26.27",
    )
    .with_status_callback("https://kea.example.com/twilio/sms/status")
}

#[tokio::test]
async fn sends_the_documented_request_and_decodes_the_message() {
    let (base, received) = fake_twilio(vec![reply(201, CREATED)]).await;
    let msg = client(&format!("{base}/"))
        .send_message(receipt())
        .await
        .unwrap();
    assert_eq!(msg.sid, "SM0123456789abcdef0123456789abcdef");
    assert_eq!(msg.status, Some(MessageStatus::Queued));
    assert_eq!(msg.num_segments, Some(1));
    assert_eq!(msg.num_media, Some(0));
    assert_eq!(msg.error_code, None);
    assert_eq!(msg.to.as_deref(), Some("+15551234567"));

    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(
        req.request_line,
        format!("POST /2010-04-01/Accounts/{SID}/Messages.json HTTP/1.1")
    );
    let basic = format!("{SID}:{TOKEN}");
    use base64::Engine as _;
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(basic)
    );
    assert_eq!(req.header("authorization"), Some(expected_auth.as_str()));
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&req.body).unwrap();
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(
        form,
        [
            ("To", "+15551234567"),
            ("From", "+15557654321"),
            ("Body", "Tony's: 1 large pepperoni, $26.27"),
            (
                "StatusCallback",
                "https://kea.example.com/twilio/sms/status"
            ),
        ]
    );
}

#[tokio::test]
async fn base_url_with_a_path_prefix() {
    let (base, received) = fake_twilio(vec![reply(201, CREATED)]).await;
    client(&format!("{base}/twilio-proxy"))
        .send_message(OutboundMessage::new("+1", "+2", "hi"))
        .await
        .unwrap();
    let received = received.lock().unwrap();
    assert!(
        received[0]
            .request_line
            .starts_with("POST /twilio-proxy/2010-04-01/Accounts/"),
        "{}",
        received[0].request_line
    );
    assert!(!received[0].body.contains("StatusCallback"));
}

#[tokio::test]
async fn error_json_becomes_a_typed_error_without_retry() {
    let body = r#"{"code": 21211, "message": "The 'To' number +15551234567 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
    let (base, received) = fake_twilio(vec![reply(400, body)]).await;
    let err = client(&base).send_message(receipt()).await.unwrap_err();
    match &err {
        TwilioError::Api {
            status,
            code,
            message,
            more_info,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(*code, Some(21211));
            assert_eq!(
                message,
                "The 'To' number +***4567 is not a valid phone number."
            );
            assert_eq!(
                more_info.as_deref(),
                Some("https://www.twilio.com/docs/errors/21211")
            );
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert!(!err.is_transient());
    let text = err.to_string();
    assert!(
        text.contains("21211") && text.contains("HTTP 400"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
    assert_eq!(received.lock().unwrap().len(), 1, "a 400 is not retried");
}

#[tokio::test]
async fn non_json_error_body_keeps_the_status() {
    let (base, _) = fake_twilio(vec![reply(404, "<html>not here</html>")]).await;
    let err = client(&base).send_message(receipt()).await.unwrap_err();
    assert!(
        matches!(&err, TwilioError::Api { status: 404, code: None, message, .. } if message == "Not Found"),
        "{err:?}"
    );
}

#[tokio::test]
async fn retries_5xx_then_succeeds() {
    let (base, received) = fake_twilio(vec![
        reply(
            500,
            r#"{"code": 20500, "message": "Internal Server Error", "status": 500}"#,
        ),
        reply(503, "upstream down"),
        reply(201, CREATED),
    ])
    .await;
    let msg = client(&base).send_message(receipt()).await.unwrap();
    assert_eq!(msg.sid, "SM0123456789abcdef0123456789abcdef");
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.body == received[0].body));
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let (base, received) = fake_twilio(vec![reply(
        503,
        r#"{"code": 20503, "message": "Service Unavailable", "status": 503}"#,
    )])
    .await;
    let err = client(&base)
        .with_retries(2, Duration::from_millis(5))
        .send_message(receipt())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TwilioError::Api {
                status: 503,
                code: Some(20503),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(
        received.lock().unwrap().len(),
        3,
        "first attempt + 2 retries"
    );
}

#[tokio::test]
async fn respects_retry_after_on_429() {
    let mut too_many = reply(
        429,
        r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
    );
    too_many.headers.push(("retry-after", "1".to_owned()));
    let (base, received) = fake_twilio(vec![too_many, reply(201, CREATED)]).await;
    let started = Instant::now();
    // A base backoff of 1 ms: only Retry-After can explain a wait of a second.
    let msg = client(&base)
        .with_retries(3, Duration::from_millis(1))
        .send_message(receipt())
        .await
        .unwrap();
    assert_eq!(msg.status, Some(MessageStatus::Queued));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(received.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn retry_after_too_long_is_returned_not_waited() {
    let mut too_many = reply(
        429,
        r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
    );
    too_many.headers.push(("retry-after", "3600".to_owned()));
    let (base, received) = fake_twilio(vec![too_many, reply(201, CREATED)]).await;
    let started = Instant::now();
    let err = client(&base).send_message(receipt()).await.unwrap_err();
    assert!(
        matches!(err, TwilioError::Api { status: 429, .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn times_out_without_retrying() {
    let mut slow = reply(201, CREATED);
    slow.delay = Duration::from_secs(3);
    let (base, received) = fake_twilio(vec![slow]).await;
    let started = Instant::now();
    let err = client(&base)
        .with_timeout(Duration::from_millis(200))
        .send_message(receipt())
        .await
        .unwrap_err();
    assert!(
        matches!(err, TwilioError::Timeout { after } if after == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        received.lock().unwrap().len(),
        1,
        "a timeout is not retried"
    );
}

#[tokio::test]
async fn retries_refused_connections_then_reports_transport() {
    // Bind then drop: nothing listens on this port any more.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let started = Instant::now();
    let err = client(&format!("http://{addr}"))
        .with_retries(2, Duration::from_millis(50))
        .send_message(receipt())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TwilioError::Transport(e) if e.is_connect()),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(!err.to_string().contains(TOKEN));
    // Two backoffs of at least 25 ms and 50 ms (half of 50 and 100 ms, plus jitter).
    assert!(
        started.elapsed() >= Duration::from_millis(75),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn success_with_a_body_that_is_not_a_message() {
    let (base, _) = fake_twilio(vec![reply(201, "not json")]).await;
    let err = client(&base).send_message(receipt()).await.unwrap_err();
    assert!(
        matches!(err, TwilioError::Decode { status: 201, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_base_url_is_a_config_error() {
    let err = client("not a url")
        .send_message(receipt())
        .await
        .unwrap_err();
    assert!(matches!(err, TwilioError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("not a url"));
}

#[tokio::test]
async fn usable_as_a_shared_trait_object() {
    let (base, _) = fake_twilio(vec![reply(201, CREATED)]).await;
    let api: Arc<dyn TwilioApi> = Arc::new(client(&base));
    let msg = api.send_message(receipt()).await.unwrap();
    assert_eq!(msg.from.as_deref(), Some("+15557654321"));
}

#[test]
fn debug_hides_the_auth_token() {
    let text = format!("{:?}", Client::new(SID, TOKEN));
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("[redacted]"));
}

#[test]
fn backoff_grows_with_jitter_and_a_cap() {
    let c = Client::new(SID, TOKEN).with_retries(10, Duration::from_millis(100));
    for attempt in 0..10 {
        let exp = Duration::from_millis(100)
            .saturating_mul(2u32.pow(attempt))
            .min(MAX_BACKOFF);
        let d = c.backoff(attempt);
        assert!(
            d >= exp / 2 && d <= exp,
            "attempt {attempt}: {d:?} vs {exp:?}"
        );
    }
}

#[test]
fn retry_after_parsing() {
    let mut h = HeaderMap::new();
    assert_eq!(retry_after(&h), None);
    h.insert(RETRY_AFTER, "2".parse().unwrap());
    assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    h.insert(RETRY_AFTER, "0.5".parse().unwrap());
    assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
    h.insert(
        RETRY_AFTER,
        "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
    );
    assert_eq!(retry_after(&h), None);
    h.insert(RETRY_AFTER, "-1".parse().unwrap());
    assert_eq!(retry_after(&h), None);
}

#[test]
fn phone_numbers_in_messages_are_masked() {
    for (text, masked) in [
        (
            "The 'To' number +15551234567 is not valid",
            "The 'To' number +***4567 is not valid",
        ),
        ("code 21211, 1234567", "code 21211, ***4567"),
        ("555-1234", "555-1234"),
        ("", ""),
        ("12345678", "***5678"),
    ] {
        assert_eq!(mask_phone_numbers(text), masked);
    }
}
