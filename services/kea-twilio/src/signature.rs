//! `X-Twilio-Signature`: how Twilio signs each webhook, and how kea checks it.
//!
//! Twilio computes base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value,
//! sorted by name and then by value)), where the URL is exactly what Twilio requested, query
//! string included. [`validate_signature`] is what a webhook handler calls; [`compute_signature`]
//! is for tests and for tools that play Twilio (`kea call`, `kea simulate`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha1::Sha1;
use subtle::ConstantTimeEq as _;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Computes the signature Twilio sends for a request to `url` with form parameters `params`.
///
/// Parameters are sorted by name and, for a repeated name, by value (byte order, which for UTF-8
/// is Unicode code-point order, as in Twilio's helper libraries). `params` may be in any order.
///
/// ```
/// // The example from Twilio's documentation.
/// let params = [
///     ("CallSid", "CA1234567890ABCDE"),
///     ("Caller", "+12349013030"),
///     ("Digits", "1234"),
///     ("From", "+12349013030"),
///     ("To", "+18005551212"),
/// ]
/// .map(|(n, v)| (n.to_owned(), v.to_owned()));
/// let sig = kea_twilio::compute_signature(
///     "12345",
///     "https://mycompany.com/myapp.php?foo=1&bar=2",
///     &params,
/// );
/// assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
/// ```
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    BASE64.encode(mac(auth_token, url, sorted.into_iter()))
}

/// Whether `signature_header` (the `X-Twilio-Signature` value) is Twilio's signature of a request
/// to `url` with form parameters `params`, compared in constant time.
///
/// `url` is the public URL Twilio requested (`KEA_PUBLIC_URL` + path + query), not the address
/// the server listens on. Like Twilio's helper libraries, this also accepts the signature of the
/// same URL with the scheme's default port written out (`:443` for https, `:80` for http) when
/// `url` has none, or left out when `url` has it: Twilio is not consistent about it. Another
/// explicit port is never removed. Like Twilio's Python library, a parameter repeated with the
/// same value may also be counted once.
pub fn validate_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature_header: &str,
) -> bool {
    let Ok(expected) = BASE64.decode(signature_header.trim()) else {
        return false;
    };
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut deduped = sorted.clone();
    deduped.dedup();
    let param_lists: &[&[&(String, String)]] = if deduped.len() == sorted.len() {
        &[&sorted]
    } else {
        &[&sorted, &deduped]
    };

    let mut valid = false;
    for candidate in url_variants(url) {
        for list in param_lists {
            let computed = mac(auth_token, &candidate, list.iter().copied());
            // `ct_eq` on slices of different lengths is false without looking at the bytes.
            valid |= bool::from(computed.as_slice().ct_eq(&expected));
        }
    }
    valid
}

