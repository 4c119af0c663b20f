//! The request's data types: [`ApiRequest`] and what it is made of (actions, select items,
//! filters and logic trees, order terms, ranges, media types and the values of `Prefer`), with
//! their small impls.

use super::prefer::Preferences;

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
    /// The request body of a write or of `POST /rpc/…`, once [`parse_body`](super::parse_body)
    /// has read it.
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

    pub(super) fn from_name(s: &str) -> Option<SimpleOp> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, op)| *op)
    }

    /// Whether `(any)`/`(all)` may modify it (as PostgREST: the comparison and pattern ones).
    pub(super) fn quantifiable(self) -> bool {
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
