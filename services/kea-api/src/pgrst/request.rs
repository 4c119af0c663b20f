//! HTTP request → [`ApiRequest`]: the query-string grammar of PostgREST, parsed without touching
//! the schema (the planner checks names against the schema cache).
//!
//! Pure: no I/O, no panics on any input (a proptest checks that). Errors are PGRST100 (the query
//! string does not parse), PGRST103 (a bad range), PGRST102 (a body that is not the JSON the
//! action takes) and PGRST101 (a verb a function does not take).

use std::fmt;

use axum::http::{HeaderMap, Method, header};

use super::error::PgrstError;

/// What a client asked of the data API, as far as the request alone says.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// What to do.
    pub action: Action,
    /// The table or view of schema `api`, from the path.
    pub resource: String,
    /// `select=`; `[Star]` when absent.
    pub select: Vec<SelectItem>,
    /// Filters (`col=op.value`, `or=(…)`), each with the embedding path it applies to
    /// (empty for the top-level resource).
    pub filters: Vec<(Vec<String>, LogicTree)>,
    /// `order=` (and `rel.order=`), by embedding path.
    pub orders: Vec<(Vec<String>, Vec<OrderTerm>)>,
    /// `limit`/`offset` (and `rel.limit`), by embedding path.
    pub ranges: Vec<(Vec<String>, RowRange)>,
    /// The top-level range: the `Range` header intersected with top-level `limit`/`offset`.
    pub top_range: RowRange,
    /// `Prefer: count=…`.
    pub count: Option<CountPref>,
    /// The representation asked for with `Accept`.
    pub accept: MediaType,
    /// The `Prefer` header.
    pub prefer: Preferences,
    /// `columns=`: the body keys to write (all others are ignored).
    pub columns: Option<Vec<String>>,
    /// `on_conflict=`: the unique columns an upsert resolves on (default: the primary key).
    pub on_conflict: Option<Vec<String>>,
    /// The request body of a write or of `POST /rpc/…`, once [`parse_body`] has read it.
    pub payload: Option<Payload>,
    /// `GET /rpc/f?…`: the top-level parameters that are not reserved words, unparsed. The
    /// planner knows the function's arguments: those are arguments, the others filters.
    pub rpc_params: Vec<(String, String)>,
    /// Whether `limit`/`offset` appeared in the query string (for PATCH and DELETE, which ignore
    /// the `Range` header as PostgREST does).
    pub query_limited: bool,
}

/// What a write or call sends in its body: JSON, already checked for shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Rows to write: one object or an array of objects with the same keys.
    Rows {
        /// The rows.
        rows: Vec<serde_json::Map<String, serde_json::Value>>,
        /// Their keys (the same for every row unless `columns=` says which to take).
        keys: Vec<String>,
        /// Whether the body was a single object (not an array).
        single: bool,
    },
    /// The named arguments of a function call.
    Args(serde_json::Map<String, serde_json::Value>),
}

/// The preferences of the `Prefer` header kea honours (the first of each kind wins, as in
/// PostgREST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Preferences {
    /// `count=…`.
    pub count: Option<CountPref>,
    /// `return=…`.
    pub representation: Option<ReturnPref>,
    /// `resolution=…`.
    pub resolution: Option<Resolution>,
    /// `missing=default` (`Some(true)`) or `missing=null`.
    pub missing_default: Option<bool>,
    /// `tx=rollback` (`Some(true)`) or `tx=commit`.
    pub rollback: Option<bool>,
}

impl Preferences {
    /// Parses every `Prefer` header.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut p = Preferences::default();
        let items = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim);
        for item in items {
            match item {
                "count=exact" => p.count = p.count.or(Some(CountPref::Exact)),
                "count=planned" => p.count = p.count.or(Some(CountPref::Planned)),
                "count=estimated" => p.count = p.count.or(Some(CountPref::Estimated)),
                "return=minimal" => {
                    p.representation = p.representation.or(Some(ReturnPref::Minimal))
                }
                "return=headers-only" => {
                    p.representation = p.representation.or(Some(ReturnPref::HeadersOnly));
                }
                "return=representation" => {
                    p.representation = p.representation.or(Some(ReturnPref::Representation));
                }
                "resolution=merge-duplicates" => {
                    p.resolution = p.resolution.or(Some(Resolution::MergeDuplicates));
                }
                "resolution=ignore-duplicates" => {
                    p.resolution = p.resolution.or(Some(Resolution::IgnoreDuplicates));
                }
                "missing=default" => p.missing_default = p.missing_default.or(Some(true)),
                "missing=null" => p.missing_default = p.missing_default.or(Some(false)),
                "tx=rollback" => p.rollback = p.rollback.or(Some(true)),
                "tx=commit" => p.rollback = p.rollback.or(Some(false)),
                _ => {}
            }
        }
        p
    }

    /// The `Preference-Applied` value for the preferences an action honoured, in PostgREST's
    /// order (resolution, missing, return, count, tx); `None` when there is none.
    pub fn applied(&self, resolution: bool, missing: bool, representation: bool) -> Option<String> {
        let mut v: Vec<&str> = Vec::new();
        if resolution && let Some(r) = self.resolution {
            v.push(match r {
                Resolution::MergeDuplicates => "resolution=merge-duplicates",
                Resolution::IgnoreDuplicates => "resolution=ignore-duplicates",
            });
        }
        if missing && let Some(m) = self.missing_default {
            v.push(if m { "missing=default" } else { "missing=null" });
        }
        if representation && let Some(r) = self.representation {
            v.push(match r {
                ReturnPref::Minimal => "return=minimal",
                ReturnPref::HeadersOnly => "return=headers-only",
                ReturnPref::Representation => "return=representation",
            });
        }
        if let Some(c) = self.count {
            v.push(match c {
                CountPref::Exact => "count=exact",
                CountPref::Planned => "count=planned",
                CountPref::Estimated => "count=estimated",
            });
        }
        if let Some(r) = self.rollback {
            v.push(if r { "tx=rollback" } else { "tx=commit" });
        }
        (!v.is_empty()).then(|| v.join(", "))
    }
}

