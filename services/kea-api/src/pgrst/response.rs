//! [`DbResult`] → HTTP response: status (200, 206, 406, 416), `Content-Range`, `Content-Type` and
//! the body PostgreSQL produced. Pure.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::error::PgrstError;
use super::exec::DbResult;
use super::plan::Plan;
use super::request::MediaType;

/// The response to a read.
pub fn respond(plan: &Plan, res: DbResult) -> Result<Response, PgrstError> {
    if plan.media == MediaType::SingleObject && res.page_count != 1 {
        return Err(PgrstError::singular(res.page_count));
    }
    let lower = i64::try_from(plan.root.range.offset).unwrap_or(i64::MAX);
    let (status, content_range) = range_status(lower, res.page_count, res.total)?;
    let content_type = match plan.media {
        MediaType::SingleObject => "application/vnd.pgrst.object+json; charset=utf-8",
        MediaType::Json => "application/json; charset=utf-8",
        MediaType::Csv => "text/csv; charset=utf-8",
    };
    let body = if plan.headers_only {
        Body::empty()
    } else {
        Body::from(res.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&content_range) {
        h.insert(header::CONTENT_RANGE, v);
    }
    h.insert("range-unit", HeaderValue::from_static("items"));
    Ok(response)
}

/// PostgREST's status and `Content-Range` for `page_count` rows from `lower` out of `total`.
pub fn range_status(
    lower: i64,
    page_count: i64,
    total: Option<i64>,
) -> Result<(StatusCode, String), PgrstError> {
    let upper = lower + page_count - 1;
    let total_s = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
    let range_s = if total != Some(0) && lower <= upper {
        format!("{lower}-{upper}")
    } else {
        "*".to_owned()
    };
    let status = match total {
        None => StatusCode::OK,
        Some(t) if lower > t => {
            return Err(PgrstError::range(
                "Requested range not satisfiable",
                format!("An offset of {lower} was requested, but there are only {t} rows."),
            ));
        }
        Some(t) if page_count < t => StatusCode::PARTIAL_CONTENT,
        Some(_) => StatusCode::OK,
    };
    Ok((status, format!("{range_s}/{total_s}")))
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn content_range_follows_postgrest() {
        let ok = |l, p, t| range_status(l, p, t).unwrap();
        assert_eq!(ok(0, 15, None), (StatusCode::OK, "0-14/*".to_owned()));
        assert_eq!(ok(0, 0, None), (StatusCode::OK, "*/*".to_owned()));
        assert_eq!(ok(0, 0, Some(0)), (StatusCode::OK, "*/0".to_owned()));
        assert_eq!(ok(0, 10, Some(10)), (StatusCode::OK, "0-9/10".to_owned()));
        assert_eq!(
            ok(5, 5, Some(20)),
            (StatusCode::PARTIAL_CONTENT, "5-9/20".to_owned())
        );
        assert_eq!(
            ok(20, 0, Some(20)),
            (StatusCode::PARTIAL_CONTENT, "*/20".to_owned())
        );
        let e = range_status(30, 0, Some(20)).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (416, "PGRST103"));
    }
}
