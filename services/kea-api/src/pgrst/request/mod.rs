//! HTTP request → [`ApiRequest`]: the query-string grammar of PostgREST, parsed without touching
//! the schema (the planner checks names against the schema cache).
//!
//! Pure: no I/O, no panics on any input (a proptest checks that). Errors are PGRST100 (the query
//! string does not parse), PGRST103 (a bad range), PGRST102 (a body that is not the JSON the
//! action takes) and PGRST101 (a verb a function does not take).
//!
//! Split as PostgREST splits its `ApiRequest`: [`types`] (the data), [`grammar`] (the query
//! string), [`prefer`] (the `Prefer` header), [`headers`] (`Range` and `Accept`) and [`body`]
//! (the request body); this module builds an [`ApiRequest`] from method, path, query and headers.

mod body;
mod grammar;
mod headers;
mod prefer;
mod types;

use axum::http::{HeaderMap, Method};

pub use body::parse_body;
pub use grammar::parse_filter;
use grammar::{
    Cursor, parse_field_str, parse_filter_value, parse_logic_operands, parse_order, parse_select,
    query_pairs,
};
use headers::{parse_accept, parse_range_header};
pub use prefer::Preferences;
pub use types::{
    Action, ApiRequest, CountPref, Field, FtsOp, IsValue, JsonKey, JsonOp, LogicOp, LogicTree,
    MediaType, Operation, OrderTerm, Payload, Quantifier, Resolution, ReturnPref, RowRange,
    SelectItem, SimpleOp,
};

use super::error::PgrstError;

