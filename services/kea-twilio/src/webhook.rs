//! Webhook parameters: what Twilio posts to kea's `/twilio/*` URLs.
//!
//! Use [`parse_form`] for the raw `(name, value)` list that [`validate_signature`] needs (every
//! parameter, repeats and unknown ones included), then [`VoiceRequest::from_form`] or
//! [`MessageStatusRequest::from_form`] for typed access. Both types also implement
//! `serde::Deserialize`, so an axum `Form<VoiceRequest>` extractor works too. Unknown parameters
//! are ignored; an empty value of an optional parameter counts as absent.
//!
//! [`validate_signature`]: crate::validate_signature

use std::fmt;
use std::str::FromStr;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};

use crate::TwilioError;

/// Parses an `application/x-www-form-urlencoded` body into its `(name, value)` pairs, in order,
/// keeping repeated names and parameters this crate does not know.
///
/// ```
/// let params = kea_twilio::parse_form(b"CallSid=CA1&SpeechResult=Tony%27s+pizza").unwrap();
/// assert_eq!(params[1], ("SpeechResult".to_owned(), "Tony's pizza".to_owned()));
/// ```
///
/// Unlike lenient form parsers, this refuses (rather than patches with U+FFFD) a name or value
/// that does not decode to UTF-8: the signature is computed over these strings, so they must be
/// exactly what Twilio sent.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, TwilioError> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .enumerate()
        .map(|(i, pair)| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &b""[..]),
            };
            let name = decode_component(name).map_err(|()| TwilioError::BadForm {
                reason: format!("the name of parameter #{} is not UTF-8", i + 1),
            })?;
            let value = decode_component(value).map_err(|()| TwilioError::BadForm {
                reason: format!("the value of parameter `{name}` is not UTF-8"),
            })?;
            Ok((name, value))
        })
        .collect()
}

/// Percent-decodes one form component (`+` is a space); `Err` when the result is not UTF-8.
/// A `%` not followed by two hex digits is kept as it is, as browsers and `form_urlencoded` do.
fn decode_component(raw: &[u8]) -> Result<String, ()> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = raw
                    .get(i + 1)
                    .zip(raw.get(i + 2))
                    .and_then(|(&h, &l)| Some(hex(h)? * 16 + hex(l)?));
                match byte {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ())
}

fn from_form<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, TwilioError> {
    serde_urlencoded::from_bytes(body).map_err(|e| TwilioError::BadParameter {
        reason: e.to_string(),
    })
}

