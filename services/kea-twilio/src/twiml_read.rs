//! Reading TwiML back into verbs, as Twilio does: what `kea call` and `kea simulate` need to play
//! the Twilio side of a call, and what the round-trip tests check the writer against.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::TwilioError;
use crate::twiml::{Dial, Enqueue, Gather, Hints, Method, Redirect, Response, Say, Verb};

fn bad(reason: impl Into<String>) -> TwilioError {
    TwilioError::BadTwiml {
        reason: reason.into(),
    }
}

/// Parses a TwiML document into its verbs. Unknown verbs and malformed XML are errors naming what
/// was wrong; unknown attributes are ignored (Twilio's own behaviour).
pub fn parse(xml: &str) -> Result<Response, TwilioError> {
    let mut reader = Reader::from_str(xml);
    let mut doc = Response::new();
    let mut in_response = false;
    loop {
        match reader
            .read_event()
            .map_err(|e| bad(format!("not XML: {e}")))?
        {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Start(e) if !in_response => {
                if e.name().as_ref() != "Response" {
                    return Err(bad(format!(
                        "the root element is <{}>, not <Response>",
                        name_of(&e)
                    )));
                }
                in_response = true;
            }
            Event::Empty(e) if !in_response => {
                if e.name().as_ref() != "Response" {
                    return Err(bad(format!(
                        "the root element is <{}>, not <Response>",
                        name_of(&e)
                    )));
                }
                return Ok(doc);
            }
            Event::Start(e) => doc = doc.push(verb(&mut reader, &e, false)?),
            Event::Empty(e) => doc = doc.push(verb(&mut reader, &e, true)?),
            Event::End(_) => return Ok(doc),
            Event::Text(t) if t.xml10_content().trim().is_empty() => {}
            Event::Text(_) if !in_response => {
                return Err(bad("not a TwiML document: text outside <Response>"));
            }
            Event::Eof => return Err(bad("the document ends before </Response>")),
            other => return Err(bad(format!("unexpected content in <Response>: {other:?}"))),
        }
    }
}

fn name_of(e: &BytesStart<'_>) -> String {
    e.name().as_ref().to_owned()
}

fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, TwilioError> {
    for a in e.attributes() {
        let a = a.map_err(|err| bad(format!("bad attribute on <{}>: {err}", name_of(e))))?;
        if a.key.as_ref() == key {
            let value = a
                .normalized_value(XmlVersion::Explicit1_0)
                .map_err(|err| bad(format!("bad value of `{key}` on <{}>: {err}", name_of(e))))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn method(e: &BytesStart<'_>) -> Result<Method, TwilioError> {
    Ok(
        match attr(e, "method")?
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("GET") => Method::Get,
            _ => Method::Post,
        },
    )
}

fn number<T: std::str::FromStr>(e: &BytesStart<'_>, key: &str) -> Result<Option<T>, TwilioError> {
    attr(e, key)?
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|_| bad(format!("`{key}` on <{}> is not a number: {v}", name_of(e))))
        })
        .transpose()
}

/// The text inside the element just opened, up to its end tag, with entities resolved.
fn text(reader: &mut Reader<&[u8]>, element: &str) -> Result<String, TwilioError> {
    let mut out = String::new();
    loop {
        match reader
            .read_event()
            .map_err(|e| bad(format!("not XML inside <{element}>: {e}")))?
        {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::CData(c) => out.push_str(c.as_ref()),
            Event::GeneralRef(r) => match r
                .resolve_char_ref()
                .map_err(|e| bad(format!("bad reference: {e}")))?
            {
                Some(c) => out.push(c),
                None => {
                    let name = r.xml10_content();
                    let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| bad(format!("unknown entity &{name};")))?;
                    out.push_str(resolved);
                }
            },
            Event::End(_) => return Ok(out),
            Event::Eof => return Err(bad(format!("<{element}> is never closed"))),
            Event::Comment(_) => {}
            other => return Err(bad(format!("unexpected content in <{element}>: {other:?}"))),
        }
    }
}

fn say(reader: &mut Reader<&[u8]>, e: &BytesStart<'_>, empty: bool) -> Result<Say, TwilioError> {
    Ok(Say {
        text: if empty {
            String::new()
        } else {
            text(reader, "Say")?
        },
        language: attr(e, "language")?,
        voice: attr(e, "voice")?,
    })
}

