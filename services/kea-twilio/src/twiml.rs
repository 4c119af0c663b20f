//! TwiML: the XML documents kea answers voice webhooks with.
//!
//! Build a [`Response`] verb by verb and send [`Response::to_xml`] with
//! `Content-Type:` [`CONTENT_TYPE`]. Every document is written with quick-xml's [`Writer`], so text
//! and attribute values are always escaped (`&`, `<`, `>`, `"`, `'`); characters that XML 1.0
//! cannot carry at all (most ASCII control characters) are dropped rather than producing a
//! document Twilio would refuse (error 12100) in the middle of a call.
//!
//! ```
//! use kea_twilio::twiml::{Gather, Response, Say};
//! let xml = Response::new()
//!     .gather(
//!         Gather::speech("/twilio/voice/turn", "en-US")
//!             .with_hints(["pepperoni", "Tony's special"])
//!             .say(Say::new("Welcome to Tony's! What can I get you?", "en-US")),
//!     )
//!     .redirect("/twilio/voice/turn?silence=1")
//!     .to_xml();
//! assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech""#));
//! assert!(xml.contains("Welcome to Tony&apos;s!"));
//! ```

use std::collections::HashSet;
use std::io;
use std::sync::Arc;

pub use crate::twiml_read::parse;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The `Content-Type` of a TwiML answer.
pub const CONTENT_TYPE: &str = "text/xml";

/// Twilio accepts at most this many `hints` on a `<Gather>`; later ones are left out.
pub const MAX_HINTS: usize = 500;

/// Twilio ignores hints longer than this many characters, so they are left out.
pub const MAX_HINT_CHARS: usize = 100;

/// A `<Gather>`'s `hints`: words and phrases that help recognition, as Twilio takes them
/// (comma-separated, so a comma inside a hint becomes a space), cleaned, deduplicated (ignoring
/// case) and capped at [`MAX_HINTS`] when made.
///
/// Made once, they cost a clone of a pointer: a store's menu words are the same on every turn,
/// and copying and cleaning its ~400 of them again for each one (a few thousand allocations) was
/// a sixteenth of `kea serve`'s CPU per turn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints(Arc<str>);

impl Hints {
    /// `hints`, cleaned: whitespace runs become one space, commas become spaces, empty hints and
    /// hints Twilio would ignore (over [`MAX_HINT_CHARS`]) are left out, as are repeats and any
    /// beyond [`MAX_HINTS`].
    pub fn new<I, S>(hints: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen = HashSet::new();
        let mut attr = String::new();
        for hint in hints {
            if seen.len() == MAX_HINTS {
                break;
            }
            let hint = hint
                .as_ref()
                .replace(',', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if hint.is_empty()
                || hint.chars().count() > MAX_HINT_CHARS
                || !seen.insert(hint.to_lowercase())
            {
                continue;
            }
            if !attr.is_empty() {
                attr.push_str(", ");
            }
            attr.push_str(&hint);
        }
        Self(attr.into())
    }

    /// The `hints` attribute's value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each hint, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(", ").filter(|h| !h.is_empty())
    }
}

/// A TwiML document: the verbs Twilio runs in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    verbs: Vec<Verb>,
}

/// One TwiML verb.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// `<Say>`: speak text.
    Say(Say),
    /// `<Gather>`: listen for speech (or keys) and post the result to its `action`.
    Gather(Gather),
    /// `<Redirect>`: fetch the next TwiML from another URL.
    Redirect(Redirect),
    /// `<Enqueue>`: put the caller in a queue (TaskRouter) for a person.
    Enqueue(Enqueue),
    /// `<Dial>`: connect the caller to a phone number.
    Dial(Dial),
    /// `<Hangup/>`: end the call.
    Hangup,
    /// `<Leave/>`: take the caller out of the queue it waits in (from a queue's wait URL);
    /// Twilio then continues at the `<Enqueue>`'s action URL with `QueueResult=leave`.
    Leave,
    /// `<Pause length="…"/>`: wait this many seconds.
    Pause {
        /// Seconds of silence.
        length: u32,
    },
}