/// The parameters of a voice webhook: an incoming call, a `<Gather>` result, a status callback or
/// the fallback URL. Twilio names them in PascalCase (`CallSid`, `SpeechResult`, …).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoiceRequest {
    /// The call's unique id (`CA…`); kea keys call state by it.
    pub call_sid: String,
    /// The caller's number (E.164), or what the carrier sent for a withheld number.
    pub from: String,
    /// The number that was called: it identifies the store.
    pub to: String,
    /// The Twilio account the call belongs to (`AC…`).
    #[serde(default, deserialize_with = "opt_string")]
    pub account_sid: Option<String>,
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`, `no-answer`, `canceled`.
    #[serde(default, deserialize_with = "opt_call_status")]
    pub call_status: Option<CallStatus>,
    /// `inbound`, `outbound-api` or `outbound-dial`.
    #[serde(default, deserialize_with = "opt_string")]
    pub direction: Option<String>,
    /// The API version Twilio used, `2010-04-01`.
    #[serde(default, deserialize_with = "opt_string")]
    pub api_version: Option<String>,
    /// Caller ID name, when the number has CNAM lookup enabled.
    #[serde(default, deserialize_with = "opt_string")]
    pub caller_name: Option<String>,
    /// The number that forwarded the call, when the carrier says so.
    #[serde(default, deserialize_with = "opt_string")]
    pub forwarded_from: Option<String>,
    /// The parent call of a `<Dial>`ed leg.
    #[serde(default, deserialize_with = "opt_string")]
    pub parent_call_sid: Option<String>,
    /// The caller's transcribed speech after `<Gather input="speech">`.
    #[serde(default, deserialize_with = "opt_string")]
    pub speech_result: Option<String>,
    /// The recogniser's confidence in [`speech_result`](Self::speech_result), 0.0 to 1.0.
    #[serde(default, deserialize_with = "opt_confidence")]
    pub confidence: Option<f32>,
    /// Keys the caller pressed during `<Gather>`.
    #[serde(default, deserialize_with = "opt_string")]
    pub digits: Option<String>,
    /// The key that ended a DTMF `<Gather>`.
    #[serde(default, deserialize_with = "opt_string")]
    pub finished_on_key: Option<String>,
    /// The call's length in seconds, in the final status callback.
    #[serde(default, deserialize_with = "opt_call_duration")]
    pub call_duration: Option<u32>,
    /// The status callback's event time (RFC 2822), when the callback carries one.
    #[serde(default, deserialize_with = "opt_string")]
    pub timestamp: Option<String>,
    /// Orders status callbacks of one call.
    #[serde(default, deserialize_with = "opt_sequence_number")]
    pub sequence_number: Option<u32>,
    /// The Twilio error that made Twilio call the fallback URL (e.g. 11200, 12100).
    #[serde(default, deserialize_with = "opt_voice_error_code")]
    pub error_code: Option<u32>,
    /// The URL whose failure made Twilio call the fallback URL.
    #[serde(default, deserialize_with = "opt_string")]
    pub error_url: Option<String>,
    /// After `<Enqueue>`: `bridged`, `queue-full`, `error`, `hangup`, `redirected`, `leave`, …
    #[serde(default, deserialize_with = "opt_string")]
    pub queue_result: Option<String>,
    /// After `<Dial>`: `completed`, `answered`, `busy`, `no-answer`, `failed`, `canceled`.
    #[serde(default, deserialize_with = "opt_string")]
    pub dial_call_status: Option<String>,
    /// After `<Dial>`: the dialled leg's id.
    #[serde(default, deserialize_with = "opt_string")]
    pub dial_call_sid: Option<String>,
    /// STIR/SHAKEN verification of the caller ID (`TN-Validation-Passed-A`, …).
    #[serde(default, deserialize_with = "opt_string")]
    pub stir_verstat: Option<String>,
}

impl VoiceRequest {
    /// Parses a voice webhook's form body. The error names the missing or malformed parameter.
    ///
    /// Bytes that are not UTF-8 become U+FFFD here; [`parse_form`], which the signature check
    /// uses first, refuses them.
    ///
    /// ```
    /// use kea_twilio::{CallStatus, VoiceRequest};
    /// let req = VoiceRequest::from_form(
    ///     b"CallSid=CA1&From=%2B15551234567&To=%2B15557654321&CallStatus=in-progress\
    ///       &SpeechResult=a+large+pepperoni&Confidence=0.91&Digits=&Unknown=x",
    /// )
    /// .unwrap();
    /// assert_eq!(req.call_status, Some(CallStatus::InProgress));
    /// assert_eq!(req.confidence, Some(0.91));
    /// assert_eq!(req.digits, None); // empty counts as absent
    /// ```
    pub fn from_form(body: &[u8]) -> Result<Self, TwilioError> {
        from_form(body)
    }
}