fn verb(reader: &mut Reader<&[u8]>, e: &BytesStart<'_>, empty: bool) -> Result<Verb, TwilioError> {
    let name = name_of(e);
    let body = |reader: &mut Reader<&[u8]>| {
        if empty {
            Ok(String::new())
        } else {
            text(reader, &name)
        }
    };
    Ok(match name.as_str() {
        "Say" => Verb::Say(say(reader, e, empty)?),
        "Gather" => {
            let mut gather = Gather {
                input: attr(e, "input")?.unwrap_or_else(|| "dtmf".to_owned()),
                action: attr(e, "action")?.unwrap_or_default(),
                method: method(e)?,
                speech_timeout: attr(e, "speechTimeout")?.unwrap_or_default(),
                language: attr(e, "language")?.unwrap_or_else(|| "en-US".to_owned()),
                hints: attr(e, "hints")?
                    .map(|h| Hints::new(h.split(',')))
                    .unwrap_or_default(),
                action_on_empty_result: attr(e, "actionOnEmptyResult")?
                    .map(|v| v.eq_ignore_ascii_case("true")),
                timeout: number(e, "timeout")?,
                num_digits: number(e, "numDigits")?,
                children: Vec::new(),
            };
            if !empty {
                loop {
                    match reader
                        .read_event()
                        .map_err(|err| bad(format!("not XML inside <Gather>: {err}")))?
                    {
                        Event::Start(c) if c.name().as_ref() == "Say" => {
                            gather.children.push(say(reader, &c, false)?)
                        }
                        Event::Empty(c) if c.name().as_ref() == "Say" => {
                            gather.children.push(say(reader, &c, true)?)
                        }
                        Event::Start(c) | Event::Empty(c) if c.name().as_ref() == "Pause" => {}
                        Event::End(_) => break,
                        Event::Comment(_) => {}
                        Event::Text(t) if t.xml10_content().trim().is_empty() => {}
                        Event::Eof => return Err(bad("<Gather> is never closed")),
                        other => {
                            return Err(bad(format!("unexpected content in <Gather>: {other:?}")));
                        }
                    }
                }
            }
            Verb::Gather(gather)
        }
        "Redirect" => Verb::Redirect(Redirect {
            method: method(e)?,
            url: body(reader)?.trim().to_owned(),
        }),
        "Enqueue" => Verb::Enqueue(Enqueue {
            workflow_sid: attr(e, "workflowSid")?,
            action: attr(e, "action")?,
            wait_url: attr(e, "waitUrl")?,
            queue_name: body(reader)?.trim().to_owned(),
        }),
        "Dial" => Verb::Dial(Dial {
            caller_id: attr(e, "callerId")?,
            timeout: number(e, "timeout")?,
            action: attr(e, "action")?,
            number: body(reader)?.trim().to_owned(),
        }),
        "Hangup" => {
            body(reader)?;
            Verb::Hangup
        }
        "Leave" => {
            body(reader)?;
            Verb::Leave
        }
        "Pause" => {
            let length = number(e, "length")?.unwrap_or(1);
            body(reader)?;
            Verb::Pause { length }
        }
        other => return Err(bad(format!("unknown TwiML verb <{other}>"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_reads_back_as_written() {
        let doc = Response::new()
            .say("Welcome to Tony's & Sons <pizza>", "en-US", Some("alice"))
            .gather(
                Gather::speech("https://kea.example.com/twilio/voice/turn?n=1&x=2", "es-US")
                    .with_hints(["pepperoni", "diet coke"])
                    .with_timeout(5)
                    .say(Say::new("¿Qué le gustaría?", "es-US")),
            )
            .redirect("https://kea.example.com/twilio/voice/turn?n=1")
            .enqueue("kea-agents", Some("WW0123"))
            .dial("+15550100001")
            .pause(2)
            .hangup();
        let back = parse(&doc.to_xml());
        assert_eq!(back.as_ref().ok(), Some(&doc), "{back:?}");
    }

    #[test]
    fn bad_documents_are_named() {
        for (xml, words) in [
            ("<Foo/>", "root element is <Foo>"),
            (
                "<Response><Play>x</Play></Response>",
                "unknown TwiML verb <Play>",
            ),
            ("<Response><Say>hi", "never closed"),
            ("not xml at all", "text outside <Response>"),
            ("<Response>", "ends before"),
            ("<Response><Pause length=\"x\"/></Response>", "not a number"),
        ] {
            let err = parse(xml).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(words), "{xml}: {err}");
        }
    }

    #[test]
    fn an_empty_response_is_empty() {
        assert_eq!(parse("<Response/>").ok(), Some(Response::new()));
        assert_eq!(
            parse("<?xml version=\"1.0\"?><Response></Response>").ok(),
            Some(Response::new())
        );
    }
}