/// The HTTP method Twilio uses for a verb's URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`, kea's choice everywhere: parameters in a signed form body.
    #[default]
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// `<Say language="…" voice="…">text</Say>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    /// What to say.
    pub text: String,
    /// The language tag, e.g. `en-US` or `es-US`.
    pub language: Option<String>,
    /// The voice, e.g. `Polly.Joanna`; Twilio's default when absent.
    pub voice: Option<String>,
}

impl Say {
    /// Says `text` in `language` with Twilio's default voice.
    pub fn new(text: impl Into<String>, language: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            language: Some(language.into()),
            voice: None,
        }
    }

    /// Uses `voice` (e.g. `Polly.Lupe-Neural`).
    #[must_use]
    pub fn with_voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }
}

/// `<Gather input="speech" action="…" method="POST" speechTimeout="auto" language="…" hints="…">`
/// with the prompt as nested `<Say>`s.
///
/// When the caller says nothing Twilio continues with the verb after the `<Gather>` (unless
/// `action_on_empty_result` is set), so always follow it with a verb that handles silence, such
/// as a [`Redirect`] to a reprompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    /// `speech`, `dtmf` or `dtmf speech`.
    pub input: String,
    /// Where Twilio posts the result (`SpeechResult`, `Confidence`, `Digits`).
    pub action: String,
    /// The method for `action`.
    pub method: Method,
    /// Seconds of silence that end the speech, or `auto`.
    pub speech_timeout: String,
    /// The language to recognise, e.g. `en-US`.
    pub language: String,
    /// Words and phrases to help recognition (the store's menu words).
    pub hints: Hints,
    /// Post to `action` even when nothing was recognised.
    pub action_on_empty_result: Option<bool>,
    /// Seconds to wait for the caller to start speaking (Twilio's default is 5).
    pub timeout: Option<u32>,
    /// With `dtmf` input: how many keys end the input.
    pub num_digits: Option<u32>,
    /// The prompt, spoken while listening.
    pub children: Vec<Say>,
}

impl Gather {
    /// Listens for speech in `language` and posts the result to `action`, ending on a natural
    /// pause (`speechTimeout="auto"`).
    pub fn speech(action: impl Into<String>, language: impl Into<String>) -> Self {
        Self {
            input: "speech".to_owned(),
            action: action.into(),
            method: Method::Post,
            speech_timeout: "auto".to_owned(),
            language: language.into(),
            hints: Hints::default(),
            action_on_empty_result: None,
            timeout: None,
            num_digits: None,
            children: Vec::new(),
        }
    }

    /// Adds recognition hints (cleaned as [`Hints::new`] cleans them).
    #[must_use]
    pub fn with_hints<I, S>(self, hints: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.with_cleaned_hints(&Hints::new(hints))
    }

    /// Adds hints cleaned already: when there were none, a pointer is all that is copied.
    #[must_use]
    pub fn with_cleaned_hints(mut self, hints: &Hints) -> Self {
        self.hints = if self.hints.is_empty() {
            hints.clone()
        } else {
            Hints::new(self.hints.iter().chain(hints.iter()))
        };
        self
    }

    /// Sets `actionOnEmptyResult`.
    #[must_use]
    pub fn with_action_on_empty_result(mut self, post_anyway: bool) -> Self {
        self.action_on_empty_result = Some(post_anyway);
        self
    }

    /// Sets `timeout` in seconds.
    #[must_use]
    pub fn with_timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Adds a `<Say>` to the prompt.
    #[must_use]
    pub fn say(mut self, say: Say) -> Self {
        self.children.push(say);
        self
    }
}

/// `<Redirect method="POST">url</Redirect>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    /// The URL of the next TwiML.
    pub url: String,
    /// The method for `url`.
    pub method: Method,
}