/// `Prefer: return=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPref {
    /// No body (the default).
    Minimal,
    /// No body, a `Location` header for a single inserted row.
    HeadersOnly,
    /// The written rows, shaped by `select=`.
    Representation,
}

/// `Prefer: resolution=…`: what an insert does with a row whose key exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Update the existing row (`ON CONFLICT … DO UPDATE`).
    MergeDuplicates,
    /// Keep the existing row (`ON CONFLICT … DO NOTHING`).
    IgnoreDuplicates,
}

/// The action of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// GET (or HEAD: headers only) of a table or view.
    Read {
        /// HEAD: no body.
        headers_only: bool,
    },
    /// POST to a table or view: insert (or upsert with `Prefer: resolution`).
    Insert,
    /// PATCH: update the rows matching the filters.
    Update,
    /// DELETE: delete the rows matching the filters.
    Delete,
    /// PUT: insert or replace the one row the primary-key filters name.
    SingleUpsert,
    /// `/rpc/<function>`: call a function of schema `api`.
    Call {
        /// GET or HEAD (arguments in the query string) rather than POST (a JSON object).
        read: bool,
        /// HEAD: no body.
        headers_only: bool,
    },
}

impl Action {
    /// Whether the action writes rows of a table (POST, PATCH, DELETE, PUT).
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            Action::Insert | Action::Update | Action::Delete | Action::SingleUpsert
        )
    }
}

/// `Prefer: count=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountPref {
    /// `count=exact`: `count(*)` with the request's filters.
    Exact,
    /// `count=planned`: the planner's estimate (counted exactly for now).
    Planned,
    /// `count=estimated`: exact for small results, planned for large (counted exactly for now).
    Estimated,
}

/// The response representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json` (the default): an array.
    Json,
    /// `application/vnd.pgrst.object+json`: exactly one object, else 406 PGRST116.
    SingleObject,
    /// `text/csv`: a header line of column names, then one line per row.
    Csv,
}

/// Rows `offset ..` with at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowRange {
    /// The first row (0-based).
    pub offset: u64,
    /// How many rows at most; `None` for all.
    pub limit: Option<u64>,
}

impl RowRange {
    /// The rows in both ranges.
    pub fn intersect(self, other: RowRange) -> RowRange {
        let offset = self.offset.max(other.offset);
        let end = |r: RowRange| r.limit.map(|l| r.offset.saturating_add(l));
        let end = match (end(self), end(other)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        RowRange {
            offset,
            limit: end.map(|e| e.saturating_sub(offset)),
        }
    }
}

/// One item of `select=`.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`: every column.
    Star,
    /// `alias:col->json->>path::cast`.
    Field {
        /// The output key, if renamed.
        alias: Option<String>,
        /// The column and JSON path.
        field: Field,
        /// A type to cast to.
        cast: Option<String>,
    },
    /// `alias:rel!hint!inner(select)`: a related resource embedded through a foreign key.
    Embed(Embed),
}

/// An embedded resource in `select=`.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    /// The output key, if renamed.
    pub alias: Option<String>,
    /// The related table or view.
    pub name: String,
    /// `!hint`: a foreign key constraint or column name that picks one relationship.
    pub hint: Option<String>,
    /// `!inner`: only parent rows that have a matching related row.
    pub inner: bool,
    /// The embedded select; empty means "filter only, not in the output".
    pub select: Vec<SelectItem>,
}

impl Embed {
    /// The key this embedding is known by in the output and in `rel.col=` filters.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// A column with an optional JSON path (`payload->items->0->>sku`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The column.
    pub name: String,
    /// The JSON path, outermost first.
    pub json_path: Vec<JsonOp>,
}

