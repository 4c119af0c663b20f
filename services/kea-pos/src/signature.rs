//! `X-Kea-Signature`: how kea signs each webhook, and the check merchants run.
//!
//! The signature is `sha256=` followed by the lowercase hex HMAC-SHA256 of the raw request body,
//! keyed with the store's webhook secret. The body carries the same `timestamp` as the
//! `X-Kea-Timestamp` header, so a receiver that checks both refuses a replayed request: the header
//! alone is not signed, the body is.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Kea-Signature";
/// The header that carries the unix time (seconds) at which kea signed the request.
pub const TIMESTAMP_HEADER: &str = "X-Kea-Timestamp";
/// The header that carries the order id, the same on every retry of the same order.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// How far a receiver should let `X-Kea-Timestamp` be from its own clock, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

const PREFIX: &str = "sha256=";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed), so this never fails; the
    // fallback keeps the function total without a panic path.
    let mut mac =
        HmacSha256::new_from_slice(secret).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    mac.update(body);
    mac
}

/// The `X-Kea-Signature` value for `body`: `sha256=<hex HMAC-SHA256(secret, body)>`.
///
/// ```
/// assert_eq!(
///     kea_pos::sign(b"key", b"The quick brown fox jumps over the lazy dog"),
///     "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
/// );
/// ```
#[must_use]
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let tag = mac(secret, body).finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + tag.len() * 2);
    out.push_str(PREFIX);
    for byte in tag.iter() {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0x0f));
    }
    out
}

/// Whether a webhook request is genuine and fresh: the merchant-side check.
///
/// - `header` is the `X-Kea-Signature` value and must be kea's signature of the raw `body`
///   (compared in constant time; hex digits in either case);
/// - `timestamp_header` is the `X-Kea-Timestamp` value and must be within `tolerance_secs` of
///   `now` (unix seconds, either direction);
/// - the body's own `"timestamp"` must equal `timestamp_header`: the body is what is signed, so
///   this is what stops an old body being replayed under a fresh header.
///
/// Any malformed input (no `sha256=` prefix, bad hex, a timestamp that is not an integer, a body
/// that is not a JSON object with an integer `timestamp`) is `false`, never a panic.
#[must_use]
pub fn verify(
    secret: &[u8],
    body: &[u8],
    header: &str,
    timestamp_header: &str,
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let Some(expected) = header.trim().strip_prefix(PREFIX).and_then(decode_hex) else {
        return false;
    };
    // `verify_slice` compares in constant time; a tag of the wrong length is refused outright.
    if mac(secret, body).verify_slice(&expected).is_err() {
        return false;
    }
    let Ok(stamp) = timestamp_header.trim().parse::<i64>() else {
        return false;
    };
    if now.abs_diff(stamp) > tolerance_secs.unsigned_abs() {
        return false;
    }
    body_timestamp(body) == Some(stamp)
}

fn body_timestamp(body: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Stamped {
        timestamp: i64,
    }
    serde_json::from_slice::<Stamped>(body)
        .ok()
        .map(|s| s.timestamp)
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((value(pair[0])? << 4) | value(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"event":"order.confirmed","timestamp":1764150000}"#;
    const NOW: i64 = 1_764_150_000;

    /// Vectors from Python: `hmac.new(key, msg, hashlib.sha256).hexdigest()`.
    #[test]
    fn known_vectors() {
        let cases: &[(&[u8], &[u8], &str)] = &[
            (
                SECRET,
                BODY,
                "ca1974d85531060b1a37d5b1a920e34c72035eea12e02fd3e31221e86098c5c4",
            ),
            (
                b"key",
                b"The quick brown fox jumps over the lazy dog",
                "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
            ),
            (
                b"",
                b"",
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
            ),
        ];
        for &(secret, body, hex) in cases {
            assert_eq!(sign(secret, body), format!("sha256={hex}"));
        }
    }

    #[test]
    fn a_long_key_signs_and_verifies() {
        let key = [7_u8; 200];
        let sig = sign(&key, BODY);
        assert!(verify(&key, BODY, &sig, "1764150000", NOW, 300));
    }

    #[test]
    fn verifies_a_fresh_genuine_request() {
        let sig = sign(SECRET, BODY);
        assert!(verify(SECRET, BODY, &sig, "1764150000", NOW, 300));
        assert!(verify(
            SECRET,
            BODY,
            &sig.to_uppercase().replace("SHA256=", "sha256="),
            "1764150000",
            NOW,
            300
        ));
        assert!(verify(
            SECRET,
            BODY,
            &format!(" {sig} "),
            " 1764150000 ",
            NOW,
            300
        ));
    }

    #[test]
    fn timestamp_tolerance() {
        let sig = sign(SECRET, BODY);
        for (now, ok) in [
            (NOW + 300, true),
            (NOW - 300, true),
            (NOW + 301, false),
            (NOW - 301, false),
            (NOW + 86_400, false),
        ] {
            assert_eq!(
                verify(SECRET, BODY, &sig, "1764150000", now, 300),
                ok,
                "now = {now}"
            );
        }
        // A negative tolerance counts as its absolute value rather than refusing everything.
        assert!(verify(SECRET, BODY, &sig, "1764150000", NOW + 10, -60));
        // Extreme clocks and tolerances neither overflow nor pass by accident.
        assert!(!verify(SECRET, BODY, &sig, "1764150000", i64::MIN, 300));
        assert!(!verify(
            SECRET,
            BODY,
            &sig,
            "1764150000",
            i64::MIN,
            i64::MAX
        ));
        assert!(verify(SECRET, BODY, &sig, "1764150000", i64::MAX, i64::MAX));
    }

    #[test]
    fn refuses_tampering() {
        let sig = sign(SECRET, BODY);
        // Body changed by one byte.
        let tampered = br#"{"event":"order.confirmed","timestamp":1764150001}"#;
        assert!(!verify(SECRET, tampered, &sig, "1764150001", NOW, 300));
        // Another secret.
        assert!(!verify(b"whsec_other", BODY, &sig, "1764150000", NOW, 300));
        // Header timestamp moved to look fresh while the signed body is old (a replay).
        assert!(!verify(SECRET, BODY, &sig, "1764153600", NOW + 3600, 300));
        // Truncated, missing prefix, bad hex, wrong algorithm, empty.
        for bad in [
            &sig[..sig.len() - 2],
            sig.trim_start_matches("sha256="),
            "sha256=zz",
            &sig.replace("sha256=", "sha1="),
            "",
            "sha256=",
        ] {
            assert!(
                !verify(SECRET, BODY, bad, "1764150000", NOW, 300),
                "{bad:?}"
            );
        }
        // Malformed timestamp header.
        for bad in ["", "soon", "1764150000.0", "-"] {
            assert!(!verify(SECRET, BODY, &sig, bad, NOW, 300), "{bad:?}");
        }
    }

    #[test]
    fn body_needs_its_own_timestamp() {
        for body in [
            &b"not json"[..],
            br#"{"event":"order.confirmed"}"#,
            br#"{"timestamp":"1764150000"}"#,
            br"[]",
        ] {
            let sig = sign(SECRET, body);
            assert!(!verify(SECRET, body, &sig, "1764150000", NOW, 300));
        }
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(decode_hex("00ff7Fa0"), Some(vec![0, 255, 127, 160]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("g0"), None);
        assert_eq!(decode_hex(""), Some(vec![]));
    }
}