/// `<Enqueue workflowSid="…">queue</Enqueue>`: wait for a person, routed by TaskRouter.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue {
    /// The queue's name.
    pub queue_name: String,
    /// The TaskRouter workflow (`WW…`) that routes the call.
    pub workflow_sid: Option<String>,
    /// Where Twilio posts when the caller leaves the queue (`QueueResult`).
    pub action: Option<String>,
    /// TwiML to play while waiting (hold music).
    pub wait_url: Option<String>,
}

/// `<Dial>number</Dial>`: connect the caller to a number, e.g. the store's own line.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// The number to call (E.164), or `client:<identity>` for a Twilio Client
    /// (`<Dial><Client>identity</Client></Dial>`).
    pub number: String,
    /// The caller ID to present; the caller's own when absent.
    pub caller_id: Option<String>,
    /// Seconds to let it ring.
    pub timeout: Option<u32>,
    /// Where Twilio posts when the dialled call ends (`DialCallStatus`).
    pub action: Option<String>,
}

impl Dial {
    /// Dials `number` with Twilio's defaults.
    pub fn new(number: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            caller_id: None,
            timeout: None,
            action: None,
        }
    }
}

impl Response {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends any verb.
    #[must_use]
    pub fn push(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }

    /// The verbs so far.
    pub fn verbs(&self) -> &[Verb] {
        &self.verbs
    }

    /// Appends `<Say language="…" voice="…">text</Say>`.
    #[must_use]
    pub fn say(self, text: impl Into<String>, language: &str, voice: Option<&str>) -> Self {
        self.push(Verb::Say(Say {
            text: text.into(),
            language: Some(language.to_owned()),
            voice: voice.map(str::to_owned),
        }))
    }

    /// Appends a `<Gather>`.
    #[must_use]
    pub fn gather(self, gather: Gather) -> Self {
        self.push(Verb::Gather(gather))
    }

    /// Appends `<Redirect method="POST">url</Redirect>`.
    #[must_use]
    pub fn redirect(self, url: impl Into<String>) -> Self {
        self.push(Verb::Redirect(Redirect {
            url: url.into(),
            method: Method::Post,
        }))
    }

    /// Appends `<Enqueue workflowSid="…">queue_name</Enqueue>`.
    #[must_use]
    pub fn enqueue(self, queue_name: impl Into<String>, workflow_sid: Option<&str>) -> Self {
        self.push(Verb::Enqueue(Enqueue {
            queue_name: queue_name.into(),
            workflow_sid: workflow_sid.map(str::to_owned),
            action: None,
            wait_url: None,
        }))
    }

    /// Appends `<Dial>number</Dial>`.
    #[must_use]
    pub fn dial(self, number: impl Into<String>) -> Self {
        self.push(Verb::Dial(Dial::new(number)))
    }

    /// Appends `<Hangup/>`.
    #[must_use]
    pub fn hangup(self) -> Self {
        self.push(Verb::Hangup)
    }

    /// Appends `<Pause length="secs"/>`.
    #[must_use]
    pub fn pause(self, secs: u32) -> Self {
        self.push(Verb::Pause { length: secs })
    }

    /// The document: `<?xml version="1.0" encoding="UTF-8"?><Response>…</Response>`, without
    /// line breaks or indentation.
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new(Vec::with_capacity(256));
        self.write(&mut writer)
            .expect("writing XML into a Vec<u8> cannot fail");
        let bytes = writer.into_inner();
        // Every piece written came from a `&str`, so this is UTF-8; stay total anyway.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn write<W: io::Write>(&self, w: &mut Writer<W>) -> io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(BytesStart::new("Response")))?;
        for verb in &self.verbs {
            verb.write(w)?;
        }
        w.write_event(Event::End(BytesEnd::new("Response")))
    }
}

