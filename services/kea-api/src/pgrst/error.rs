//! The one error type of the data API, rendered in PostgREST's shape.
//!
//! Every stage returns [`PgrstError`]; the handler turns it into a response with
//! [`PgrstError::into_response`]. Codes are PostgREST's (`PGRST1xx` request, `PGRST2xx` schema
//! cache, `PGRST3xx` JWT) or a PostgreSQL SQLSTATE passed through with PostgREST's status mapping.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to a data-API client as `{"code", "message", "details", "hint"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PgrstError {
    /// The HTTP status.
    #[serde(skip)]
    pub status: StatusCode,
    /// `PGRSTnnn` or a SQLSTATE.
    pub code: String,
    /// What went wrong, one sentence.
    pub message: String,
    /// The input or condition that caused it, if useful.
    pub details: Option<String>,
    /// What the client may do about it.
    pub hint: Option<String>,
}

impl PgrstError {
    /// An error with `code`, `status` and `message`, no details or hint.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: None,
            hint: None,
        }
    }

    /// Adds details.
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// PGRST100: the query string (or a header with the same grammar) does not parse.
    pub fn parse(message: impl Into<String>, details: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PGRST100", message).details(details)
    }

    /// PGRST103: an invalid or unsatisfiable range.
    pub fn range(message: impl Into<String>, details: impl Into<String>) -> Self {
        Self::new(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", message).details(details)
    }

    /// PGRST116: a single object was asked for and the result has `rows` rows.
    pub fn singular(rows: i64) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "PGRST116",
            "Cannot coerce the result to a single JSON object",
        )
        .details(format!("The result contains {rows} rows"))
    }

    /// PGRST117: a verb this server does not support on this resource.
    pub fn unsupported_method(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PGRST117",
            format!("Unsupported HTTP method: {method}"),
        )
    }

    /// PGRST101: a function is called with a verb other than GET, HEAD or POST.
    pub fn rpc_method() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PGRST101",
            "For functions, only GET and POST verbs are allowed",
        )
    }

    /// PGRST102: the body is not the JSON the action takes.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PGRST102", message)
    }

    /// PGRST105: a PUT whose filters are not `eq` on exactly the primary-key columns.
    pub fn invalid_put() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PGRST105",
            "Filters must include all and only primary key columns with 'eq' operators",
        )
    }

    /// PGRST114: `limit`/`offset` on a PUT.
    pub fn put_range() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST114",
            "limit/offset querystring parameters are not allowed for PUT",
        )
    }

    /// PGRST115: the body of a PUT names another row than its filters.
    pub fn put_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST115",
            "Payload values do not match URL in primary key column(s)",
        )
    }

    /// PGRST204: a body key or `columns=`/`on_conflict=` name that `table` does not have.
    pub fn no_column_in_cache(table: &str, column: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST204",
            format!("Could not find the '{column}' column of '{table}' in the schema cache"),
        )
    }

    /// PGRST202: no function of schema `api` has this name and these argument names.
    pub fn no_function(name: &str, args: &[String]) -> Self {
        let listed = args.join(", ");
        Self::new(
            StatusCode::NOT_FOUND,
            "PGRST202",
            format!("Could not find the function api.{name}({listed}) in the schema cache"),
        )
        .details(format!(
            "Searched for the function api.{name} with parameters {listed} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache."
        ))
    }

    /// PGRST203: more than one overload of a function takes these argument names.
    pub fn ambiguous_function(name: &str) -> Self {
        Self::new(
            StatusCode::MULTIPLE_CHOICES,
            "PGRST203",
            format!("Could not choose the best candidate function between the overloads of api.{name}"),
        )
        .hint("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
    }

    /// PGRST108: a filter or order names an embedded resource the select does not include.
    pub fn not_embedded(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST108",
            format!("'{name}' is not an embedded resource in this request"),
        )
        .hint(format!(
            "Verify that '{name}' is included in the 'select' query parameter."
        ))
    }

    /// PGRST200: no foreign key relates `parent` and `child`.
    pub fn no_relationship(parent: &str, child: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST200",
            format!(
                "Could not find a relationship between '{parent}' and '{child}' in the schema cache"
            ),
        )
        .details(format!(
            "Searched for a foreign key relationship between '{parent}' and '{child}' in the schema 'api', but no matches were found."
        ))
    }

    /// PGRST201: more than one foreign key relates `parent` and `child`.
    pub fn ambiguous_relationship(parent: &str, child: &str, candidates: &[String]) -> Self {
        Self::new(
            StatusCode::MULTIPLE_CHOICES,
            "PGRST201",
            format!("Could not embed because more than one relationship was found for '{parent}' and '{child}'"),
        )
        .details(candidates.join(", "))
        .hint(format!("Try changing '{child}' to one of: {}", candidates.join(", ")))
    }

    /// PGRST205: the table or view is not in schema `api`.
    pub fn no_table(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "PGRST205",
            format!("Could not find the table 'api.{name}' in the schema cache"),
        )
    }

    /// 42703 as PostgreSQL words it: a column that `table` does not have.
    pub fn no_column(table: &str, column: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "42703",
            format!("column {table}.{column} does not exist"),
        )
    }

    /// 42704 as PostgreSQL words it: a cast to a type this server does not allow.
    pub fn no_type(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "42704",
            format!("type \"{name}\" does not exist"),
        )
    }

    /// PGRST002: the schema cache could not be loaded.
    pub fn schema_cache_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PGRST002",
            "Could not query the database for the schema cache. Retrying.",
        )
    }

    /// PGRST300: the server has no JWT secret configured.
    pub fn no_jwt_secret() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PGRST300",
            "Server lacks JWT secret",
        )
    }

    /// PGRST301: the JWT is malformed, badly signed, expired or not yet valid.
    pub fn jwt(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "PGRST301", message)
    }

    /// PGRST003/PGRST000: the database could not be reached.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PGRST000",
            "Database connection error. Retrying the connection.",
        )
    }

    /// An internal failure; the response says nothing about it beyond its kind.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PGRSTX00",
            "Internal error",
        )
    }

    /// A PostgreSQL error passed through, with PostgREST's status for its SQLSTATE.
    /// `authenticated` decides 42501: 403 with a token, 401 without.
    pub fn from_sqlstate(
        code: &str,
        message: &str,
        details: Option<&str>,
        hint: Option<&str>,
        authenticated: bool,
    ) -> Self {
        // Without a token, PostgreSQL's "permission denied" says nothing of tokens: say how to
        // send one (and how to make one on a developer's machine).
        let hint = match (code, authenticated, hint) {
            ("42501", false, None) => Some(
                "Send a token: `Authorization: Bearer <JWT signed with KEA_JWT_SECRET>`, \
                 with a role claim (service, merchant, agent). With kea dev: `kea token --role service`."
                    .to_owned(),
            ),
            _ => hint.map(str::to_owned),
        };
        Self {
            status: status_for_sqlstate(code, authenticated),
            code: code.to_owned(),
            message: message.to_owned(),
            details: details.map(str::to_owned),
            hint,
        }
    }
}