/// Parses a data-API request for `resource` (the path segment after `/rest/v1/`).
pub fn parse(
    method: &Method,
    resource: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ApiRequest, PgrstError> {
    let action = match *method {
        Method::GET => Action::Read {
            headers_only: false,
        },
        Method::HEAD => Action::Read { headers_only: true },
        Method::POST => Action::Insert,
        Method::PATCH => Action::Update,
        Method::DELETE => Action::Delete,
        Method::PUT => Action::SingleUpsert,
        ref other => return Err(PgrstError::unsupported_method(other.as_str())),
    };
    parse_action(action, resource, query, headers)
}

/// Parses a request for `/rpc/<function>`: GET and HEAD take the arguments in the query string,
/// POST as a JSON object (see [`parse_body`]); other verbs are PGRST101.
pub fn parse_rpc(
    method: &Method,
    function: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ApiRequest, PgrstError> {
    let action = match *method {
        Method::GET => Action::Call {
            read: true,
            headers_only: false,
        },
        Method::HEAD => Action::Call {
            read: true,
            headers_only: true,
        },
        Method::POST => Action::Call {
            read: false,
            headers_only: false,
        },
        _ => return Err(PgrstError::rpc_method()),
    };
    parse_action(action, function, query, headers)
}

fn parse_action(
    action: Action,
    resource: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ApiRequest, PgrstError> {
    let rpc_get = matches!(action, Action::Call { read: true, .. });
    let mut req = ApiRequest {
        action,
        resource: resource.to_owned(),
        select: vec![SelectItem::Star],
        filters: Vec::new(),
        orders: Vec::new(),
        ranges: Vec::new(),
        top_range: RowRange::default(),
        count: None,
        accept: MediaType::Json,
        prefer: Preferences::from_headers(headers),
        columns: None,
        on_conflict: None,
        payload: None,
        rpc_params: Vec::new(),
        query_limited: false,
    };
    let mut top = RowRange::default();
    for (key, value) in query_pairs(query.unwrap_or("")) {
        let parts: Vec<&str> = key.split('.').collect();
        let (path, last) = match parts.split_last() {
            Some((last, path)) => (path, *last),
            None => continue,
        };
        let path_owned = || path.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        match last {
            "select" if path.is_empty() => req.select = parse_select(&value)?,
            "order" => req.orders.push((path_owned(), parse_order(&value)?)),
            "limit" | "offset" => {
                let n: i64 = value.trim().parse().map_err(|_| {
                    PgrstError::parse(
                        format!("failed to parse {last} parameter ({value})"),
                        value.clone(),
                    )
                })?;
                if n < 0 {
                    let what = if last == "limit" { "Limit" } else { "Offset" };
                    return Err(PgrstError::range(
                        "Requested range not satisfiable",
                        format!("{what} should be greater than or equal to zero."),
                    ));
                }
                let n = n.unsigned_abs();
                if path.is_empty() {
                    req.query_limited = true;
                    if last == "limit" {
                        top.limit = Some(n);
                    } else {
                        top.offset = n;
                    }
                } else {
                    let p = path_owned();
                    let slot = match req.ranges.iter_mut().find(|(rp, _)| *rp == p) {
                        Some((_, r)) => r,
                        None => {
                            req.ranges.push((p, RowRange::default()));
                            &mut req.ranges.last_mut().ok_or_else(PgrstError::internal)?.1
                        }
                    };
                    if last == "limit" {
                        slot.limit = Some(n);
                    } else {
                        slot.offset = n;
                    }
                }
            }
            "and" | "or" => {
                let negated = path.last() == Some(&"not");
                let path = if negated {
                    &path[..path.len() - 1]
                } else {
                    path
                };
                let op = if last == "and" {
                    LogicOp::And
                } else {
                    LogicOp::Or
                };
                let children = parse_logic_operands(&value)?;
                req.filters.push((
                    path.iter().map(|s| (*s).to_owned()).collect(),
                    LogicTree::Expr {
                        negated,
                        op,
                        children,
                    },
                ));
            }
            // Ignored on reads, as PostgREST does.
            "columns" if path.is_empty() => req.columns = Some(parse_column_list(&value, last)?),
            "on_conflict" if path.is_empty() => {
                req.on_conflict = Some(parse_column_list(&value, last)?);
            }
            // A function argument or a filter: the planner tells them apart.
            _ if rpc_get && path.is_empty() => req.rpc_params.push((key.clone(), value)),
            _ => {
                let field = parse_field_str(last)?;
                let filter = parse_filter_value(field, &value)?;
                req.filters.push((path_owned(), LogicTree::Stmt(filter)));
            }
        }
    }
    // Writes ignore `Range`, as PostgREST does: only `limit`/`offset` bound them.
    req.top_range = if action.is_mutation() {
        top
    } else {
        parse_range_header(headers)?.map_or(top, |r| r.intersect(top))
    };
    req.count = req.prefer.count;
    req.accept = parse_accept(headers)?;
    Ok(req)
}

/// Parses `columns=`/`on_conflict=`: comma-separated column names (double quotes allowed).
fn parse_column_list(value: &str, what: &str) -> Result<Vec<String>, PgrstError> {
    let mut c = Cursor::new(value);
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        out.push(c.ident(&format!("{what} parameter"))?);
        c.skip_ws();
        if c.at_end() {
            return Ok(out);
        }
        if !c.eat(",") {
            return Err(c.error(&format!("{what} parameter")));
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use axum::http::header;
    use proptest::prelude::*;

    use super::*;

    /// A plain column (shared with the grammar's tests).
    pub(super) fn field(name: &str) -> Field {
        Field {
            name: name.to_owned(),
            json_path: vec![],
        }
    }

    /// A GET of `orders` with query `q` (shared with the grammar's tests).
    pub(super) fn req(q: &str) -> Result<ApiRequest, PgrstError> {
        parse(&Method::GET, "orders", Some(q), &HeaderMap::new())
    }

    #[test]
    fn order_limit_offset_range() {
        let r = req("order=created_at.desc.nullslast,id&order_items.order=line_no.asc&limit=10&offset=5&order_items.limit=2").unwrap();
        assert_eq!(
            r.orders[0].1,
            vec![
                OrderTerm {
                    field: field("created_at"),
                    descending: true,
                    nulls_first: Some(false)
                },
                OrderTerm {
                    field: field("id"),
                    descending: false,
                    nulls_first: None
                },
            ]
        );
        assert_eq!(r.orders[1].0, vec!["order_items".to_owned()]);
        assert_eq!(
            r.top_range,
            RowRange {
                offset: 5,
                limit: Some(10)
            }
        );
        assert_eq!(
            r.ranges,
            vec![(
                vec!["order_items".to_owned()],
                RowRange {
                    offset: 0,
                    limit: Some(2)
                }
            )]
        );
        assert_eq!(req("order=id.sideways").unwrap_err().code, "PGRST100");
        assert_eq!(req("limit=x").unwrap_err().code, "PGRST100");
        assert_eq!(req("limit=-1").unwrap_err().code, "PGRST103");

        let mut h = HeaderMap::new();
        h.insert("range", "0-19".parse().unwrap());
        h.insert("range-unit", "items".parse().unwrap());
        h.insert("prefer", "return=minimal, count=exact".parse().unwrap());
        h.insert(
            "accept",
            "application/vnd.pgrst.object+json".parse().unwrap(),
        );
        let r = parse(&Method::GET, "orders", Some("offset=5"), &h).unwrap();
        assert_eq!(
            r.top_range,
            RowRange {
                offset: 5,
                limit: Some(15)
            }
        );
        assert_eq!(r.count, Some(CountPref::Exact));
        assert_eq!(r.accept, MediaType::SingleObject);
        h.insert("range", "9-3".parse().unwrap());
        assert_eq!(
            parse(&Method::GET, "orders", None, &h).unwrap_err().code,
            "PGRST103"
        );
    }

    #[test]
    fn unknown_verbs_are_refused_clearly() {
        let e = parse(&Method::OPTIONS, "orders", None, &HeaderMap::new()).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (405, "PGRST117"));
        let e = parse_rpc(&Method::PATCH, "f", None, &HeaderMap::new()).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (405, "PGRST101"));
    }

    #[test]
    fn write_parameters_preferences_and_bodies() {
        let mut h = HeaderMap::new();
        h.insert(
            "prefer",
            "return=representation, resolution=merge-duplicates,missing=default"
                .parse()
                .unwrap(),
        );
        h.append(
            "prefer",
            "tx=rollback, return=minimal, count=exact".parse().unwrap(),
        );
        h.insert(header::RANGE, "0-1".parse().unwrap());
        let mut r = parse(
            &Method::POST,
            "orders",
            Some("columns=a,%22b+c%22&on_conflict=a&select=a"),
            &h,
        )
        .unwrap();
        assert_eq!(r.action, Action::Insert);
        assert_eq!(r.columns, Some(vec!["a".to_owned(), "b c".to_owned()]));
        assert_eq!(r.on_conflict, Some(vec!["a".to_owned()]));
        assert_eq!(r.top_range, RowRange::default(), "writes ignore Range");
        let p = r.prefer;
        assert_eq!(p.representation, Some(ReturnPref::Representation));
        assert_eq!(p.resolution, Some(Resolution::MergeDuplicates));
        assert_eq!((p.missing_default, p.rollback), (Some(true), Some(true)));
        assert_eq!(
            p.applied(true, true, true).as_deref(),
            Some(
                "resolution=merge-duplicates, missing=default, return=representation, count=exact, tx=rollback"
            )
        );
        parse_body(&mut r, br#"[{"a": 1}, {"x": 2}]"#).unwrap();
        let Some(Payload::Rows { rows, keys, single }) = &r.payload else {
            panic!()
        };
        assert_eq!((rows.len(), keys.len(), *single), (2, 2, false));
        for (q, body, code) in [
            ("", &b""[..], "PGRST102"),
            ("", b"{", "PGRST102"),
            ("", b"[1]", "PGRST102"),
            ("", br#"[{"a":1},{"b":1}]"#, "PGRST102"),
            ("columns=a,", b"{}", "PGRST100"),
            ("on_conflict=a);drop", b"{}", "PGRST100"),
        ] {
            let e = parse(&Method::POST, "orders", Some(q), &HeaderMap::new())
                .and_then(|mut r| parse_body(&mut r, body))
                .unwrap_err();
            assert_eq!(e.code, code, "{q} {body:?}");
        }
        let mut r = parse(&Method::PATCH, "orders", None, &HeaderMap::new()).unwrap();
        assert_eq!(parse_body(&mut r, b"[]").unwrap_err().code, "PGRST102");
        let mut r = parse_rpc(&Method::POST, "f", None, &HeaderMap::new()).unwrap();
        parse_body(&mut r, b" ").unwrap();
        assert_eq!(r.payload, Some(Payload::Args(serde_json::Map::new())));
        let r = parse_rpc(
            &Method::GET,
            "f",
            Some("a=1&b=eq.2&select=x&limit=1"),
            &HeaderMap::new(),
        )
        .unwrap();
        assert_eq!(
            r.rpc_params,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "eq.2".to_owned())
            ]
        );
        assert!(r.filters.is_empty());
    }

    proptest! {
        #[test]
        fn no_panic_on_any_query(q in "\\PC{0,60}", range in "\\PC{0,12}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = range.parse() { h.insert("range", v); }
            let _ = parse(&Method::GET, "orders", Some(&q), &h);
        }
    }
}