impl Field {
    /// The output key PostgREST gives the field: the last JSON key, else the column name.
    pub fn default_key(&self) -> String {
        match self.json_path.last() {
            Some(JsonOp::Arrow(k) | JsonOp::DoubleArrow(k)) => match k {
                JsonKey::Key(s) => s.clone(),
                JsonKey::Index(_) => self.name.clone(),
            },
            None => self.name.clone(),
        }
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonOp {
    /// `->`: the JSON value.
    Arrow(JsonKey),
    /// `->>`: the value as text.
    DoubleArrow(JsonKey),
}

/// A JSON object key or array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonKey {
    /// An object key.
    Key(String),
    /// An array index (negative counts from the end).
    Index(i64),
}

/// A filter or a boolean combination of filters.
#[derive(Debug, Clone, PartialEq)]
pub enum LogicTree {
    /// `and(…)` / `or(…)`, possibly negated.
    Expr {
        /// `not.and(…)`.
        negated: bool,
        /// And or or.
        op: LogicOp,
        /// The operands.
        children: Vec<LogicTree>,
    },
    /// One filter.
    Stmt(Filter),
}

/// `and` or `or`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    /// All must hold.
    And,
    /// One must hold.
    Or,
}

/// `field=not.op.value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The column filtered.
    pub field: Field,
    /// `not.`.
    pub negated: bool,
    /// The operator and operand.
    pub op: Operation,
}

/// An operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// A binary operator and one value (`eq.5`).
    Simple {
        /// The operator.
        op: SimpleOp,
        /// The value, as sent.
        value: String,
    },
    /// A binary operator over a list with `(any)`/`(all)`: `like(any).{a*,b*}`.
    Quantified {
        /// The operator.
        op: SimpleOp,
        /// any or all.
        quantifier: Quantifier,
        /// The values.
        values: Vec<String>,
    },
    /// `in.(a,"b,c")`.
    In(Vec<String>),
    /// `is.null|not_null|true|false|unknown`.
    Is(IsValue),
    /// `fts(lang).words` and its siblings.
    Fts {
        /// Which tsquery builder.
        op: FtsOp,
        /// The text search configuration, if given.
        language: Option<String>,
        /// The query text.
        value: String,
    },
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimpleOp {
    /// `=`
    Eq,
    /// `<>`
    Neq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `LIKE` (`*` is `%`)
    Like,
    /// `ILIKE` (`*` is `%`)
    Ilike,
    /// `~`
    Match,
    /// `~*`
    Imatch,
    /// `IS DISTINCT FROM`
    IsDistinct,
    /// `@>`
    Cs,
    /// `<@`
    Cd,
    /// `&&`
    Ov,
    /// `<<`
    Sl,
    /// `>>`
    Sr,
    /// `&<`
    Nxr,
    /// `&>`
    Nxl,
    /// `-|-`
    Adj,
}

impl SimpleOp {
    const ALL: [(&'static str, SimpleOp); 19] = [
        ("eq", SimpleOp::Eq),
        ("neq", SimpleOp::Neq),
        ("gt", SimpleOp::Gt),
        ("gte", SimpleOp::Gte),
        ("lt", SimpleOp::Lt),
        ("lte", SimpleOp::Lte),
        ("like", SimpleOp::Like),
        ("ilike", SimpleOp::Ilike),
        ("match", SimpleOp::Match),
        ("imatch", SimpleOp::Imatch),
        ("isdistinct", SimpleOp::IsDistinct),
        ("cs", SimpleOp::Cs),
        ("cd", SimpleOp::Cd),
        ("ov", SimpleOp::Ov),
        ("sl", SimpleOp::Sl),
        ("sr", SimpleOp::Sr),
        ("nxr", SimpleOp::Nxr),
        ("nxl", SimpleOp::Nxl),
        ("adj", SimpleOp::Adj),
    ];

    fn from_name(s: &str) -> Option<SimpleOp> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, op)| *op)
    }

    /// Whether `(any)`/`(all)` may modify it (as PostgREST: the comparison and pattern ones).
    fn quantifiable(self) -> bool {
        matches!(
            self,
            SimpleOp::Eq
                | SimpleOp::Neq
                | SimpleOp::Gt
                | SimpleOp::Gte
                | SimpleOp::Lt
                | SimpleOp::Lte
                | SimpleOp::Like
                | SimpleOp::Ilike
                | SimpleOp::Match
                | SimpleOp::Imatch
        )
    }
}

/// `(any)` or `(all)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// At least one value matches.
    Any,
    /// Every value matches.
    All,
}

/// The operand of `is`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    /// `is.null`
    Null,
    /// `is.not_null`
    NotNull,
    /// `is.true`
    True,
    /// `is.false`
    False,
    /// `is.unknown`
    Unknown,
}

/// Full-text search operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsOp {
    /// `to_tsquery`
    Fts,
    /// `plainto_tsquery`
    Plfts,
    /// `phraseto_tsquery`
    Phfts,
    /// `websearch_to_tsquery`
    Wfts,
}

/// One term of `order=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// The column (and JSON path) ordered by.
    pub field: Field,
    /// `.desc`.
    pub descending: bool,
    /// `.nullsfirst` (`Some(true)`) or `.nullslast` (`Some(false)`).
    pub nulls_first: Option<bool>,
}

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