impl Verb {
    fn write<W: io::Write>(&self, w: &mut Writer<W>) -> io::Result<()> {
        match self {
            Self::Say(say) => say.write(w),
            Self::Gather(g) => {
                let mut attrs = vec![
                    ("input", g.input.clone()),
                    ("action", g.action.clone()),
                    ("method", g.method.as_str().to_owned()),
                    ("speechTimeout", g.speech_timeout.clone()),
                    ("language", g.language.clone()),
                ];
                if !g.hints.is_empty() {
                    attrs.push(("hints", g.hints.as_str().to_owned()));
                }
                if let Some(post) = g.action_on_empty_result {
                    attrs.push(("actionOnEmptyResult", post.to_string()));
                }
                if let Some(t) = g.timeout {
                    attrs.push(("timeout", t.to_string()));
                }
                if let Some(n) = g.num_digits {
                    attrs.push(("numDigits", n.to_string()));
                }
                let start = element("Gather", &attrs);
                if g.children.is_empty() {
                    return w.write_event(Event::Empty(start));
                }
                w.write_event(Event::Start(start))?;
                for say in &g.children {
                    say.write(w)?;
                }
                w.write_event(Event::End(BytesEnd::new("Gather")))
            }
            Self::Redirect(r) => write_text_element(
                w,
                "Redirect",
                &[("method", r.method.as_str().to_owned())],
                &r.url,
            ),
            Self::Enqueue(e) => {
                let attrs: Vec<(&str, String)> = [
                    ("workflowSid", &e.workflow_sid),
                    ("action", &e.action),
                    ("waitUrl", &e.wait_url),
                ]
                .into_iter()
                .filter_map(|(name, value)| value.clone().map(|v| (name, v)))
                .collect();
                write_text_element(w, "Enqueue", &attrs, &e.queue_name)
            }
            Self::Dial(d) => {
                let mut attrs = Vec::new();
                if let Some(c) = &d.caller_id {
                    attrs.push(("callerId", c.clone()));
                }
                if let Some(t) = d.timeout {
                    attrs.push(("timeout", t.to_string()));
                }
                if let Some(a) = &d.action {
                    attrs.push(("action", a.clone()));
                }
                // A Twilio Client identity (an agent's softphone) is a noun of its own.
                if let Some(identity) = d.number.strip_prefix("client:") {
                    w.write_event(Event::Start(element("Dial", &attrs)))?;
                    write_text_element(w, "Client", &[], identity)?;
                    return w.write_event(Event::End(BytesEnd::new("Dial")));
                }
                write_text_element(w, "Dial", &attrs, &d.number)
            }
            Self::Hangup => w.write_event(Event::Empty(BytesStart::new("Hangup"))),
            Self::Leave => w.write_event(Event::Empty(BytesStart::new("Leave"))),
            Self::Pause { length } => w.write_event(Event::Empty(element(
                "Pause",
                &[("length", length.to_string())],
            ))),
        }
    }
}

impl Say {
    fn write<W: io::Write>(&self, w: &mut Writer<W>) -> io::Result<()> {
        let mut attrs = Vec::new();
        if let Some(l) = &self.language {
            attrs.push(("language", l.clone()));
        }
        if let Some(v) = &self.voice {
            attrs.push(("voice", v.clone()));
        }
        write_text_element(w, "Say", &attrs, &self.text)
    }
}

/// A start tag whose attribute values quick-xml escapes.
fn element(name: &'static str, attrs: &[(&'static str, String)]) -> BytesStart<'static> {
    let mut start = BytesStart::new(name);
    for (key, value) in attrs {
        start.push_attribute((*key, xml_chars(value).as_str()));
    }
    start
}