/// PostgREST's table from SQLSTATE to HTTP status (docs: references/errors, "HTTP Status Codes").
pub fn status_for_sqlstate(code: &str, authenticated: bool) -> StatusCode {
    let class = code.get(..2).unwrap_or("");
    match code {
        "23503" | "23505" => return StatusCode::CONFLICT,
        "25006" => return StatusCode::METHOD_NOT_ALLOWED,
        "53400" => return StatusCode::INTERNAL_SERVER_ERROR,
        "P0001" => return StatusCode::BAD_REQUEST,
        "42883" | "42P01" => return StatusCode::NOT_FOUND,
        "42P17" => return StatusCode::INTERNAL_SERVER_ERROR,
        "42501" if authenticated => return StatusCode::FORBIDDEN,
        "42501" => return StatusCode::UNAUTHORIZED,
        _ => {}
    }
    if let Some(custom) = code.strip_prefix("PT")
        && let Ok(n) = custom.parse::<u16>()
        && let Ok(status) = StatusCode::from_u16(n)
    {
        return status;
    }
    match class {
        "08" | "53" => StatusCode::SERVICE_UNAVAILABLE,
        "0L" | "0P" | "28" => StatusCode::FORBIDDEN,
        "09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "54" | "55" | "57" | "58" | "F0"
        | "HV" | "P0" | "XX" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl std::fmt::Display for PgrstError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for PgrstError {}

impl IntoResponse for PgrstError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750, as PostgREST answers an invalid or missing token.
            let value = if self.code == "PGRST301" {
                "Bearer error=\"invalid_token\""
            } else {
                "Bearer"
            };
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_statuses_follow_postgrest() {
        for (code, auth, status) in [
            ("23505", true, 409),
            ("23503", true, 409),
            ("42501", true, 403),
            ("42501", false, 401),
            ("22P02", true, 400),
            ("42P01", true, 404),
            ("08006", true, 503),
            ("40001", true, 500),
            ("PT402", true, 402),
            ("P0001", true, 400),
            ("P0002", true, 500),
            ("23502", true, 400),
            ("23514", true, 400),
            ("25006", true, 405),
            ("42P10", true, 400),
        ] {
            assert_eq!(status_for_sqlstate(code, auth).as_u16(), status, "{code}");
        }
    }

    #[test]
    fn body_has_postgrest_shape() {
        let e = PgrstError::parse("bad", "here");
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"code": "PGRST100", "message": "bad", "details": "here", "hint": null})
        );
    }
}
