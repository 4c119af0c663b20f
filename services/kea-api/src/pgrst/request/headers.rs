//! The `Range` (and `Range-Unit`) and `Accept` headers: the rows and the representation asked for.

use axum::http::{HeaderMap, header};

use super::types::{MediaType, RowRange};
use crate::pgrst::error::PgrstError;

/// `Range: 0-19` (or `items=0-19`; `Range-Unit` other than `items` is ignored as PostgREST does).
pub(super) fn parse_range_header(headers: &HeaderMap) -> Result<Option<RowRange>, PgrstError> {
    if let Some(unit) = headers.get("range-unit")
        && !unit.as_bytes().eq_ignore_ascii_case(b"items")
    {
        return Ok(None);
    }
    let Some(raw) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let spec = raw.trim();
    let spec = spec.strip_prefix("items=").unwrap_or(spec);
    let Some((lo, hi)) = spec.split_once('-') else {
        return Ok(None);
    };
    let Ok(lo) = lo.trim().parse::<u64>() else {
        return Ok(None);
    };
    let hi = hi.trim();
    if hi.is_empty() {
        return Ok(Some(RowRange {
            offset: lo,
            limit: None,
        }));
    }
    let Ok(hi) = hi.parse::<u64>() else {
        return Ok(None);
    };
    if lo > hi {
        return Err(PgrstError::range(
            "Requested range not satisfiable",
            "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        ));
    }
    Ok(Some(RowRange {
        offset: lo,
        limit: Some(hi - lo + 1),
    }))
}

pub(super) fn parse_accept(headers: &HeaderMap) -> Result<MediaType, PgrstError> {
    let Some(raw) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(MediaType::Json);
    };
    for part in raw.split(',') {
        let media = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => {
                return Ok(MediaType::SingleObject);
            }
            "" | "*/*" | "application/*" | "application/json" => return Ok(MediaType::Json),
            "text/csv" => return Ok(MediaType::Csv),
            _ => {}
        }
    }
    Err(PgrstError::new(
        axum::http::StatusCode::NOT_ACCEPTABLE,
        "PGRST107",
        format!("None of these media types are available: {raw}"),
    ))
}