/// The parameters of a message status callback (`StatusCallback` of a message kea sent).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageStatusRequest {
    /// The message's unique id (`SM…` or `MM…`), as returned by [`Client::send_message`].
    ///
    /// [`Client::send_message`]: crate::Client::send_message
    pub message_sid: String,
    /// The message's new status.
    pub message_status: MessageStatus,
    /// The account the message belongs to (`AC…`).
    #[serde(default, deserialize_with = "opt_string")]
    pub account_sid: Option<String>,
    /// The recipient.
    #[serde(default, deserialize_with = "opt_string")]
    pub to: Option<String>,
    /// The sender (the store's number).
    #[serde(default, deserialize_with = "opt_string")]
    pub from: Option<String>,
    /// The same status under its older name; Twilio sends both.
    #[serde(default, deserialize_with = "opt_string")]
    pub sms_status: Option<String>,
    /// The messaging service that sent it, if any.
    #[serde(default, deserialize_with = "opt_string")]
    pub messaging_service_sid: Option<String>,
    /// Why delivery failed (e.g. 30003 unreachable, 30007 filtered), for `failed`/`undelivered`.
    #[serde(default, deserialize_with = "opt_message_error_code")]
    pub error_code: Option<u32>,
    /// The API version, `2010-04-01`.
    #[serde(default, deserialize_with = "opt_string")]
    pub api_version: Option<String>,
}

impl MessageStatusRequest {
    /// Parses a message status callback's form body. The error names the missing or malformed
    /// parameter.
    pub fn from_form(body: &[u8]) -> Result<Self, TwilioError> {
        from_form(body)
    }
}

/// A call's status, as Twilio reports it in `CallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Waiting to be dialled.
    Queued,
    /// Ringing.
    Ringing,
    /// Answered and going on.
    InProgress,
    /// Answered and ended normally.
    Completed,
    /// The callee was busy.
    Busy,
    /// The call could not be completed.
    Failed,
    /// Nobody answered.
    NoAnswer,
    /// Cancelled before it was answered.
    Canceled,
    /// A status this crate does not know yet.
    #[serde(other)]
    Unknown,
}

impl CallStatus {
    /// Whether the call is over (`completed`, `busy`, `failed`, `no-answer`, `canceled`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

/// A message's status, as Twilio reports it in `MessageStatus` callbacks and REST answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted by a messaging service, not yet queued.
    Accepted,
    /// Scheduled for later.
    Scheduled,
    /// Waiting to be sent.
    Queued,
    /// Being sent.
    Sending,
    /// Handed to the carrier.
    Sent,
    /// Could not be sent.
    Failed,
    /// The carrier confirmed delivery.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// An inbound message being received.
    Receiving,
    /// An inbound message that arrived.
    Received,
    /// Read by the recipient (WhatsApp and RCS only).
    Read,
    /// Some parts delivered.
    PartiallyDelivered,
    /// A scheduled message that was cancelled.
    Canceled,
    /// A status this crate does not know yet.
    #[serde(other)]
    Unknown,
}

impl MessageStatus {
    /// Whether no further status callbacks will change the outcome.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Failed | Self::Delivered | Self::Undelivered | Self::Read | Self::Canceled
        )
    }
}

/// An optional string parameter; empty counts as absent.
fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn opt_call_status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CallStatus>, D::Error> {
    match opt_string(d)? {
        None => Ok(None),
        Some(s) => {
            let de = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&s);
            CallStatus::deserialize(de)
                .map(Some)
                .map_err(|e| D::Error::custom(format_args!("parameter `CallStatus`: {e}")))
        }
    }
}

/// Parses an optional number, naming the parameter (and the non-personal value) when it is bad.
fn opt_number<'de, D, T>(d: D, name: &str) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    match opt_string(d)? {
        None => Ok(None),
        Some(s) => s.trim().parse().map(Some).map_err(|e| {
            D::Error::custom(format_args!(
                "parameter `{name}` is not a valid number ({s:?}): {e}"
            ))
        }),
    }
}

fn opt_confidence<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    match opt_number::<D, f32>(d, "Confidence")? {
        Some(c) if !(0.0..=1.0).contains(&c) => Err(D::Error::custom(format_args!(
            "parameter `Confidence` must be between 0 and 1, got {c}"
        ))),
        c => Ok(c),
    }
}

fn opt_call_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_number(d, "CallDuration")
}

fn opt_sequence_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_number(d, "SequenceNumber")
}

