#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::io::IsTerminal;
use std::time::Duration;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request, StatusCode};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (the default on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = TelemetryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "" | "text" | "pretty" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(TelemetryError::BadFormat(other.to_owned())),
        }
    }
}

/// Problems setting up telemetry.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `KEA_LOG_FORMAT` named a format that does not exist.
    #[error("unknown log format `{0}` (expected `text` or `json`)")]
    BadFormat(String),
    /// `KEA_LOG` is not a valid filter.
    #[error("invalid log filter `{filter}`: {reason}")]
    BadFilter {
        /// The filter as given.
        filter: String,
        /// What the parser said.
        reason: String,
    },
    /// A subscriber was already installed.
    #[error("the tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// Installs the global subscriber: `filter` in `EnvFilter` syntax (`info`, `kea=debug,sqlx=warn`),
/// logs on stderr so stdout stays for what commands print for people.
pub fn init(filter: &str, format: LogFormat) -> Result<(), TelemetryError> {
    let env_filter = EnvFilter::try_new(filter).map_err(|e| TelemetryError::BadFilter {
        filter: filter.to_owned(),
        reason: e.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    result.map_err(|_| TelemetryError::AlreadyInstalled)
}

/// A subscriber for tests: logs go to the test's captured output; safe to call more than once.
pub fn init_for_test() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("KEA_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` with what every kea HTTP server has: an `x-request-id` (kept from the request or
/// made up, and echoed back), one span per request named by its matched route, and a `timeout` after
/// which the request gets 503, so shutdown drains in bounded time.
pub fn http_layers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    timeout: Duration,
) -> Router<S> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<_>| {
            let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("unmatched");
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", http.method = %req.method(), http.route = route, request.id = id)
        })
        .on_request(())
        .on_failure(DefaultOnFailure::new().level(Level::WARN));
    // One stack, applied once: each `Router::layer` call boxes and clones every route's service
    // again per request, so four calls cost four allocations and indirections per request.
    // Outermost first: the id is set, then echoed, then the span opens, then the timeout runs.
    router.layer(
        tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(trace)
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                timeout,
            )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats_parse_and_unknown_ones_are_named() {
        assert_eq!("json".parse::<LogFormat>().ok(), Some(LogFormat::Json));
        assert_eq!("TEXT".parse::<LogFormat>().ok(), Some(LogFormat::Text));
        let err = "yaml".parse::<LogFormat>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown log format `yaml` (expected `text` or `json`)")
        );
    }

    #[test]
    fn a_bad_filter_is_reported_with_its_text() {
        let err = init("kea=notalevel", LogFormat::Text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("kea=notalevel"), "{err}");
    }
}
