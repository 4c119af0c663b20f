//! `Authorization: Bearer <JWT>` → the database role and claims a request runs with.
//!
//! HS256 with the server's secret; `exp` and `nbf` are checked when present, with 30 s leeway (as
//! PostgREST, `exp` is not required). The `role` claim picks one of kea's roles; no token means
//! `anon`. What each role may read is decided by PostgreSQL (grants and row-level security), not
//! here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderMap, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::error::PgrstError;

/// Seconds of clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;

/// Who a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    /// The PostgreSQL role (`kea_service`, `kea_merchant`, `kea_agent`, `kea_anon`).
    pub db_role: &'static str,
    /// The JWT claims as JSON, for `request.jwt.claims` (shared with the JWT cache).
    pub claims_json: Arc<str>,
    /// Whether a valid token was presented (decides 401 or 403 for 42501).
    pub authenticated: bool,
}

/// Maps a `role` claim to kea's database role.
fn db_role(claim: &str) -> Option<&'static str> {
    match claim {
        "service" => Some("kea_service"),
        "merchant" => Some("kea_merchant"),
        "agent" => Some("kea_agent"),
        "anon" => Some("kea_anon"),
        _ => None,
    }
}

/// Verifies the request's bearer token, if any, with `secret` (no cache: see [`JwtCache`]);
/// the server goes through the cache, the tests through this.
#[cfg(test)]
pub fn authenticate(headers: &HeaderMap, secret: Option<&str>) -> Result<AuthContext, PgrstError> {
    let secret = secret.ok_or_else(PgrstError::no_jwt_secret)?;
    match bearer_token(headers)? {
        None => Ok(anonymous()),
        Some(token) => verify(token, secret).map(|(auth, _)| auth),
    }
}

/// Who a request without a token is.
fn anonymous() -> AuthContext {
    AuthContext {
        db_role: "kea_anon",
        claims_json: Arc::from(r#"{"role":"anon"}"#),
        authenticated: false,
    }
}

/// The token of `Authorization: Bearer <token>`, or `None` without the header.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, PgrstError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| PgrstError::jwt("Invalid Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| PgrstError::jwt("Authorization header is not a Bearer token"))?;
    if token.is_empty() {
        return Err(PgrstError::jwt("Empty JWT is sent in Authorization header"));
    }
    Ok(Some(token))
}

/// When a verified token may be used: its `exp` and `nbf` claims, in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    exp: Option<f64>,
    nbf: Option<f64>,
}

impl Window {
    /// Whether the token is usable at `now` (seconds since the epoch), with the leeway, by the
    /// same rule as the full check: expired when `exp < now - leeway`, not yet valid when
    /// `nbf > now + leeway`.
    fn admits(&self, now: f64) -> bool {
        let leeway = LEEWAY_SECONDS as f64;
        self.exp.is_none_or(|exp| exp >= now - leeway)
            && self.nbf.is_none_or(|nbf| nbf <= now + leeway)
    }
}

/// Checks `token`'s signature and time claims with `secret`, and maps its role.
fn verify(token: &str, secret: &str) -> Result<(AuthContext, Window), PgrstError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        PgrstError::jwt(match e.kind() {
            ErrorKind::ExpiredSignature => "JWT expired",
            ErrorKind::ImmatureSignature => "JWT not yet valid",
            ErrorKind::InvalidSignature => "JWT cryptographic operation failed",
            ErrorKind::InvalidAlgorithm => "Wrong or unsupported encoding algorithm",
            _ => "JWT could not be decoded",
        })
    })?;
    let claims = data.claims;
    let role = match claims.get("role") {
        None => "kea_anon",
        Some(serde_json::Value::String(r)) => db_role(r).ok_or_else(|| {
            PgrstError::new(
                axum::http::StatusCode::FORBIDDEN,
                "42501",
                format!("permission denied to set role \"{r}\""),
            )
        })?,
        Some(_) => return Err(PgrstError::jwt("The JWT 'role' claim must be a string")),
    };
    let window = Window {
        exp: claims.get("exp").and_then(serde_json::Value::as_f64),
        nbf: claims.get("nbf").and_then(serde_json::Value::as_f64),
    };
    let claims_json = serde_json::to_string(&claims).map_err(|_| PgrstError::internal())?;
    Ok((
        AuthContext {
            db_role: role,
            claims_json: Arc::from(claims_json),
            authenticated: true,
        },
        window,
    ))
}