fn write_text_element<W: io::Write>(
    w: &mut Writer<W>,
    name: &'static str,
    attrs: &[(&'static str, String)],
    text: &str,
) -> io::Result<()> {
    w.write_event(Event::Start(element(name, attrs)))?;
    w.write_event(Event::Text(BytesText::new(&xml_chars(text))))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// `text` without the characters XML 1.0 cannot represent even escaped: C0 controls other than
/// tab, line feed and carriage return, and U+FFFE/U+FFFF.
pub fn xml_chars(text: &str) -> String {
    text.chars().filter(|&c| is_xml_char(c)).collect()
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use quick_xml::Reader;
    use quick_xml::events::attributes::Attribute;

    const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

    fn doc(body: &str) -> String {
        format!("{DECL}<Response>{body}</Response>")
    }

    #[test]
    fn empty_response() {
        assert_eq!(Response::new().to_xml(), doc(""));
        assert_eq!(CONTENT_TYPE, "text/xml");
    }

    #[test]
    fn say() {
        assert_eq!(
            Response::new().say("Hello", "en-US", None).to_xml(),
            doc(r#"<Say language="en-US">Hello</Say>"#)
        );
        assert_eq!(
            Response::new()
                .say("Hola", "es-US", Some("Polly.Lupe"))
                .to_xml(),
            doc(r#"<Say language="es-US" voice="Polly.Lupe">Hola</Say>"#)
        );
        let no_language = Say {
            text: "Hi".to_owned(),
            language: None,
            voice: None,
        };
        assert_eq!(
            Response::new().push(Verb::Say(no_language)).to_xml(),
            doc("<Say>Hi</Say>")
        );
    }

    #[test]
    fn gather_followed_by_redirect() {
        let xml = Response::new()
            .gather(
                Gather::speech("/twilio/voice/turn?call=CA1&turn=2", "en-US")
                    .with_hints(["pepperoni", "Diet Coke", "garlic knots"])
                    .with_action_on_empty_result(false)
                    .say(Say::new("What can I get you?", "en-US")),
            )
            .redirect("/twilio/voice/turn?call=CA1&silence=1")
            .to_xml();
        assert_eq!(
            xml,
            doc(concat!(
                r#"<Gather input="speech" action="/twilio/voice/turn?call=CA1&amp;turn=2" method="POST" "#,
                r#"speechTimeout="auto" language="en-US" hints="pepperoni, Diet Coke, garlic knots" "#,
                r#"actionOnEmptyResult="false">"#,
                r#"<Say language="en-US">What can I get you?</Say></Gather>"#,
                r#"<Redirect method="POST">/twilio/voice/turn?call=CA1&amp;silence=1</Redirect>"#,
            ))
        );
    }

    #[test]
    fn gather_without_prompt_and_with_timeout() {
        let xml = Response::new()
            .gather(Gather::speech("/t", "es-US").with_timeout(3))
            .to_xml();
        assert_eq!(
            xml,
            doc(
                r#"<Gather input="speech" action="/t" method="POST" speechTimeout="auto" language="es-US" timeout="3"/>"#
            )
        );
    }

    #[test]
    fn hints_are_cleaned() {
        let g = Gather::speech("/t", "en-US")
            .with_hints(["pepperoni", " Pepperoni ", "salt, pepper", "", "  ", "a  b"])
            .with_hints([
                "x".repeat(MAX_HINT_CHARS + 1),
                "A B".to_owned(),
                "olive".to_owned(),
            ]);
        assert_eq!(g.hints.as_str(), "pepperoni, salt pepper, a b, olive");
        assert_eq!(
            g.hints.iter().collect::<Vec<_>>(),
            ["pepperoni", "salt pepper", "a b", "olive"]
        );
        let many = Gather::speech("/t", "en-US").with_hints((0..600).map(|i| format!("w{i}")));
        assert_eq!(many.hints.iter().count(), MAX_HINTS);
        // Hints made once are shared, not copied, by every Gather that takes them.
        let menu = Hints::new(["pepperoni", "olive"]);
        let g = Gather::speech("/t", "en-US").with_cleaned_hints(&menu);
        assert!(std::ptr::eq(g.hints.as_str(), menu.as_str()));
        assert!(Gather::speech("/t", "en-US").hints.is_empty());
    }

    #[test]
    fn enqueue_dial_hangup_pause() {
        assert_eq!(
            Response::new()
                .enqueue("call-center", Some("WW0123456789abcdef0123456789abcdef"))
                .to_xml(),
            doc(
                r#"<Enqueue workflowSid="WW0123456789abcdef0123456789abcdef">call-center</Enqueue>"#
            )
        );
        assert_eq!(
            Response::new().enqueue("support", None).to_xml(),
            doc("<Enqueue>support</Enqueue>")
        );
        assert_eq!(
            Response::new().dial("+15557654321").to_xml(),
            doc("<Dial>+15557654321</Dial>")
        );
        let dial = Dial {
            caller_id: Some("+15550001111".to_owned()),
            timeout: Some(20),
            action: Some("/twilio/voice/dialed".to_owned()),
            ..Dial::new("+15557654321")
        };
        assert_eq!(
            Response::new().push(Verb::Dial(dial)).to_xml(),
            doc(
                r#"<Dial callerId="+15550001111" timeout="20" action="/twilio/voice/dialed">+15557654321</Dial>"#
            )
        );
        assert_eq!(
            Response::new()
                .say("Goodbye!", "en-US", None)
                .pause(1)
                .hangup()
                .to_xml(),
            doc(r#"<Say language="en-US">Goodbye!</Say><Pause length="1"/><Hangup/>"#)
        );
        assert_eq!(
            Response::new().dial("client:agent_ana").to_xml(),
            doc(r#"<Dial><Client>agent_ana</Client></Dial>"#)
        );
        let enqueue = Enqueue {
            queue_name: "q".to_owned(),
            workflow_sid: None,
            action: Some("/a?x=1&y=2".to_owned()),
            wait_url: Some("/hold".to_owned()),
        };
        assert_eq!(
            Response::new().push(Verb::Enqueue(enqueue)).to_xml(),
            doc(r#"<Enqueue action="/a?x=1&amp;y=2" waitUrl="/hold">q</Enqueue>"#)
        );
    }

    #[test]
    fn escaping() {
        let xml = Response::new()
            .say(
                r#"Thanks for calling Tony's "Pizza & Subs" <downtown>"#,
                "en-US",
                None,
            )
            .gather(
                Gather::speech("/t?a=1&b='2'", "en-US").with_hints(["Tony's", "M&M \"cookie\""]),
            )
            .to_xml();
        assert_eq!(
            xml,
            doc(concat!(
                r#"<Say language="en-US">Thanks for calling Tony&apos;s &quot;Pizza &amp; Subs&quot; &lt;downtown&gt;</Say>"#,
                r#"<Gather input="speech" action="/t?a=1&amp;b=&apos;2&apos;" method="POST" speechTimeout="auto" "#,
                r#"language="en-US" hints="Tony&apos;s, M&amp;M &quot;cookie&quot;"/>"#,
            ))
        );
    }

    /// The same document as Twilio's Python library (twilio 9.13.0, `VoiceResponse`) writes it,
    /// up to attribute order, `'`/`"` escaping and `<Hangup />` spacing: the two are equal after
    /// XML canonicalisation (C14N). Twilio's output, for reference:
    /// `<Gather action="/twilio/voice/turn?call=CA1&amp;turn=2" actionOnEmptyResult="false"
    /// hints="pepperoni, Diet Coke, garlic knots" input="speech" language="en-US" method="POST"
    /// speechTimeout="auto"><Say language="en-US">What can I get you?</Say></Gather>…`
    #[test]
    fn equivalent_to_twilio_python_library() {
        let dial = Dial {
            caller_id: Some("+15550001111".to_owned()),
            timeout: Some(20),
            action: Some("/twilio/voice/dialed".to_owned()),
            ..Dial::new("+15557654321")
        };
        let xml = Response::new()
            .gather(
                Gather::speech("/twilio/voice/turn?call=CA1&turn=2", "en-US")
                    .with_hints(["pepperoni", "Diet Coke", "garlic knots"])
                    .with_action_on_empty_result(false)
                    .say(Say::new("What can I get you?", "en-US")),
            )
            .redirect("/twilio/voice/turn?call=CA1&silence=1")
            .say(
                r#"Thanks for calling Tony's "Pizza & Subs" <downtown>"#,
                "en-US",
                None,
            )
            .enqueue("call-center", Some("WW0123456789abcdef0123456789abcdef"))
            .push(Verb::Dial(dial))
            .pause(1)
            .hangup()
            .to_xml();
        assert_eq!(
            xml,
            doc(concat!(
                r#"<Gather input="speech" action="/twilio/voice/turn?call=CA1&amp;turn=2" method="POST" "#,
                r#"speechTimeout="auto" language="en-US" hints="pepperoni, Diet Coke, garlic knots" "#,
                r#"actionOnEmptyResult="false"><Say language="en-US">What can I get you?</Say></Gather>"#,
                r#"<Redirect method="POST">/twilio/voice/turn?call=CA1&amp;silence=1</Redirect>"#,
                r#"<Say language="en-US">Thanks for calling Tony&apos;s &quot;Pizza &amp; Subs&quot; &lt;downtown&gt;</Say>"#,
                r#"<Enqueue workflowSid="WW0123456789abcdef0123456789abcdef">call-center</Enqueue>"#,
                r#"<Dial callerId="+15550001111" timeout="20" action="/twilio/voice/dialed">+15557654321</Dial>"#,
                r#"<Pause length="1"/><Hangup/>"#,
            ))
        );
    }

    #[test]
    fn drops_characters_xml_cannot_carry() {
        let xml = Response::new()
            .say("a\u{0}b\u{7}c\u{1b}d\u{fffe}e\tf\ng", "en-US", None)
            .to_xml();
        assert_eq!(xml, doc("<Say language=\"en-US\">abcde\tf\ng</Say>"));
        // A carriage return is kept as a character reference so XML end-of-line handling
        // cannot turn it into a line feed.
        assert_eq!(
            Response::new().say("a\rb", "en-US", None).to_xml(),
            doc("<Say language=\"en-US\">a&#13;b</Say>")
        );
    }

    /// What an XML parser reads back: the text of every `<Say>` and the `action` of every
    /// `<Gather>`, in document order.
    fn read_back(xml: &str) -> (Vec<String>, Vec<String>) {
        let mut reader = Reader::from_str(xml);
        let (mut texts, mut actions) = (Vec::new(), Vec::new());
        let mut current: Option<String> = None;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == "Say" => current = Some(String::new()),
                Event::End(e) if e.name().as_ref() == "Say" => {
                    texts.extend(current.take());
                }
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "Gather" => {
                    let action: Attribute = e
                        .attributes()
                        .map(Result::unwrap)
                        .find(|a| a.key.as_ref() == "action")
                        .unwrap();
                    actions.push(
                        action
                            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                Event::Text(t) => {
                    if let Some(s) = current.as_mut() {
                        s.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(s) = current.as_mut() {
                        match r.resolve_char_ref().unwrap() {
                            Some(c) => s.push(c),
                            None => s.push_str(
                                quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                                    .unwrap(),
                            ),
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        (texts, actions)
    }

    proptest! {
        #[test]
        fn say_text_survives_write_then_read(text in any::<String>(), prompt in any::<String>()) {
            let xml = Response::new()
                .say(text.clone(), "en-US", None)
                .gather(Gather::speech("/t", "en-US").say(Say::new(prompt.clone(), "en-US")))
                .to_xml();
            let (texts, _) = read_back(&xml);
            prop_assert_eq!(texts, vec![xml_chars(&text), xml_chars(&prompt)]);
        }

        #[test]
        fn printable_text_survives_unchanged(text in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]*") {
            let xml = Response::new().say(text.clone(), "en-US", None).to_xml();
            let (texts, _) = read_back(&xml);
            prop_assert_eq!(texts, vec![text]);
        }

        #[test]
        fn action_url_survives_write_then_read(action in any::<String>()) {
            let xml = Response::new().gather(Gather::speech(action.clone(), "en-US")).to_xml();
            let (_, actions) = read_back(&xml);
            prop_assert_eq!(actions, vec![xml_chars(&action)]);
        }
    }
}