fn opt_voice_error_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_number(d, "ErrorCode")
}

fn opt_message_error_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_number(d, "ErrorCode")
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    const INCOMING: &[u8] = b"AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01\
        &CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Called=%2B15557654321\
        &Caller=%2B15551234567&Direction=inbound&From=%2B15551234567&FromCity=SAN+FRANCISCO\
        &FromCountry=US&StirVerstat=TN-Validation-Passed-A&To=%2B15557654321&ToCountry=US";

    #[test]
    fn parse_form_keeps_every_pair_in_order() {
        let params = parse_form(b"b=2&a=1&a=&x=caf%C3%A9+%26+tea&Hints=it%27s").unwrap();
        let expected = [
            ("b", "2"),
            ("a", "1"),
            ("a", ""),
            ("x", "café & tea"),
            ("Hints", "it's"),
        ];
        assert_eq!(params.len(), expected.len());
        for ((n, v), (en, ev)) in params.iter().zip(expected) {
            assert_eq!((n.as_str(), v.as_str()), (en, ev));
        }
        assert!(parse_form(b"").unwrap().is_empty());
    }

    #[test]
    fn parse_form_rejects_invalid_utf8() {
        let err = parse_form(b"CallSid=CA1&SpeechResult=%FF%FE").unwrap_err();
        assert!(matches!(err, TwilioError::BadForm { .. }), "{err}");
        assert!(err.to_string().contains("`SpeechResult`"), "{err}");
        assert!(parse_form(b"a=\xff").is_err());
        assert!(parse_form(b"%C3=1").is_err());
    }

    #[test]
    fn parse_form_edge_cases() {
        let params = parse_form(b"&a&b=&=c&d=1=2&e=%zz%4&f=%41%2b+%2B&&").unwrap();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("a", ""),
                ("b", ""),
                ("", "c"),
                ("d", "1=2"),
                ("e", "%zz%4"),
                ("f", "A+ +"),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_form_reads_what_serde_urlencoded_writes(
            pairs in proptest::collection::vec((".*", ".*"), 0..8)
        ) {
            let body = serde_urlencoded::to_string(&pairs).unwrap();
            let parsed = parse_form(body.as_bytes()).unwrap();
            proptest::prop_assert_eq!(parsed, pairs);
        }
    }

    #[test]
    fn incoming_call() {
        let req = VoiceRequest::from_form(INCOMING).unwrap();
        assert_eq!(req.call_sid, "CA0123456789abcdef0123456789abcdef");
        assert_eq!(req.from, "+15551234567");
        assert_eq!(req.to, "+15557654321");
        assert_eq!(req.call_status, Some(CallStatus::Ringing));
        assert_eq!(req.direction.as_deref(), Some("inbound"));
        assert_eq!(req.stir_verstat.as_deref(), Some("TN-Validation-Passed-A"));
        assert_eq!(req.speech_result, None);
        assert_eq!(req.confidence, None);
    }

    #[test]
    fn gather_result() {
        let req = VoiceRequest::from_form(
            b"CallSid=CA1&From=%2B1555&To=%2B1666&SpeechResult=Tony%27s+%22special%22+%26+a+Coke\
              &Confidence=0.8734&Digits=12%23",
        )
        .unwrap();
        assert_eq!(
            req.speech_result.as_deref(),
            Some("Tony's \"special\" & a Coke")
        );
        assert_eq!(req.confidence, Some(0.8734));
        assert_eq!(req.digits.as_deref(), Some("12#"));
    }

    #[test]
    fn status_callback_and_fallback() {
        let req = VoiceRequest::from_form(
            b"CallSid=CA1&From=%2B1555&To=%2B1666&CallStatus=completed&CallDuration=73\
              &SequenceNumber=2",
        )
        .unwrap();
        assert_eq!(req.call_status, Some(CallStatus::Completed));
        assert!(req.call_status.is_some_and(CallStatus::is_final));
        assert_eq!(req.call_duration, Some(73));
        assert_eq!(req.sequence_number, Some(2));

        let req = VoiceRequest::from_form(
            b"CallSid=CA1&From=%2B1555&To=%2B1666&ErrorCode=11200\
              &ErrorUrl=https%3A%2F%2Fkea.example.com%2Ftwilio%2Fvoice",
        )
        .unwrap();
        assert_eq!(req.error_code, Some(11200));
        assert_eq!(
            req.error_url.as_deref(),
            Some("https://kea.example.com/twilio/voice")
        );
    }

    #[test]
    fn every_call_status() {
        for (text, status) in [
            ("queued", CallStatus::Queued),
            ("ringing", CallStatus::Ringing),
            ("in-progress", CallStatus::InProgress),
            ("completed", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("failed", CallStatus::Failed),
            ("no-answer", CallStatus::NoAnswer),
            ("canceled", CallStatus::Canceled),
            ("something-new", CallStatus::Unknown),
        ] {
            let body = format!("CallSid=CA1&From=a&To=b&CallStatus={text}");
            let req = VoiceRequest::from_form(body.as_bytes()).unwrap();
            assert_eq!(req.call_status, Some(status), "{text}");
        }
    }

    #[test]
    fn empty_optional_values_are_absent() {
        let req = VoiceRequest::from_form(
            b"CallSid=CA1&From=a&To=b&CallStatus=&Confidence=&CallDuration=&ErrorCode=&Digits=",
        )
        .unwrap();
        assert_eq!(req.call_status, None);
        assert_eq!(req.confidence, None);
        assert_eq!(req.call_duration, None);
        assert_eq!(req.error_code, None);
        assert_eq!(req.digits, None);
    }

    #[test]
    fn errors_name_the_parameter() {
        for (body, name) in [
            (&b"From=a&To=b"[..], "CallSid"),
            (b"CallSid=CA1&To=b", "From"),
            (b"CallSid=CA1&From=a", "To"),
            (b"CallSid=CA1&From=a&To=b&Confidence=high", "Confidence"),
            (b"CallSid=CA1&From=a&To=b&Confidence=1.5", "Confidence"),
            (b"CallSid=CA1&From=a&To=b&CallDuration=-3", "CallDuration"),
            (b"CallSid=CA1&From=a&To=b&ErrorCode=oops", "ErrorCode"),
        ] {
            let err = VoiceRequest::from_form(body).unwrap_err();
            assert!(matches!(err, TwilioError::BadParameter { .. }));
            let msg = err.to_string();
            assert!(msg.contains(&format!("`{name}`")), "{msg}");
        }
    }

    #[test]
    fn message_status_callback() {
        let req = MessageStatusRequest::from_form(
            b"AccountSid=AC1&ApiVersion=2010-04-01&ErrorCode=30003&From=%2B1666\
              &MessageSid=SM1&MessageStatus=undelivered&SmsSid=SM1&SmsStatus=undelivered&To=%2B1555",
        )
        .unwrap();
        assert_eq!(req.message_sid, "SM1");
        assert_eq!(req.message_status, MessageStatus::Undelivered);
        assert!(req.message_status.is_final());
        assert_eq!(req.error_code, Some(30003));
        assert_eq!(req.to.as_deref(), Some("+1555"));

        let req =
            MessageStatusRequest::from_form(b"MessageSid=SM1&MessageStatus=partially_delivered")
                .unwrap();
        assert_eq!(req.message_status, MessageStatus::PartiallyDelivered);
        let req =
            MessageStatusRequest::from_form(b"MessageSid=SM1&MessageStatus=brand_new").unwrap();
        assert_eq!(req.message_status, MessageStatus::Unknown);

        let err = MessageStatusRequest::from_form(b"MessageStatus=sent").unwrap_err();
        assert!(err.to_string().contains("`MessageSid`"), "{err}");
    }
}