/// How many verified tokens a server remembers; past this, the expired ones are dropped, and if
/// that frees nothing, all of them (a client that sends a new token per request gains nothing
/// from a cache, and must not make it grow).
const JWT_CACHE_CAPACITY: usize = 4096;

/// Tokens already verified, with what they verified to, as PostgREST's JWT cache: a client sends
/// the same token on every request until it renews it, so the signature check and the two JSON
/// parses are paid once per token, not per request.
///
/// Safe because the key is the whole token, signature included (another token, even one that
/// differs only in its claims, is verified afresh), the secret is the server's for its lifetime,
/// and `exp`/`nbf` are checked again on every use (a token that has expired since is verified
/// afresh, which answers "JWT expired"). Only successes are kept.
#[derive(Debug, Default)]
pub struct JwtCache {
    verified: Mutex<HashMap<Box<str>, (AuthContext, Window)>>,
}

impl JwtCache {
    /// [`authenticate`], with tokens seen before answered from the cache.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        secret: Option<&str>,
    ) -> Result<AuthContext, PgrstError> {
        let secret = secret.ok_or_else(PgrstError::no_jwt_secret)?;
        let Some(token) = bearer_token(headers)? else {
            return Ok(anonymous());
        };
        let now = unix_now();
        if let Some((auth, window)) = self.lock().get(token)
            && window.admits(now)
        {
            return Ok(auth.clone());
        }
        let (auth, window) = verify(token, secret)?;
        let mut verified = self.lock();
        if verified.len() >= JWT_CACHE_CAPACITY {
            verified.retain(|_, (_, w)| w.admits(now));
            if verified.len() >= JWT_CACHE_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(token.into(), (auth.clone(), window));
        Ok(auth)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, (AuthContext, Window)>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whole seconds since the Unix epoch, as the full check counts them (0 if the clock is before
/// the epoch).
fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as f64)
        .unwrap_or(0.0)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const SECRET: &str = "test-secret-that-is-long-enough-32b";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn auth(value: Option<&str>) -> Result<AuthContext, PgrstError> {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
        }
        authenticate(&h, Some(SECRET))
    }

    #[test]
    fn roles_and_claims() {
        let t = token(
            serde_json::json!({"role": "merchant", "merchant_id": "m1", "exp": now() + 60}),
            SECRET,
        );
        let a = auth(Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(a.db_role, "kea_merchant");
        assert!(a.claims_json.contains("\"merchant_id\":\"m1\""));
        assert!(a.authenticated);
        assert_eq!(auth(None).unwrap().db_role, "kea_anon");
        // No exp is accepted, as PostgREST does.
        let t = token(serde_json::json!({"role": "service"}), SECRET);
        assert_eq!(
            auth(Some(&format!("Bearer {t}"))).unwrap().db_role,
            "kea_service"
        );
        let t = token(serde_json::json!({"role": "postgres"}), SECRET);
        assert_eq!(
            auth(Some(&format!("Bearer {t}")))
                .unwrap_err()
                .status
                .as_u16(),
            403
        );
    }

    #[test]
    fn leeway_is_thirty_seconds() {
        let ok = token(
            serde_json::json!({"role": "service", "exp": now() - 20}),
            SECRET,
        );
        assert!(auth(Some(&format!("Bearer {ok}"))).is_ok());
        let expired = token(
            serde_json::json!({"role": "service", "exp": now() - 40}),
            SECRET,
        );
        let e = auth(Some(&format!("Bearer {expired}"))).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.status.as_u16(), e.message.as_str()),
            ("PGRST301", 401, "JWT expired")
        );
        let early = token(
            serde_json::json!({"role": "service", "nbf": now() + 60}),
            SECRET,
        );
        assert_eq!(
            auth(Some(&format!("Bearer {early}"))).unwrap_err().code,
            "PGRST301"
        );
        let soon = token(
            serde_json::json!({"role": "service", "nbf": now() + 20}),
            SECRET,
        );
        assert!(auth(Some(&format!("Bearer {soon}"))).is_ok());
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let other = token(
            serde_json::json!({"role": "service"}),
            "another-secret-another-secret-xx",
        );
        assert_eq!(
            auth(Some(&format!("Bearer {other}"))).unwrap_err().code,
            "PGRST301"
        );
        let t = token(
            serde_json::json!({"role": "merchant", "merchant_id": "a"}),
            SECRET,
        );
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = base64_url(r#"{"role":"service"}"#);
        parts[1] = &forged;
        assert_eq!(
            auth(Some(&format!("Bearer {}", parts.join("."))))
                .unwrap_err()
                .code,
            "PGRST301"
        );
        for bad in ["Bearer", "Bearer x.y.z", "Basic abc", "Bearer ..."] {
            assert_eq!(auth(Some(bad)).unwrap_err().code, "PGRST301", "{bad}");
        }
        // alg=none is not HS256.
        let none = format!(
            "{}.{}.",
            base64_url(r#"{"alg":"none","typ":"JWT"}"#),
            base64_url(r#"{"role":"service"}"#)
        );
        assert_eq!(
            auth(Some(&format!("Bearer {none}"))).unwrap_err().code,
            "PGRST301"
        );
        assert_eq!(
            authenticate(&HeaderMap::new(), None).unwrap_err().code,
            "PGRST300"
        );
    }

    fn cached(cache: &JwtCache, value: &str) -> Result<AuthContext, PgrstError> {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        cache.authenticate(&h, Some(SECRET))
    }

    #[test]
    fn the_cache_answers_as_the_full_check_does() {
        let cache = JwtCache::default();
        let t = token(
            serde_json::json!({"role": "merchant", "merchant_id": "m1", "exp": now() + 60}),
            SECRET,
        );
        let first = cached(&cache, &format!("Bearer {t}")).unwrap();
        assert_eq!(first, auth(Some(&format!("Bearer {t}"))).unwrap());
        assert_eq!(cached(&cache, &format!("Bearer {t}")).unwrap(), first);
        assert_eq!(cache.lock().len(), 1);
        // Another signature over the same claims is verified afresh, and refused.
        let mut forged = t.clone();
        forged.pop();
        forged.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            cached(&cache, &format!("Bearer {forged}"))
                .unwrap_err()
                .code,
            "PGRST301"
        );
        // Refusals are not kept; no token is anonymous.
        assert_eq!(cache.lock().len(), 1);
        let mut anon = HeaderMap::new();
        anon.remove(header::AUTHORIZATION);
        assert_eq!(
            cache.authenticate(&anon, Some(SECRET)).unwrap().db_role,
            "kea_anon"
        );
        assert_eq!(
            cache.authenticate(&anon, None).unwrap_err().code,
            "PGRST300"
        );
    }

    #[test]
    fn a_cached_entry_past_its_window_is_not_used() {
        let cache = JwtCache::default();
        let t = token(
            serde_json::json!({"role": "service", "exp": now() + 60}),
            SECRET,
        );
        // An entry whose window has closed (as if kept from long ago), marked to be recognised.
        let marker = AuthContext {
            db_role: "kea_anon",
            claims_json: Arc::from("{}"),
            authenticated: true,
        };
        let stale = Window {
            exp: Some((now() - 31) as f64),
            nbf: None,
        };
        cache
            .lock()
            .insert(t.clone().into(), (marker.clone(), stale));
        let fresh = cached(&cache, &format!("Bearer {t}")).unwrap();
        assert_eq!(fresh.db_role, "kea_service");
        // Within its window, the entry is what answers.
        let open = Window {
            exp: Some((now() - 29) as f64),
            nbf: None,
        };
        cache
            .lock()
            .insert(t.clone().into(), (marker.clone(), open));
        assert_eq!(cached(&cache, &format!("Bearer {t}")).unwrap(), marker);
        let expired = token(
            serde_json::json!({"role": "service", "exp": now() - 40}),
            SECRET,
        );
        let e = cached(&cache, &format!("Bearer {expired}")).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("PGRST301", "JWT expired")
        );
    }

    #[test]
    fn windows_follow_the_leeway_rule() {
        let n = now() as f64;
        let w = |exp: Option<f64>, nbf: Option<f64>| Window { exp, nbf }.admits(n);
        assert!(w(None, None));
        assert!(w(Some(n - 30.0), None));
        assert!(!w(Some(n - 31.0), None));
        assert!(w(None, Some(n + 30.0)));
        assert!(!w(None, Some(n + 31.0)));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = JwtCache::default();
        for i in 0..JWT_CACHE_CAPACITY + 10 {
            let t = token(serde_json::json!({"role": "service", "n": i}), SECRET);
            cached(&cache, &format!("Bearer {t}")).unwrap();
        }
        assert!(cache.lock().len() <= JWT_CACHE_CAPACITY);
    }

    fn base64_url(s: &str) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
