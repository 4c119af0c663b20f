//! The Twilio side of a phone call, for `kea call` and `kea simulate`: signed webhooks out, TwiML
//! in, followed the way Twilio follows it (`<Gather>` waits for the caller and falls through on
//! silence, `<Redirect>` is fetched, `<Hangup/>` or the end of the document ends the call,
//! `<Enqueue>`/`<Dial>` transfer it), then the status callback.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kea_twilio::twiml::Verb;

/// What the person (or the simulated caller) does when the system waits for them.
pub enum Reply {
    /// Says this.
    Speak(String),
    /// Says nothing.
    Silence,
    /// Puts the phone down.
    HangUp,
}

/// Someone on the caller's end of the server.
pub trait Caller {
    /// Everything said since the caller last spoke (already lower-cased or not: as spoken).
    async fn respond(&mut self, prompt: &str) -> Reply;
    /// The confidence Twilio reports with the caller's speech.
    fn confidence(&self) -> f32 {
        0.92
    }
    /// Hears each TwiML document the server answered with, and how long the webhook took
    /// (for a phone that shows them, like `kea dev`'s page); most callers only listen.
    fn answered(&mut self, _url: &str, _twiml: &str, _took: Duration) {}
}

/// A new CallSid, shaped as Twilio's are.
pub fn new_call_sid() -> String {
    format!("CA{}", uuid::Uuid::new_v4().simple())
}

/// How a call ended, from the phone's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The system hung up (`<Hangup/>` or the document ran out).
    Hangup,
    /// The system transferred the call to a person.
    Transferred,
    /// The caller hung up.
    CallerHungUp,
}

/// One line of a call's transcript.
#[derive(Debug, Clone)]
pub enum Line {
    /// What the system said.
    System(String),
    /// What the caller said (`None`: silence).
    Caller(Option<String>),
}

/// A finished call.
#[derive(Debug)]
pub struct Call {
    /// Twilio's CallSid for it.
    pub sid: String,
    /// How it ended.
    pub ended: Ended,
    /// Who said what.
    pub transcript: Vec<Line>,
    /// The time each webhook took to answer, as the phone saw it.
    pub latencies: Vec<Duration>,
}

/// Where the server is and how to sign for it.
#[derive(Debug, Clone)]
pub struct Server {
    /// Where the server listens.
    pub base_url: String,
    /// The URL the server believes Twilio uses (signatures are computed over it).
    pub public_url: String,
    /// Twilio auth token shared with the server.
    pub auth_token: String,
    /// Twilio account SID.
    pub account_sid: String,
}

/// Where a call goes, who places it and under which CallSid ([`new_call_sid`]).
pub struct Dial<'a> {
    pub sid: String,
    pub from: &'a str,
    pub to: &'a str,
}

