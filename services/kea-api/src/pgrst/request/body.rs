//! The request body of a write or of `POST /rpc/…`: [`parse_body`] reads it into a [`Payload`].

use super::types::{Action, ApiRequest, Payload};
use crate::pgrst::error::PgrstError;

/// Reads the body of a write or call into `req.payload`.
///
/// Inserts take an object or an array of objects (as PostgREST: every object with the same keys,
/// unless `columns=` names the keys to take); PATCH and PUT take one object; `POST /rpc/f` an
/// object of named arguments (an empty body is no arguments). Reads ignore the body.
pub fn parse_body(req: &mut ApiRequest, body: &[u8]) -> Result<(), PgrstError> {
    let call_post = matches!(req.action, Action::Call { read: false, .. });
    if !req.action.is_mutation() && !call_post {
        return Ok(());
    }
    if req.action == Action::Delete {
        return Ok(());
    }
    let is_blank = body.iter().all(u8::is_ascii_whitespace);
    if call_post && is_blank {
        req.payload = Some(Payload::Args(serde_json::Map::new()));
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| PgrstError::invalid_body("Empty or invalid json").details(e.to_string()))?;
    if call_post {
        return match value {
            serde_json::Value::Object(m) => {
                req.payload = Some(Payload::Args(m));
                Ok(())
            }
            _ => Err(PgrstError::invalid_body(
                "The arguments of a function call must be a JSON object",
            )),
        };
    }
    let (rows, single) = match value {
        serde_json::Value::Object(m) => (vec![m], true),
        serde_json::Value::Array(items) if req.action == Action::Insert => {
            let mut rows = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    serde_json::Value::Object(m) => rows.push(m),
                    _ => {
                        return Err(PgrstError::invalid_body(
                            "All elements of the array must be JSON objects",
                        ));
                    }
                }
            }
            (rows, false)
        }
        _ => {
            return Err(PgrstError::invalid_body(match req.action {
                Action::Insert => "The body must be a JSON object or an array of JSON objects",
                _ => "The body must be a JSON object",
            }));
        }
    };
    let keys: Vec<String> = match &req.columns {
        Some(cols) => cols.clone(),
        None => {
            let first: Vec<String> = rows
                .first()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            if rows
                .iter()
                .any(|r| r.len() != first.len() || !first.iter().all(|k| r.contains_key(k)))
            {
                return Err(PgrstError::invalid_body("All object keys must match"));
            }
            first
        }
    };
    req.payload = Some(Payload::Rows { rows, keys, single });
    Ok(())
}