fn mac<'a>(
    auth_token: &str,
    url: &str,
    sorted_params: impl Iterator<Item = &'a (String, String)>,
) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC-SHA1 takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted_params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// `url` itself, then the same URL with its scheme's default port added (when it has no port)
/// or removed (when it has exactly the default port).
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // Credentials (`user:pass@`) come before the host and may contain `:`.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, host_port) = authority.split_at(host_start);
    // The port follows the last `:` unless that `:` is inside an IPv6 literal (`[::1]`).
    let port_colon = host_port
        .rfind(':')
        .filter(|&i| !host_port[i..].contains(']'));
    let other = match port_colon {
        None => format!("{host_port}:{default_port}"),
        Some(i) if &host_port[i + 1..] == default_port => host_port[..i].to_owned(),
        Some(_) => return variants,
    };
    variants.push(format!("{scheme}://{userinfo}{other}{tail}"));
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";

    /// Auth token, URL, parameters, expected signature.
    type Vector = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    /// Signatures computed with Twilio's Python helper library (twilio 9.13.0):
    /// `RequestValidator(token).compute_signature(url, params)`, params given as a multi-dict.
    #[test]
    fn matches_twilio_python_library() {
        let cases: &[Vector] = &[
            (
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &[
                    ("CallSid", "CA1234567890ABCDE"),
                    ("Caller", "+12349013030"),
                    ("Digits", "1234"),
                    ("From", "+12349013030"),
                    ("To", "+18005551212"),
                ],
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            ),
            (
                TOKEN,
                "https://kea.example.com/twilio/voice",
                &[
                    ("CallSid", "CA0123456789abcdef0123456789abcdef"),
                    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                    ("CallStatus", "ringing"),
                    ("Direction", "inbound"),
                    ("ApiVersion", "2010-04-01"),
                ],
                "rxMgei4Il+Gw+WVE7g+0VIB3eSo=",
            ),
            (
                TOKEN,
                "https://kea.example.com/twilio/voice/turn?store=42&turn=3",
                &[
                    ("CallSid", "CA0123456789abcdef0123456789abcdef"),
                    (
                        "SpeechResult",
                        "I'd like a large pepperoni pizza & two Cokes",
                    ),
                    ("Confidence", "0.92"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                ],
                "6PKFz09hY4hJvV0dM/w8BLZn7Sc=",
            ),
            (
                TOKEN,
                "https://kea.example.com/twilio/voice/turn?store=caf%C3%A9&lang=es-US",
                &[
                    ("CallSid", "CA1"),
                    (
                        "SpeechResult",
                        "quiero una pizza grande con jalapeños, ¿cuánto cuesta?",
                    ),
                    ("StoreName", "Café Ñandú 🍕"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                ],
                "vPaVMflR2OHO/N9RKGOrDBfNwX0=",
            ),
            (
                "tok'en",
                "https://kea.example.com/twilio/fallback",
                &[
                    ("CallSid", "CA2"),
                    ("Caller", "Tony's Pizza"),
                    ("Digits", ""),
                    ("ErrorCode", "11200"),
                    ("ErrorUrl", "https://kea.example.com/twilio/voice?x=1&y='2'"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                ],
                "Fj4R0jRF49ZU4AyV7+ODOkRAzNw=",
            ),
            (
                TOKEN,
                "https://kea.example.com/twilio/status",
                &[],
                "sXoGmJXl3NlsTc3z8HoFEh6pRyI=",
            ),
            (
                TOKEN,
                "https://kea.example.com:443/twilio/voice",
                &[
                    ("CallSid", "CA3"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                ],
                "9sBYUv6bj/pQcMaWbgLtCFDSrpQ=",
            ),
            (
                TOKEN,
                "http://127.0.0.1:80/twilio/voice",
                &[
                    ("CallSid", "CA3"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                ],
                "7BwukV/VoDcHZZt73Od7OWh6/Nc=",
            ),
            (
                TOKEN,
                "http://127.0.0.1/twilio/voice",
                &[
                    ("CallSid", "CA3"),
                    ("From", "+15551234567"),
                    ("To", "+15557654321"),
                ],
                "934D3bNeyW3cX7rRQO3fJrQ8AUQ=",
            ),
            (
                TOKEN,
                "https://kea.example.com/twilio/sms/status",
                &[
                    ("MessageSid", "SM1"),
                    ("MessageStatus", "delivered"),
                    ("Hints", "b"),
                    ("Hints", "a"),
                    ("Hints", "c"),
                    ("A", "z"),
                ],
                "Zauw7szshN7c/T2g+ymjHLSf6iY=",
            ),
        ];
        for (token, url, pairs, expected) in cases {
            let p = params(pairs);
            assert_eq!(compute_signature(token, url, &p), *expected, "{url}");
            assert!(validate_signature(token, url, &p, expected), "{url}");
            // Order of the parameters in the body does not matter.
            let reversed: Vec<_> = p.iter().rev().cloned().collect();
            assert!(validate_signature(token, url, &reversed, expected), "{url}");
        }
    }

    #[test]
    fn accepts_url_with_or_without_default_port() {
        let p = params(&[
            ("CallSid", "CA3"),
            ("From", "+15551234567"),
            ("To", "+15557654321"),
        ]);
        // Signed with :443, checked against the URL without it, and the other way round.
        let with_port = "9sBYUv6bj/pQcMaWbgLtCFDSrpQ=";
        assert!(validate_signature(
            TOKEN,
            "https://kea.example.com/twilio/voice",
            &p,
            with_port
        ));
        let without = compute_signature(TOKEN, "https://kea.example.com/twilio/voice", &p);
        assert!(validate_signature(
            TOKEN,
            "https://kea.example.com:443/twilio/voice",
            &p,
            &without
        ));
        // http and :80.
        assert!(validate_signature(
            TOKEN,
            "http://127.0.0.1/twilio/voice",
            &p,
            "7BwukV/VoDcHZZt73Od7OWh6/Nc="
        ));
        assert!(validate_signature(
            TOKEN,
            "http://127.0.0.1:80/twilio/voice",
            &p,
            "934D3bNeyW3cX7rRQO3fJrQ8AUQ="
        ));
        // A non-default port is part of the URL: the signature without it does not match.
        assert!(!validate_signature(
            TOKEN,
            "https://kea.example.com:8443/twilio/voice",
            &p,
            &without
        ));
        // :443 on http is not a default port.
        let http = compute_signature(TOKEN, "http://kea.example.com/twilio/voice", &p);
        assert!(!validate_signature(
            TOKEN,
            "http://kea.example.com:443/twilio/voice",
            &p,
            &http
        ));
    }

    #[test]
    fn url_variants_cover_the_default_port_only() {
        let cases: &[(&str, &[&str])] = &[
            (
                "https://a.b/x?y=1",
                &["https://a.b/x?y=1", "https://a.b:443/x?y=1"],
            ),
            ("https://a.b:443/x", &["https://a.b:443/x", "https://a.b/x"]),
            ("https://a.b", &["https://a.b", "https://a.b:443"]),
            (
                "http://a.b?q=:80",
                &["http://a.b?q=:80", "http://a.b:80?q=:80"],
            ),
            (
                "http://u:p@a.b:80/x",
                &["http://u:p@a.b:80/x", "http://u:p@a.b/x"],
            ),
            ("http://[::1]/x", &["http://[::1]/x", "http://[::1]:80/x"]),
            (
                "http://[::1]:80/x",
                &["http://[::1]:80/x", "http://[::1]/x"],
            ),
            ("https://a.b:8443/x", &["https://a.b:8443/x"]),
            ("ftp://a.b/x", &["ftp://a.b/x"]),
            ("not a url", &["not a url"]),
        ];
        for (url, expected) in cases {
            assert_eq!(url_variants(url), *expected, "{url}");
        }
    }

    #[test]
    fn rejects_wrong_signatures() {
        let url = "https://kea.example.com/twilio/voice";
        let p = params(&[
            ("CallSid", "CA3"),
            ("From", "+15551234567"),
            ("To", "+15557654321"),
        ]);
        let good = compute_signature(TOKEN, url, &p);
        assert!(validate_signature(TOKEN, url, &p, &good));
        assert!(!validate_signature(TOKEN, url, &p, ""));
        assert!(!validate_signature(TOKEN, url, &p, "not base64!"));
        assert!(!validate_signature(TOKEN, url, &p, "AAAA"));
        assert!(!validate_signature("other-token", url, &p, &good));
        assert!(!validate_signature(TOKEN, &format!("{url}?x=1"), &p, &good));
        let mut tampered = p.clone();
        tampered[2].1 = "+15550000000".to_owned();
        assert!(!validate_signature(TOKEN, url, &tampered, &good));
        let mut extra = p.clone();
        extra.push(("Digits".to_owned(), "1".to_owned()));
        assert!(!validate_signature(TOKEN, url, &extra, &good));
        // Moving a value to another name changes the signed string.
        let swapped = params(&[
            ("CallSid", "CA3+15551234567"),
            ("From", ""),
            ("To", "+15557654321"),
        ]);
        assert_ne!(compute_signature(TOKEN, url, &swapped), good);
    }

    #[test]
    fn repeated_identical_pair_is_accepted_both_ways() {
        let url = "https://kea.example.com/twilio/voice";
        let twice = params(&[("CallSid", "CA3"), ("Hints", "a"), ("Hints", "a")]);
        let once = params(&[("CallSid", "CA3"), ("Hints", "a")]);
        let sig_twice = compute_signature(TOKEN, url, &twice);
        let sig_once = compute_signature(TOKEN, url, &once);
        assert_ne!(sig_twice, sig_once);
        assert!(validate_signature(TOKEN, url, &twice, &sig_twice));
        assert!(validate_signature(TOKEN, url, &twice, &sig_once));
        assert!(!validate_signature(TOKEN, url, &once, &sig_twice));
    }
}
