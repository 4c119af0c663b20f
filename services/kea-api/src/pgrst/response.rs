//! [`DbResult`] → HTTP response: status (200, 201, 204, 206, 406, 416), `Content-Range`,
//! `Content-Type`, `Location`, `Preference-Applied` and the body PostgreSQL produced. Pure.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::error::PgrstError;
use super::exec::DbResult;
use super::plan::{MutatePlan, Plan, PlanKind};
use super::request::{Action, CountPref, MediaType, Resolution, ReturnPref};

/// The response to a read, write or call.
pub fn respond(plan: &Plan, res: DbResult) -> Result<Response, PgrstError> {
    match &plan.kind {
        PlanKind::Read => respond_read(plan, res),
        PlanKind::Call(c) if c.returns_void => {
            let mut r = empty(StatusCode::NO_CONTENT);
            set_header(
                &mut r,
                header::CONTENT_RANGE.as_str(),
                &format!("*/{}", total_text(res.total)),
            );
            set_preference(&mut r, plan.prefer.applied(false, false, false));
            Ok(r)
        }
        PlanKind::Call(_) => respond_read(plan, res),
        PlanKind::Mutate(m) => respond_mutation(plan, m, res),
    }
}

fn respond_read(plan: &Plan, res: DbResult) -> Result<Response, PgrstError> {
    if plan.media == MediaType::SingleObject && res.page_count != 1 {
        return Err(PgrstError::singular(res.page_count));
    }
    let lower = i64::try_from(plan.root.range.offset).unwrap_or(i64::MAX);
    let (status, content_range) = range_status(lower, res.page_count, res.total)?;
    let body = if plan.headers_only {
        Body::empty()
    } else {
        Body::from(res.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(plan.media)),
    );
    if let Ok(v) = HeaderValue::from_str(&content_range) {
        h.insert(header::CONTENT_RANGE, v);
    }
    h.insert("range-unit", HeaderValue::from_static("items"));
    set_preference(&mut response, plan.prefer.applied(false, false, false));
    Ok(response)
}

fn content_type(media: MediaType) -> &'static str {
    match media {
        MediaType::SingleObject => "application/vnd.pgrst.object+json; charset=utf-8",
        MediaType::Json => "application/json; charset=utf-8",
        MediaType::Csv => "text/csv; charset=utf-8",
    }
}

fn total_text(total: Option<i64>) -> String {
    total.map_or_else(|| "*".to_owned(), |t| t.to_string())
}

fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn set_preference(r: &mut Response, applied: Option<String>) {
    if let Some(v) = applied {
        set_header(r, "preference-applied", &v);
    }
}

/// The response to a write, as PostgREST's `Response.hs` shapes it: POST 201 (200 when a
/// merge-duplicates upsert inserted nothing), PATCH/DELETE 204 or 200 with
/// `return=representation`, PUT 204, or 201/200 (inserted/replaced) with a representation.
fn respond_mutation(plan: &Plan, m: &MutatePlan, res: DbResult) -> Result<Response, PgrstError> {
    if plan.media == MediaType::SingleObject && res.page_count != 1 {
        return Err(PgrstError::singular(res.page_count));
    }
    let full = m.returning == ReturnPref::Representation;
    let counted = matches!(plan.count, Some(CountPref::Exact | CountPref::Estimated));
    let total = counted.then_some(res.page_count);
    let inserted_any = res.inserted.is_none_or(|n| n > 0);
    let (status, content_range, applied) = match m.action {
        Action::Insert => {
            let status =
                if !inserted_any && plan.prefer.resolution == Some(Resolution::MergeDuplicates) {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
            let resolution = m.on_conflict.is_some();
            (
                status,
                Some(format!("*/{}", total_text(total))),
                plan.prefer.applied(resolution, true, true),
            )
        }
        Action::Update | Action::Delete => {
            let status = if full {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            };
            // PostgREST: PATCH says which rows (`0-1/*`), DELETE only the total.
            let range = if m.action == Action::Update && res.page_count > 0 {
                format!("0-{}/{}", res.page_count - 1, total_text(total))
            } else {
                format!("*/{}", total_text(total))
            };
            (
                status,
                Some(range),
                plan.prefer.applied(false, m.action == Action::Update, true),
            )
        }
        Action::SingleUpsert => {
            let status = match (full, inserted_any) {
                (false, _) => StatusCode::NO_CONTENT,
                (true, true) => StatusCode::CREATED,
                (true, false) => StatusCode::OK,
            };
            (status, None, plan.prefer.applied(false, false, true))
        }
        Action::Read { .. } | Action::Call { .. } => return Err(PgrstError::internal()),
    };
    let location = if m.returning == ReturnPref::HeadersOnly
        && m.action == Action::Insert
        && res.page_count == 1
    {
        location(&m.table, &res.body)
    } else {
        None
    };
    let mut r = if full {
        let mut r = Response::new(Body::from(res.body));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(plan.media)),
        );
        r
    } else {
        Response::new(Body::empty())
    };
    *r.status_mut() = status;
    if let Some(range) = content_range {
        set_header(&mut r, header::CONTENT_RANGE.as_str(), &range);
    }
    if let Some(location) = location {
        set_header(&mut r, header::LOCATION.as_str(), &location);
    }
    set_preference(&mut r, applied);
    Ok(r)
}

/// `Location: /table?pk=eq.value` of the one row inserted, from `[{"pk": value}]`.
fn location(table: &str, keys_json: &str) -> Option<String> {
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(keys_json).ok()?;
    let [row] = rows.as_slice() else {
        return None;
    };
    let pairs: Vec<String> = row
        .iter()
        .map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}=eq.{}", url_encode(k), url_encode(&value))
        })
        .collect();
    Some(format!("/{table}?{}", pairs.join("&")))
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