/// Places one call and lets `caller` talk until the call ends.
pub async fn place_call(
    http: &reqwest::Client,
    server: &Server,
    dial: Dial<'_>,
    caller: &mut impl Caller,
    max_turns: usize,
) -> anyhow::Result<Call> {
    let started = std::time::Instant::now();
    let Dial { sid, from, to } = dial;
    let base: Vec<(String, String)> = [
        ("AccountSid", server.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", sid.as_str()),
        ("Direction", "inbound"),
        ("From", from),
        ("Caller", from),
        ("To", to),
        ("Called", to),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut call = Call {
        sid,
        ended: Ended::Hangup,
        transcript: Vec::new(),
        latencies: Vec::new(),
    };
    let mut status = "ringing";
    let mut url = format!("{}/twilio/voice", server.base_url);
    let mut extra: Vec<(String, String)> = Vec::new();
    let mut heard: Vec<String> = Vec::new();
    let mut gathers = 0;
    'call: loop {
        let mut params = base.clone();
        params.push(("CallStatus".to_owned(), status.to_owned()));
        params.append(&mut extra);
        let started = Instant::now();
        let xml = post(http, server, &url, &params).await?;
        call.latencies.push(started.elapsed());
        caller.answered(&url, &xml, started.elapsed());
        status = "in-progress";
        let doc =
            kea_twilio::twiml::parse(&xml).with_context(|| format!("the answer from {url}"))?;
        let mut next = None;
        for verb in doc.verbs() {
            match verb {
                Verb::Say(say) => heard.push(say.text.clone()),
                Verb::Pause { .. } => {}
                Verb::Gather(gather) => {
                    heard.extend(gather.children.iter().map(|s| s.text.clone()));
                    gathers += 1;
                    if gathers > max_turns {
                        bail!("more than {max_turns} prompts: the dialog loops");
                    }
                    let prompt = heard.join(" ");
                    heard.clear();
                    call.transcript.push(Line::System(prompt.clone()));
                    let action = resolve(server, &url, &gather.action);
                    match caller.respond(&prompt).await {
                        Reply::HangUp => {
                            call.ended = Ended::CallerHungUp;
                            break 'call;
                        }
                        Reply::Speak(text) => {
                            call.transcript.push(Line::Caller(Some(text.clone())));
                            extra = vec![
                                ("SpeechResult".to_owned(), text),
                                (
                                    "Confidence".to_owned(),
                                    format!("{:.2}", caller.confidence()),
                                ),
                            ];
                            next = Some(action);
                            break;
                        }
                        Reply::Silence => {
                            call.transcript.push(Line::Caller(None));
                            if gather.action_on_empty_result == Some(true) {
                                next = Some(action);
                                break;
                            }
                            // Twilio falls through to the next verb.
                        }
                    }
                }
                Verb::Redirect(redirect) => {
                    next = Some(resolve(server, &url, &redirect.url));
                    break;
                }
                Verb::Hangup => {
                    call.ended = Ended::Hangup;
                    break 'call;
                }
                Verb::Enqueue(_) | Verb::Dial(_) => {
                    call.ended = Ended::Transferred;
                    break 'call;
                }
                // Only a queue's wait URL answers <Leave/>, and this phone never waits in one.
                Verb::Leave => {}
            }
        }
        match next {
            Some(to) => url = to,
            None => {
                call.ended = Ended::Hangup;
                break;
            }
        }
    }
    if !heard.is_empty() {
        call.transcript.push(Line::System(heard.join(" ")));
    }
    let mut params = base;
    // The call's real length, as Twilio reports it: from the first webhook to hanging up.
    let seconds = started.elapsed().as_secs().max(1);
    params.extend([
        ("CallStatus".to_owned(), "completed".to_owned()),
        ("CallDuration".to_owned(), seconds.to_string()),
    ]);
    post(
        http,
        server,
        &format!("{}/twilio/status", server.base_url),
        &params,
    )
    .await?;
    Ok(call)
}

/// A URL from TwiML made absolute, and pointed at where the server listens.
fn resolve(server: &Server, current: &str, target: &str) -> String {
    if target.is_empty() {
        return current.to_owned();
    }
    let absolute = if target.starts_with("http://") || target.starts_with("https://") {
        target.to_owned()
    } else if target.starts_with('/') {
        format!("{}{target}", server.base_url)
    } else {
        let dir = current.rsplit_once('/').map(|(d, _)| d).unwrap_or(current);
        format!("{dir}/{target}")
    };
    match absolute.strip_prefix(&server.public_url) {
        Some(rest) if server.public_url != server.base_url => format!("{}{rest}", server.base_url),
        _ => absolute,
    }
}

/// POSTs a signed webhook; returns the TwiML.
async fn post(
    http: &reqwest::Client,
    server: &Server,
    url: &str,
    params: &[(String, String)],
) -> anyhow::Result<String> {
    let public = match url.strip_prefix(&server.base_url) {
        Some(rest) => format!("{}{rest}", server.public_url),
        None => url.to_owned(),
    };
    let signature = kea_twilio::compute_signature(&server.auth_token, &public, params);
    let res = http
        .post(url)
        .header(kea_twilio::SIGNATURE_HEADER, signature)
        .header(
            "I-Twilio-Idempotency-Token",
            uuid::Uuid::new_v4().to_string(),
        )
        .form(params)
        .send()
        .await
        .map_err(|e| {
            if e.is_connect() {
                anyhow::anyhow!(
                    "nothing answers at {} (is `kea dev` running? give another server with --url): {e}",
                    server.base_url
                )
            } else {
                anyhow::Error::new(e).context(format!("POST {url}"))
            }
        })?;
    let status = res.status();
    let body = res
        .text()
        .await
        .with_context(|| format!("reading the answer from {url}"))?;
    if status == reqwest::StatusCode::NO_CONTENT {
        return Ok(String::new());
    }
    if !status.is_success() {
        bail!(
            "POST {url} answered {status}: {}",
            body.chars().take(200).collect::<String>()
        );
    }
    Ok(body)
}