/// Decodes `a=1&b=%20x+y` into pairs (`+` is a space, as PostgREST's query parser does).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A character cursor over one parameter value.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn error(&self, what: &str) -> PgrstError {
        let at = self.s.get(..self.pos).unwrap_or("").chars().count() + 1;
        let details = if self.at_end() {
            format!("unexpected end of input at character {at}")
        } else {
            let near: String = self.rest().chars().take(16).collect();
            format!("unexpected \"{near}\" at character {at}")
        };
        PgrstError::parse(format!("failed to parse {what} ({})", self.s), details)
    }
    /// An identifier: letters, digits, `_`, `$`, or a double-quoted name.
    fn ident(&mut self, what: &str) -> Result<String, PgrstError> {
        if self.peek() == Some('"') {
            self.bump();
            let mut out = String::new();
            loop {
                match self.bump() {
                    Some('"') => break,
                    Some('\\') => match self.bump() {
                        Some(c) => out.push(c),
                        None => return Err(self.error(what)),
                    },
                    Some(c) => out.push(c),
                    None => return Err(self.error(what)),
                }
            }
            if out.is_empty() {
                return Err(self.error(what));
            }
            return Ok(out);
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            self.bump();
        }
        if self.pos == start {
            return Err(self.error(what));
        }
        Ok(self.s.get(start..self.pos).unwrap_or("").to_owned())
    }
}

/// Parses `select=` (PostgREST's `pRequestSelect`).
pub fn parse_select(s: &str) -> Result<Vec<SelectItem>, PgrstError> {
    let mut c = Cursor::new(s);
    c.skip_ws();
    if c.at_end() {
        return Ok(vec![SelectItem::Star]);
    }
    let items = select_list(&mut c, 0)?;
    if !c.at_end() {
        return Err(c.error("select parameter"));
    }
    Ok(items)
}

const MAX_DEPTH: usize = 16;

fn select_list(c: &mut Cursor<'_>, depth: usize) -> Result<Vec<SelectItem>, PgrstError> {
    if depth > MAX_DEPTH {
        return Err(c.error("select: too deeply nested"));
    }
    let mut items = Vec::new();
    loop {
        c.skip_ws();
        items.push(select_item(c, depth)?);
        c.skip_ws();
        if !c.eat(",") {
            return Ok(items);
        }
    }
}

fn select_item(c: &mut Cursor<'_>, depth: usize) -> Result<SelectItem, PgrstError> {
    if c.eat("*") {
        return Ok(SelectItem::Star);
    }
    let first = c.ident("select parameter")?;
    // `alias:` (but not the `::` of a cast)
    let (alias, name) = if c.rest().starts_with(':') && !c.rest().starts_with("::") {
        c.bump();
        c.skip_ws();
        (Some(first), c.ident("select parameter")?)
    } else {
        (None, first)
    };
    if c.peek() == Some('!') || c.peek() == Some('(') {
        let mut hint = None;
        let mut inner = false;
        while c.eat("!") {
            let m = c.ident("select: embed hint")?;
            match m.as_str() {
                "inner" => inner = true,
                "left" => inner = false,
                _ if hint.is_none() => hint = Some(m),
                _ => return Err(c.error("select: more than one embed hint")),
            }
        }
        if !c.eat("(") {
            return Err(c.error("select parameter"));
        }
        c.skip_ws();
        let select = if c.eat(")") {
            Vec::new()
        } else {
            let items = select_list(c, depth + 1)?;
            c.skip_ws();
            if !c.eat(")") {
                return Err(c.error("select parameter"));
            }
            items
        };
        return Ok(SelectItem::Embed(Embed {
            alias,
            name,
            hint,
            inner,
            select,
        }));
    }
    let json_path = json_path(c)?;
    let cast = if c.eat("::") {
        Some(c.ident("select: cast")?)
    } else {
        None
    };
    Ok(SelectItem::Field {
        alias,
        field: Field { name, json_path },
        cast,
    })
}

fn json_path(c: &mut Cursor<'_>) -> Result<Vec<JsonOp>, PgrstError> {
    let mut path = Vec::new();
    loop {
        let double = if c.eat("->>") {
            true
        } else if c.eat("->") {
            false
        } else {
            return Ok(path);
        };
        let start = c.pos;
        let negative = c.eat("-");
        let key = if !negative && c.peek() == Some('"') {
            JsonKey::Key(c.ident("json path")?)
        } else {
            let tok = c.ident("json path")?;
            let digits = c.s.get(start..c.pos).unwrap_or("");
            match digits.parse::<i64>() {
                Ok(i) if tok.chars().all(|ch| ch.is_ascii_digit()) => JsonKey::Index(i),
                _ if negative => return Err(c.error("json path")),
                _ => JsonKey::Key(tok),
            }
        };
        path.push(if double {
            JsonOp::DoubleArrow(key)
        } else {
            JsonOp::Arrow(key)
        });
    }
}

/// Parses one `key=value` query parameter as a filter (`col=op.value`), as [`parse`] does for a
/// key that is not a reserved word.
pub fn parse_filter(key: &str, value: &str) -> Result<LogicTree, PgrstError> {
    let field = parse_field_str(key)?;
    Ok(LogicTree::Stmt(parse_filter_value(field, value)?))
}

/// Parses a filter's column part (`col` or `col->a->>b`) from a query key.
fn parse_field_str(s: &str) -> Result<Field, PgrstError> {
    let mut c = Cursor::new(s);
    let name = c.ident("filter")?;
    let json_path = json_path(&mut c)?;
    if !c.at_end() {
        return Err(PgrstError::parse(
            format!("failed to parse filter ({s})"),
            format!("unexpected \"{}\" after the column name", c.rest()),
        ));
    }
    Ok(Field { name, json_path })
}

