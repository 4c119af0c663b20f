//! Data-API tokens made by kea itself (`kea token`, the `kea dev` banner): HS256 JWTs with the
//! claims the data API reads (`role`, and `merchant_id` or `worker_id` for tenancy).

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use uuid::Uuid;

/// Who a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything (kea's own tools, a merchant's back office acting for all its stores).
    Service,
    /// One merchant's stores, menus and orders.
    Merchant(Uuid),
    /// One agent's tasks and the orders behind them.
    Agent(Uuid),
}

/// Why no token was made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The signing secret is too short to be safe.
    #[error("the signing secret must be at least 32 bytes")]
    WeakSecret,
    /// Signing failed.
    #[error("signing the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// A token for `role`, valid for `ttl_secs` from `now_secs` (Unix seconds), signed with `secret`.
///
/// # Errors
/// A secret shorter than 32 bytes, or a signing failure.
pub fn mint(secret: &str, role: Role, now_secs: i64, ttl_secs: i64) -> Result<String, TokenError> {
    if secret.len() < 32 {
        return Err(TokenError::WeakSecret);
    }
    let mut claims = serde_json::json!({"iat": now_secs, "exp": now_secs + ttl_secs});
    match role {
        Role::Service => claims["role"] = "service".into(),
        Role::Merchant(id) => {
            claims["role"] = "merchant".into();
            claims["merchant_id"] = id.to_string().into();
        }
        Role::Agent(id) => {
            claims["role"] = "agent".into();
            claims["worker_id"] = id.to_string().into();
        }
    }
    Ok(encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}
