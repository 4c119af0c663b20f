//! The data API's read connections: a [`DirectPool`] of their own whose connections remember the
//! role and claims they last set, so a read costs one round trip when they have not changed.
//!
//! Why not sqlx's pool: it pings every connection as it is returned (a round trip per request,
//! paid by PostgreSQL and by us), and it cannot tell us what a connection's session settings are.
//!
//! Tenancy rests on one invariant: a connection's recorded [`Settings`] are either `None` (not
//! known: they are sent again before the next statement) or exactly what its session has. So:
//! - the record is cleared *before* `set_config` is sent and written only after it succeeded;
//! - a statement that could change session settings (a function call) clears it;
//! - a connection whose request was cancelled mid-statement, or that failed with anything but a
//!   plain database error, is closed rather than reused (its protocol state is unknown:
//!   [`kea_store::direct`]);
//! - these connections run nothing but the data API's reads.

use kea_store::direct::DirectPool;

/// Sets the role and the claims for the rest of the session (`is_local = false`: a read is one
/// statement in its own implicit transaction, made read-only by the third setting).
const SESSION_SETTINGS: &str = "SELECT set_config('role', $1, false), \
     set_config('request.jwt.claims', $2, false), \
     set_config('default_transaction_read_only', 'on', false)";

/// The role and claims a connection's session has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    role: &'static str,
    claims: String,
}

/// The pool: each connection carries its session's settings, when known.
pub type ReadPool = DirectPool<Option<Settings>>;

/// One connection lent to one read.
pub type Lease = kea_store::direct::Lease<Option<Settings>>;

/// Makes the session's role and claims `role` and `claims`, unless they already are.
pub async fn set(lease: &mut Lease, role: &'static str, claims: &str) -> Result<(), sqlx::Error> {
    if lease
        .state
        .as_ref()
        .is_some_and(|s| s.role == role && s.claims == claims)
    {
        return Ok(());
    }
    lease.state = None;
    let result = sqlx::query(SESSION_SETTINGS)
        .bind(role)
        .bind(claims)
        .execute(lease.start()?)
        .await
        .map(|_| ());
    lease.finish(&result);
    if result.is_ok() {
        lease.state = Some(Settings {
            role,
            claims: claims.to_owned(),
        });
    }
    result
}