/// Parses the right side of `col=…`: `not.`? operator `.` value.
fn parse_filter_value(field: Field, value: &str) -> Result<Filter, PgrstError> {
    let err = || {
        PgrstError::parse(
            format!("failed to parse filter ({value})"),
            format!(
                "unknown operator or malformed value in {}={value}",
                field.name
            ),
        )
    };
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (op_token, operand) = rest.split_once('.').ok_or_else(err)?;
    let op = operation(op_token, operand, false).ok_or_else(err)?;
    Ok(Filter { field, negated, op })
}

/// Builds an operation from its token (`eq`, `like(any)`, `fts(english)`) and operand text.
/// `in_logic`: the operand came from inside `or=(…)`, where quotes around it are removed.
fn operation(op_token: &str, operand: &str, in_logic: bool) -> Option<Operation> {
    let (name, arg) = match op_token.split_once('(') {
        Some((n, a)) => (n, Some(a.strip_suffix(')')?)),
        None => (op_token, None),
    };
    let unquote = |s: &str| if in_logic { unquote(s) } else { s.to_owned() };
    match name {
        "in" if arg.is_none() => Some(Operation::In(list(operand, '(', ')')?)),
        "is" if arg.is_none() => Some(Operation::Is(match operand.to_ascii_lowercase().as_str() {
            "null" => IsValue::Null,
            "not_null" => IsValue::NotNull,
            "true" => IsValue::True,
            "false" => IsValue::False,
            "unknown" => IsValue::Unknown,
            _ => return None,
        })),
        "fts" | "plfts" | "phfts" | "wfts" => {
            let op = match name {
                "fts" => FtsOp::Fts,
                "plfts" => FtsOp::Plfts,
                "phfts" => FtsOp::Phfts,
                _ => FtsOp::Wfts,
            };
            let language = match arg {
                Some(l) if !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                    Some(l.to_owned())
                }
                Some(_) => return None,
                None => None,
            };
            Some(Operation::Fts {
                op,
                language,
                value: unquote(operand),
            })
        }
        _ => {
            let op = SimpleOp::from_name(name)?;
            match arg {
                None => Some(Operation::Simple {
                    op,
                    value: unquote(operand),
                }),
                Some(q) if op.quantifiable() => {
                    let quantifier = match q {
                        "any" => Quantifier::Any,
                        "all" => Quantifier::All,
                        _ => return None,
                    };
                    Some(Operation::Quantified {
                        op,
                        quantifier,
                        values: list(operand, '{', '}')?,
                    })
                }
                Some(_) => None,
            }
        }
    }
}

fn unquote(s: &str) -> String {
    if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        s.to_owned()
    }
}

/// `(a,"b,c",d)` (or with braces) → items; double quotes protect commas and parentheses.
fn list(s: &str, open: char, close: char) -> Option<Vec<String>> {
    let inner = s.strip_prefix(open)?.strip_suffix(close)?;
    let mut items = Vec::new();
    if inner.is_empty() {
        return Some(items);
    }
    let mut c = Cursor::new(inner);
    loop {
        let item = if c.peek() == Some('"') {
            c.bump();
            let mut out = String::new();
            loop {
                match c.bump()? {
                    '"' => break,
                    '\\' => out.push(c.bump()?),
                    ch => out.push(ch),
                }
            }
            out
        } else {
            let start = c.pos;
            while c.peek().is_some_and(|ch| ch != ',') {
                c.bump();
            }
            inner.get(start..c.pos)?.to_owned()
        };
        items.push(item);
        if c.at_end() {
            return Some(items);
        }
        if !c.eat(",") {
            return None;
        }
    }
}

/// Parses the value of `or=`/`and=`: `(operand,operand,…)`.
pub fn parse_logic_operands(s: &str) -> Result<Vec<LogicTree>, PgrstError> {
    let mut c = Cursor::new(s);
    let children = logic_group(&mut c, 0)?;
    if !c.at_end() {
        return Err(c.error("logic tree"));
    }
    Ok(children)
}

fn logic_group(c: &mut Cursor<'_>, depth: usize) -> Result<Vec<LogicTree>, PgrstError> {
    if depth > MAX_DEPTH {
        return Err(c.error("logic tree: too deeply nested"));
    }
    if !c.eat("(") {
        return Err(c.error("logic tree"));
    }
    let mut children = Vec::new();
    loop {
        c.skip_ws();
        children.push(logic_operand(c, depth)?);
        c.skip_ws();
        if c.eat(")") {
            return Ok(children);
        }
        if !c.eat(",") {
            return Err(c.error("logic tree"));
        }
    }
}

fn logic_operand(c: &mut Cursor<'_>, depth: usize) -> Result<LogicTree, PgrstError> {
    let negated = c.eat("not.");
    for (word, op) in [("and(", LogicOp::And), ("or(", LogicOp::Or)] {
        if c.rest().starts_with(word) {
            c.pos += word.len() - 1;
            let children = logic_group(c, depth + 1)?;
            return Ok(LogicTree::Expr {
                negated,
                op,
                children,
            });
        }
    }
    if negated {
        // `not.` belonged to the filter after the field: put it back.
        c.pos -= 4;
    }
    let name = c.ident("logic tree")?;
    let json_path = json_path(c)?;
    if !c.eat(".") {
        return Err(c.error("logic tree"));
    }
    let negated = c.eat("not.");
    let op_start = c.pos;
    while c.peek().is_some_and(|ch| ch != '.') {
        if c.peek() == Some('(') {
            // `like(any)` / `fts(english)`
            while c.peek().is_some_and(|ch| ch != ')') {
                c.bump();
            }
        }
        c.bump();
    }
    let op_token = c.s.get(op_start..c.pos).unwrap_or("").to_owned();
    if !c.eat(".") {
        return Err(c.error("logic tree"));
    }
    // The operand: a quoted string, a (list) or {list}, or text up to `,` or `)`.
    let start = c.pos;
    match c.peek() {
        Some('"') => {
            c.bump();
            loop {
                match c.bump() {
                    Some('"') => break,
                    Some('\\') => {
                        c.bump();
                    }
                    Some(_) => {}
                    None => return Err(c.error("logic tree: unclosed quote")),
                }
            }
        }
        Some(open @ ('(' | '{')) => {
            let close = if open == '(' { ')' } else { '}' };
            c.bump();
            let mut quoted = false;
            loop {
                match c.bump() {
                    Some('"') => quoted = !quoted,
                    Some('\\') if quoted => {
                        c.bump();
                    }
                    Some(ch) if ch == close && !quoted => break,
                    Some(_) => {}
                    None => return Err(c.error("logic tree: unclosed list")),
                }
            }
        }
        _ => {
            while c.peek().is_some_and(|ch| ch != ',' && ch != ')') {
                c.bump();
            }
        }
    }
    let operand = c.s.get(start..c.pos).unwrap_or("");
    let op = operation(&op_token, operand, true).ok_or_else(|| c.error("logic tree operator"))?;
    Ok(LogicTree::Stmt(Filter {
        field: Field { name, json_path },
        negated,
        op,
    }))
}

/// Parses `order=col.desc.nullslast,other`.
pub fn parse_order(s: &str) -> Result<Vec<OrderTerm>, PgrstError> {
    let err = || {
        PgrstError::parse(
            format!("failed to parse order ({s})"),
            "expected col, col.asc|desc, col.nullsfirst|nullslast or col.asc|desc.nullsfirst|nullslast",
        )
    };
    let mut terms = Vec::new();
    for term in s.split(',') {
        let mut c = Cursor::new(term.trim());
        let name = c.ident("order").map_err(|_| err())?;
        let json_path = json_path(&mut c).map_err(|_| err())?;
        let mut descending = false;
        let mut nulls_first = None;
        let mut seen_dir = false;
        while c.eat(".") {
            let word = c.ident("order").map_err(|_| err())?;
            match word.as_str() {
                "asc" | "desc" if !seen_dir && nulls_first.is_none() => {
                    seen_dir = true;
                    descending = word == "desc";
                }
                "nullsfirst" if nulls_first.is_none() => nulls_first = Some(true),
                "nullslast" if nulls_first.is_none() => nulls_first = Some(false),
                _ => return Err(err()),
            }
        }
        if !c.at_end() {
            return Err(err());
        }
        terms.push(OrderTerm {
            field: Field { name, json_path },
            descending,
            nulls_first,
        });
    }
    Ok(terms)
}

/// `Range: 0-19` (or `items=0-19`; `Range-Unit` other than `items` is ignored as PostgREST does).
fn parse_range_header(headers: &HeaderMap) -> Result<Option<RowRange>, PgrstError> {
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

fn parse_accept(headers: &HeaderMap) -> Result<MediaType, PgrstError> {
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

// ---- printing: the inverse of the parsers (for round-trip tests and logs) ----

fn fmt_ident(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    {
        f.write_str(s)
    } else {
        f.write_str("\"")?;
        for ch in s.chars() {
            if ch == '"' || ch == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{ch}")?;
        }
        f.write_str("\"")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ident(f, &self.name)?;
        for op in &self.json_path {
            let (arrow, key) = match op {
                JsonOp::Arrow(k) => ("->", k),
                JsonOp::DoubleArrow(k) => ("->>", k),
            };
            f.write_str(arrow)?;
            match key {
                JsonKey::Index(i) => write!(f, "{i}")?,
                JsonKey::Key(k) if k.parse::<i64>().is_ok() || k.starts_with('-') => {
                    write!(f, "\"{k}\"")?
                }
                JsonKey::Key(k) => fmt_ident(f, k)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for SelectItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Star => f.write_str("*"),
            SelectItem::Field { alias, field, cast } => {
                if let Some(a) = alias {
                    fmt_ident(f, a)?;
                    f.write_str(":")?;
                }
                write!(f, "{field}")?;
                if let Some(c) = cast {
                    f.write_str("::")?;
                    fmt_ident(f, c)?;
                }
                Ok(())
            }
            SelectItem::Embed(e) => {
                if let Some(a) = &e.alias {
                    fmt_ident(f, a)?;
                    f.write_str(":")?;
                }
                fmt_ident(f, &e.name)?;
                if let Some(h) = &e.hint {
                    f.write_str("!")?;
                    fmt_ident(f, h)?;
                }
                if e.inner {
                    f.write_str("!inner")?;
                }
                f.write_str("(")?;
                write_select(f, &e.select)?;
                f.write_str(")")
            }
        }
    }
}

/// Prints a select list as `select=` takes it.
pub fn write_select(f: &mut impl fmt::Write, items: &[SelectItem]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(name: &str) -> Field {
        Field {
            name: name.to_owned(),
            json_path: vec![],
        }
    }

    fn req(q: &str) -> Result<ApiRequest, PgrstError> {
        parse(&Method::GET, "orders", Some(q), &HeaderMap::new())
    }

    #[test]
    fn select_grammar() {
        let items = parse_select("id,total:total_cents,created_at::text,order_items(*),c:calls!inner(call_sid,call_events(seq,kind)),p:payload->a->>b,x->0").unwrap();
        assert_eq!(items.len(), 7);
        assert_eq!(
            items[0],
            SelectItem::Field {
                alias: None,
                field: field("id"),
                cast: None
            }
        );
        assert_eq!(
            items[1],
            SelectItem::Field {
                alias: Some("total".into()),
                field: field("total_cents"),
                cast: None
            }
        );
        assert_eq!(
            items[2],
            SelectItem::Field {
                alias: None,
                field: field("created_at"),
                cast: Some("text".into())
            }
        );
        let SelectItem::Embed(e) = &items[3] else {
            panic!("{:?}", items[3])
        };
        assert_eq!(
            (e.name.as_str(), e.select.as_slice()),
            ("order_items", &[SelectItem::Star][..])
        );
        let SelectItem::Embed(e) = &items[4] else {
            panic!("{:?}", items[4])
        };
        assert!(e.inner);
        assert_eq!(e.key(), "c");
        assert!(matches!(&e.select[1], SelectItem::Embed(inner) if inner.name == "call_events"));
        let SelectItem::Field { field, .. } = &items[5] else {
            panic!()
        };
        assert_eq!(
            field.json_path,
            vec![
                JsonOp::Arrow(JsonKey::Key("a".into())),
                JsonOp::DoubleArrow(JsonKey::Key("b".into()))
            ]
        );
        let SelectItem::Field { field, .. } = &items[6] else {
            panic!()
        };
        assert_eq!(field.json_path, vec![JsonOp::Arrow(JsonKey::Index(0))]);
        for bad in [
            "id,",
            "order_items(",
            "a:b:c",
            "id;drop table x",
            "(x)",
            "a!inner",
            "x::",
        ] {
            let e = parse_select(bad).unwrap_err();
            assert_eq!(e.code, "PGRST100", "{bad}");
        }
    }

    #[test]
    fn filters_and_operators() {
        let r = req("status=eq.confirmed&total_cents=not.gt.100&id=in.(a,\"b,c\")&notes=is.null&name=like.*pizza*&order_items.quantity=gte.2&tags=cs.{a,b}&name=ilike(any).{a*,b*}&x=fts(english).cat").unwrap();
        assert_eq!(r.filters.len(), 9);
        assert_eq!(
            r.filters[0].1,
            LogicTree::Stmt(Filter {
                field: field("status"),
                negated: false,
                op: Operation::Simple {
                    op: SimpleOp::Eq,
                    value: "confirmed".into()
                }
            })
        );
        assert!(matches!(
            &r.filters[1].1,
            LogicTree::Stmt(Filter {
                negated: true,
                op: Operation::Simple {
                    op: SimpleOp::Gt,
                    ..
                },
                ..
            })
        ));
        assert_eq!(
            r.filters[2].1,
            LogicTree::Stmt(Filter {
                field: field("id"),
                negated: false,
                op: Operation::In(vec!["a".into(), "b,c".into()])
            })
        );
        assert!(matches!(
            &r.filters[3].1,
            LogicTree::Stmt(Filter {
                op: Operation::Is(IsValue::Null),
                ..
            })
        ));
        assert_eq!(r.filters[5].0, vec!["order_items".to_owned()]);
        assert!(
            matches!(&r.filters[7].1, LogicTree::Stmt(Filter { op: Operation::Quantified { quantifier: Quantifier::Any, values, .. }, .. }) if values.len() == 2)
        );
        assert!(
            matches!(&r.filters[8].1, LogicTree::Stmt(Filter { op: Operation::Fts { language: Some(l), .. }, .. }) if l == "english")
        );
        // A value keeps its dots.
        let r = req("ip=eq.1.2.3.4").unwrap();
        assert!(
            matches!(&r.filters[0].1, LogicTree::Stmt(Filter { op: Operation::Simple { value, .. }, .. }) if value == "1.2.3.4")
        );
        for bad in [
            "status=confirmed",
            "status=zz.1",
            "id=in.1,2",
            "x=is.maybe",
            "x=eq(some).{1}",
            "a;b=eq.1",
        ] {
            assert_eq!(req(bad).unwrap_err().code, "PGRST100", "{bad}");
        }
    }

    #[test]
    fn logic_trees_nest() {
        let r = req("or=(status.eq.confirmed,and(total_cents.gt.100,not.or(notes.is.null,name.in.(\"a,b\",c))),name.eq.\"x,y)\")").unwrap();
        let LogicTree::Expr {
            op: LogicOp::Or,
            negated: false,
            children,
        } = &r.filters[0].1
        else {
            panic!()
        };
        assert_eq!(children.len(), 3);
        let LogicTree::Expr {
            op: LogicOp::And,
            children: and,
            ..
        } = &children[1]
        else {
            panic!()
        };
        assert!(matches!(
            &and[1],
            LogicTree::Expr {
                negated: true,
                op: LogicOp::Or,
                ..
            }
        ));
        let LogicTree::Expr {
            children: inner, ..
        } = &and[1]
        else {
            panic!()
        };
        assert_eq!(
            inner[1],
            LogicTree::Stmt(Filter {
                field: field("name"),
                negated: false,
                op: Operation::In(vec!["a,b".into(), "c".into()])
            })
        );
        assert_eq!(
            children[2],
            LogicTree::Stmt(Filter {
                field: field("name"),
                negated: false,
                op: Operation::Simple {
                    op: SimpleOp::Eq,
                    value: "x,y)".into()
                }
            })
        );
        let r = req("order_items.not.and=(quantity.gt.1,notes.not.is.null)").unwrap();
        assert_eq!(r.filters[0].0, vec!["order_items".to_owned()]);
        assert!(matches!(
            &r.filters[0].1,
            LogicTree::Expr {
                negated: true,
                op: LogicOp::And,
                ..
            }
        ));
        for bad in [
            "or=(a.eq.1",
            "or=a.eq.1",
            "or=(a.eq.1,)",
            "or=(a)",
            "and=(a.eq.\"x)",
        ] {
            assert_eq!(req(bad).unwrap_err().code, "PGRST100", "{bad}");
        }
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

    #[test]
    fn percent_decoding() {
        assert_eq!(
            query_pairs("a=%22x%2Cy%22&b=1+2&c=%zz&d"),
            vec![
                ("a".into(), "\"x,y\"".into()),
                ("b".into(), "1 2".into()),
                ("c".into(), "%zz".into()),
                ("d".into(), "".into())
            ]
        );
    }

    /// Names as callers write them: plain, or any printable ASCII in double quotes except a
    /// double quote or a backslash, which a quoted name in PostgREST's select cannot hold.
    fn arb_ident() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z_][a-z0-9_]{0,8}", "[ !#-\\[\\]-~]{1,6}"]
    }

    fn arb_select(depth: u32) -> BoxedStrategy<Vec<SelectItem>> {
        let field = (
            proptest::option::of(arb_ident()),
            arb_ident(),
            proptest::collection::vec(
                prop_oneof![
                    arb_ident().prop_map(|k| JsonOp::Arrow(JsonKey::Key(k))),
                    (0i64..5).prop_map(|i| JsonOp::DoubleArrow(JsonKey::Index(i))),
                ],
                0..3,
            ),
            proptest::option::of("[a-z]{1,6}"),
        )
            .prop_map(|(alias, name, json_path, cast)| SelectItem::Field {
                alias,
                field: Field { name, json_path },
                cast,
            });
        let leaf = prop_oneof![Just(SelectItem::Star), field].boxed();
        let item = if depth == 0 {
            leaf
        } else {
            prop_oneof![
                3 => leaf,
                1 => (proptest::option::of(arb_ident()), arb_ident(), proptest::option::of("[a-z]{1,5}"), any::<bool>(), arb_select(depth - 1))
                    .prop_filter("hint words are modifiers", |(_, _, h, _, _)| !matches!(h.as_deref(), Some("inner" | "left")))
                    .prop_map(|(alias, name, hint, inner, select)| SelectItem::Embed(Embed { alias, name, hint, inner, select })),
            ]
            .boxed()
        };
        proptest::collection::vec(item, 1..4).boxed()
    }

    proptest! {
        #[test]
        fn no_panic_on_any_query(q in "\\PC{0,60}", range in "\\PC{0,12}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = range.parse() { h.insert("range", v); }
            let _ = parse(&Method::GET, "orders", Some(&q), &h);
        }

        #[test]
        fn no_panic_on_grammar_like_input(q in "[a-z_.,:!()*\"{}\\\\=&>-]{0,50}") {
            let _ = parse(&Method::GET, "orders", Some(&q), &HeaderMap::new());
            let _ = parse_select(&q);
            let _ = parse_logic_operands(&q);
            let _ = parse_order(&q);
        }

        #[test]
        fn select_round_trips(items in arb_select(2)) {
            let mut printed = String::new();
            write_select(&mut printed, &items).unwrap();
            let normalize = |items: Vec<SelectItem>| items;
            // An embed with an empty select prints as `rel()` and parses back the same.
            prop_assert_eq!(normalize(parse_select(&printed).unwrap()), items, "{}", printed);
        }
    }
}
